"""Nexus: an AI quant analyst.

The spine, one sub-package per stage: ``domain`` (value types), ``config``
(settings), ``sources`` (where data comes from), ``store`` (where it lives),
``ingest`` (validation and loading), ``bus`` (events between stages), ``cli``.
Errors are in :mod:`nexus.errors`.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
