"""The store contract runs against every backend: one ``store`` fixture per backend.

DuckDB runs on a file in the test's ``tmp_path``; PostgreSQL on a freshly
created database (``pg_url``), marked ``postgres``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nexus.store import Store, open_store

BACKENDS = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store of each backend."""
    if request.param == "duckdb":
        return f"duckdb://{tmp_path / 'store.duckdb'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def open_url(store_url: str) -> Iterator[Callable[[], Store]]:
    """Opens the test's store URL (again); every store it opened is closed afterwards."""
    opened: list[Store] = []

    def _open() -> Store:
        opened.append(open_store(store_url))
        return opened[-1]

    yield _open
    for store in opened:
        store.close()


@pytest.fixture
def store(open_url: Callable[[], Store]) -> Store:
    """An empty store of each backend."""
    return open_url()
