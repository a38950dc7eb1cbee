"""Settings from the environment, the base of typed, frozen configs, and YAML reading."""

from nexus.config._base import FrozenConfig
from nexus.config._settings import Settings
from nexus.config._yaml import read_yaml

__all__ = ["FrozenConfig", "Settings", "read_yaml"]
