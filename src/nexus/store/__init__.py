"""Where Nexus keeps its data: one :class:`Store` protocol, DuckDB and PostgreSQL backends.

>>> from nexus.store import open_store
>>> with open_store("duckdb://:memory:") as store:
...     store.series().empty
True
"""

from nexus.store._adjust import adjust_bars
from nexus.store._duckdb import DuckDBStore
from nexus.store._open import open_store
from nexus.store._postgres import PostgresStore
from nexus.store._protocol import Adjust, IngestRecord, Store, WriteBatch, WriteResult

__all__ = [
    "Adjust",
    "DuckDBStore",
    "IngestRecord",
    "PostgresStore",
    "Store",
    "WriteBatch",
    "WriteResult",
    "adjust_bars",
    "open_store",
]
