"""Open the store a URL or the settings name."""

from __future__ import annotations

from nexus.config import Settings
from nexus.errors import ConfigError
from nexus.store._protocol import Store

__all__ = ["open_store"]


def open_store(target: Settings | str) -> Store:
    """Open the store named by ``target``.

    Parameters
    ----------
    target : Settings or str
        Settings (their ``resolved_store_url`` is used) or a URL:
        ``duckdb:///abs/path.duckdb``, ``duckdb://:memory:``, or
        ``postgresql://user@host:port/database``.

    Raises
    ------
    ConfigError
        If the URL's scheme is not one Nexus knows.
    StoreUnavailableError
        If the database cannot be reached or is locked.

    Examples
    --------
    >>> store = open_store("duckdb://:memory:")
    >>> store.backend
    'duckdb'
    >>> store.close()
    """
    url = target.resolved_store_url if isinstance(target, Settings) else target
    if url.startswith("duckdb://"):
        from nexus.store._duckdb import DuckDBStore

        return DuckDBStore(url.removeprefix("duckdb://") or ":memory:")
    if url.startswith(("postgresql://", "postgres://")):
        from nexus.store._postgres import PostgresStore

        return PostgresStore(url)
    raise ConfigError(
        f"store URL {url!r} has an unknown scheme",
        fix="use duckdb:///path/to/file.duckdb or postgresql://user@host:5432/db",
    )
