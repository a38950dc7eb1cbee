"""Fixtures shared by every test tier.

PostgreSQL and Redis are real servers on the development and CI machines.
Their addresses default to the local ones and can be changed with
``NEXUS_TEST_PG_URL`` and ``NEXUS_TEST_REDIS_URL``. When one is unreachable the
run stops with one line that says how to start it; nothing is skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_URL = os.environ.get("NEXUS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_START = (
    "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
    " (or set NEXUS_TEST_PG_URL)"
)

REDIS_URL = os.environ.get("NEXUS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_START = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no'
    " (or set NEXUS_TEST_REDIS_URL)"
)


def _with_database(url: str, database: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{database}"


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The admin URL of the PostgreSQL test server (fails the run if unreachable)."""
    import psycopg

    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        pytest.exit(f"PostgreSQL is not reachable at {PG_URL} ({exc}); start it: {PG_START}", 3)
    return PG_URL


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A freshly created, empty PostgreSQL database, dropped after the test."""
    import psycopg

    name = f"nexus_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(pg_server, name)
    finally:
        with psycopg.connect(pg_server, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def nexus_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty NEXUS_HOME for the test, with NEXUS_STORE_URL unset."""
    home = tmp_path / "nexus-home"
    monkeypatch.setenv("NEXUS_HOME", str(home))
    monkeypatch.delenv("NEXUS_STORE_URL", raising=False)
    return home


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The URL of the Redis test server (fails the run if unreachable)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.exit(f"Redis is not reachable at {REDIS_URL} ({exc}); start it: {REDIS_START}", 3)
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def redis_bus_prefix(redis_url: str) -> str:
    """A channel prefix no other test (or concurrent test run) uses."""
    return f"nexus-test-{uuid.uuid4().hex[:12]}"
