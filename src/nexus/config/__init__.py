"""Settings from the environment, the base of typed, frozen configs, YAML reading, logging."""

from nexus.config._base import FrozenConfig
from nexus.config._logging import (
    LOG_FORMATS,
    LOG_LEVELS,
    JsonFormatter,
    configure_logging,
    current_log_context,
    log_context,
)
from nexus.config._settings import Settings
from nexus.config._yaml import read_yaml

__all__ = [
    "LOG_FORMATS",
    "LOG_LEVELS",
    "FrozenConfig",
    "JsonFormatter",
    "Settings",
    "configure_logging",
    "current_log_context",
    "log_context",
    "read_yaml",
]
