"""Where data comes from. Each source yields :class:`SourceBatch` values.

Sources: ``simulator`` (the default, offline and deterministic), ``files``
(CSV/Parquet/zip), ``samples`` (real data shipped in installed packages) and
``yahoo`` (yfinance). Each lives in its own sub-package with the same file set
(see ``_template/README.md``).
"""

from nexus.sources._base import REJECT_COLUMNS, LiveSource, Source, SourceBatch, rejects_frame

__all__ = ["REJECT_COLUMNS", "LiveSource", "Source", "SourceBatch", "rejects_frame"]
