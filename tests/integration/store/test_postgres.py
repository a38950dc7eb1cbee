"""What only the PostgreSQL store has: connection errors, schema, shared writers."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pandas as pd
import psycopg
import pytest

from nexus.errors import StoreError, StoreUnavailableError
from nexus.store import WriteBatch, WriteResult
from nexus.store._postgres import PostgresStore, redact_url

from .test_contract import make_bars, minutes

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[PostgresStore]:
    store = PostgresStore(pg_url)
    yield store
    store.close()


def _admin(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://nexus:s3cret@db:5432/nexus", "postgresql://nexus:***@db:5432/nexus"),
        ("postgresql://nexus@db/nexus", "postgresql://nexus@db/nexus"),
        (
            "postgres://u:p%40ss@h/d?sslmode=require&password=s3cret",
            "postgres://u:***@h/d?sslmode=require&password=***",
        ),
    ],
)
def test_redact_url_masks_passwords(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_an_unreachable_server_names_the_url_without_password_and_the_fix() -> None:
    with pytest.raises(StoreUnavailableError) as info:
        PostgresStore("postgresql://nexus:s3cret@127.0.0.1:1/nexus", connect_timeout=2)

    message = str(info.value)
    assert "s3cret" not in message
    assert "postgresql://nexus:***@127.0.0.1:1/nexus" in message
    assert "start PostgreSQL" in message
    assert "NEXUS_STORE_URL" in message


def test_a_missing_database_says_to_create_it(pg_server: str) -> None:
    url = pg_server.rpartition("/")[0] + "/nexus_no_such_database"

    with pytest.raises(StoreUnavailableError, match="createdb"):
        PostgresStore(url)


def test_a_lost_connection_is_reported_as_unavailable(pg_store: PostgresStore, pg_url: str) -> None:
    pid = pg_store._con.info.backend_pid
    with _admin(pg_url) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])

    with pytest.raises(StoreUnavailableError, match="reopen the store"):
        pg_store.read_bars(["AAA"], "1m")


def test_schema_has_real_keys_and_hypertables_only_with_timescaledb(
    pg_store: PostgresStore, pg_url: str
) -> None:
    with _admin(pg_url) as admin:
        key = admin.execute(
            """
            SELECT array_agg(a.attname ORDER BY k.ord)
            FROM pg_index i
            CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indrelid = 'bars'::regclass AND i.indisprimary
            """
        ).fetchone()[0]
        available = admin.execute(
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'"
        ).fetchone()[0]
    assert key == ["symbol", "interval", "ts"]
    assert pg_store.hypertables is bool(available)
    assert pg_store.backend == "postgres"


def test_opening_twice_keeps_one_schema(pg_url: str) -> None:
    with PostgresStore(pg_url) as first, PostgresStore(pg_url) as second:
        first.write(WriteBatch(bars=make_bars("AAA", minutes("2024-03-01 14:30", 3))))
        assert len(second.read_bars(["AAA"], "1m")) == 3


def test_a_stale_series_row_falls_back_to_the_merge_path(pg_store: PostgresStore) -> None:
    pg_store.write(WriteBatch(bars=make_bars("AAA", minutes("2024-03-01 14:30", 5))))
    pg_store._con.execute("DELETE FROM series")  # the append path now sees no overlap

    result = pg_store.write(WriteBatch(bars=make_bars("AAA", minutes("2024-03-01 14:33", 5))))

    assert result == WriteResult(bars=3)
    assert len(pg_store.read_bars(["AAA"], "1m")) == 8


def test_writers_racing_on_the_same_bars_store_each_bar_once(pg_url: str) -> None:
    batches = [
        make_bars(
            "AAA", minutes(str(pd.Timestamp("2024-03-01 14:30") + pd.Timedelta(k, "min")), 50)
        )
        for k in range(0, 400, 40)  # each batch overlaps the next by 10 bars
    ]
    totals: list[int] = []

    def run() -> None:
        with PostgresStore(pg_url) as store:
            totals.append(sum(store.write(WriteBatch(bars=b)).bars for b in batches))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with PostgresStore(pg_url) as store:
        stored = len(store.read_bars(["AAA"], "1m"))
        series = store.series().iloc[0]
    assert stored == 410
    assert sum(totals) == 410
    assert series["n_bars"] == 410


def test_a_write_error_is_a_store_error_not_unavailable(pg_store: PostgresStore) -> None:
    bars = make_bars("AAA", minutes("2024-03-01 14:30", 2)).assign(symbol="A\x00B")

    with pytest.raises(StoreError) as info:
        pg_store.write(WriteBatch(bars=bars))

    assert not isinstance(info.value, StoreUnavailableError)
    assert pg_store.series().empty
