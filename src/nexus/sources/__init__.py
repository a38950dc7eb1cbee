"""Where data comes from. Each source yields :class:`SourceBatch` values.

Sources: ``simulator`` (the default, offline and deterministic: bars, news,
corporate actions and macro vintages), ``files`` (CSV/Parquet/zip), ``samples``
(real data shipped in installed packages), ``yahoo`` (yfinance), and the news and
macro feeds ``rss`` (RSS/Atom), ``newsapi`` (a NewsAPI-style search API) and
``fred`` (every vintage of FRED series). Each lives in its own sub-package with
the same file set (see ``_template/README.md``); the web sources share one HTTP
fetcher (``_http.py``: retries, Retry-After, a size cap).
"""

from nexus.sources._base import REJECT_COLUMNS, LiveSource, Source, SourceBatch, rejects_frame

__all__ = ["REJECT_COLUMNS", "LiveSource", "Source", "SourceBatch", "rejects_frame"]
