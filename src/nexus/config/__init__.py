"""Settings from the environment and the base of typed, frozen configs."""

from nexus.config._base import FrozenConfig
from nexus.config._settings import Settings

__all__ = ["FrozenConfig", "Settings"]
