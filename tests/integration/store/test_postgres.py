"""What only the PostgreSQL store has: connection errors, schema, shared writers."""

from __future__ import annotations

import threading
import time
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


def _terminate_other_sessions(url: str) -> int:
    """Cut every connection to the database of ``url`` but this one; return how many.

    Returns once the ended backends are gone (``pg_terminate_backend`` only signals them).
    """
    others = "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    with _admin(url) as admin:
        cut = admin.execute(
            f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity {others}"
        ).fetchone()[0]
        deadline = time.monotonic() + 10
        while admin.execute(f"SELECT count(*) FROM pg_stat_activity {others}").fetchone()[0]:
            assert time.monotonic() < deadline, "the ended sessions did not go away"
            time.sleep(0.01)
    return cut


def test_a_connection_ended_while_idle_is_replaced_unseen(
    pg_store: PostgresStore, pg_url: str
) -> None:
    pg_store.write(WriteBatch(bars=make_bars("AAA", minutes("2024-03-01 14:30", 3))))
    assert _terminate_other_sessions(pg_url) == 1  # the store's one pooled connection
    # the pool sees the ended connection before lending it (its socket is readable) and
    # opens a new one: a server restart between two calls costs no failed call
    assert len(pg_store.read_bars(["AAA"], "1m")) == 3


def test_a_server_that_refuses_connections_is_reported(
    pg_store: PostgresStore, pg_url: str, pg_server: str
) -> None:
    pg_store.write(WriteBatch(bars=make_bars("AAA", minutes("2024-03-01 14:30", 3))))
    database = pg_url.rpartition("/")[2]
    with _admin(pg_server) as admin:  # from another database: one cannot lock out one's own
        admin.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false')
        try:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (database,),
            )
            with pytest.raises(StoreUnavailableError, match="cannot connect"):
                pg_store.read_bars(["AAA"], "1m")
        finally:
            admin.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true')
    assert len(pg_store.read_bars(["AAA"], "1m")) == 3  # on a new connection


def test_a_closed_store_says_so(pg_store: PostgresStore) -> None:
    pg_store.close()

    with pytest.raises(StoreUnavailableError, match="the store is closed"):
        pg_store.series()


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


def test_a_stale_series_row_falls_back_to_the_merge_path(
    pg_store: PostgresStore, pg_url: str
) -> None:
    pg_store.write(WriteBatch(bars=make_bars("AAA", minutes("2024-03-01 14:30", 5))))
    with _admin(pg_url) as admin:
        admin.execute("DELETE FROM series")  # the append path now sees no overlap

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


def _sessions(url: str) -> int:
    with _admin(url) as admin:
        return admin.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()[0]


def test_threads_share_at_most_pool_size_connections(pg_url: str) -> None:
    with PostgresStore(pg_url, pool_size=2) as store:
        store.write(WriteBatch(bars=make_bars("AAA", minutes("2024-03-01 14:30", 50))))
        counts: list[int] = []

        def read() -> None:
            for _ in range(10):
                counts.append(len(store.read_bars(["AAA"], "1m")))

        threads = [threading.Thread(target=read) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert counts == [50] * 60
        assert _sessions(pg_url) <= 2


def test_a_call_in_flight_does_not_hold_up_another_thread(pg_url: str) -> None:
    with PostgresStore(pg_url, pool_size=2) as store:
        store.write(WriteBatch(bars=make_bars("AAA", minutes("2024-03-01 14:30", 3))))
        with store._pool.connection() as busy, busy.transaction():  # a long call, still open
            busy.execute("SELECT 1")
            assert len(store.read_bars(["AAA"], "1m")) == 3  # on the second connection
            assert store.write(WriteBatch(bars=make_bars("AAA", ["2024-03-01 14:40"]))).bars == 1
