"""Bars from local files: CSV, Parquet, folders of them and zip archives.

See :class:`FilesSource` for what is read and :class:`FilesConfig` for how
timestamps, symbols and intervals are interpreted.
"""

from nexus.sources.files._config import FilesConfig
from nexus.sources.files._source import FilesSource

__all__ = ["FilesConfig", "FilesSource"]
