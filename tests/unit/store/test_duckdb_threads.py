"""One in-memory DuckDB store shared by several threads of one process."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pandas as pd
import pytest

from nexus.domain import PREDICTION_COLUMNS
from nexus.errors import StoreError
from nexus.store import DuckDBStore, WriteBatch, WriteResult
from tests._threads import run_together


def T(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def bars(symbol: str, start: str, n: int) -> pd.DataFrame:
    times = pd.date_range(start, periods=n, freq="1min", tz="UTC")
    close = [100.0 + i for i in range(n)]
    return pd.DataFrame(
        {
            "symbol": symbol,
            "interval": "1m",
            "ts": times,
            "open": close,
            "high": close,
            "low": close,
            "close": close,
            "volume": 1.0,
            "source": "sim",
        }
    )


def prediction(symbol: str, ts: pd.Timestamp, p_up: float) -> pd.DataFrame:
    row = (symbol, "1m", ts, "lstm", "v1", (1 - p_up) / 2, (1 - p_up) / 2, p_up, 0.45)
    return pd.DataFrame([row], columns=list(PREDICTION_COLUMNS))


@pytest.fixture
def store() -> Iterator[DuckDBStore]:
    with DuckDBStore(":memory:") as store:
        yield store


def test_every_call_reads_utc_on_its_own_cursor(store: DuckDBStore) -> None:
    with store._cursor() as first, store._cursor() as second:
        assert first is not second
        assert first.execute("SELECT current_setting('TimeZone')").fetchall() == [("UTC",)]


def test_writers_racing_on_overlapping_bars_store_each_bar_once(store: DuckDBStore) -> None:
    batches = [
        bars("AAA", str(T("2024-03-01 14:30") + pd.Timedelta(k, "min")), 30) for k in (0, 20)
    ]
    totals: list[int] = []

    def writer() -> None:
        totals.append(sum(store.write(WriteBatch(bars=b)).bars for b in batches))

    run_together(writer, writer, writer)

    assert sum(totals) == 50
    assert len(store.read_bars(["AAA"], "1m")) == 50
    assert store.series()["n_bars"].tolist() == [50]


def test_concurrent_asof_lookups_never_see_each_others_frames(store: DuckDBStore) -> None:
    store.write(
        WriteBatch(
            bars=pd.concat(
                [bars("AAA", "2024-03-01 14:30", 60), bars("BBB", "2024-03-01 14:30", 60)]
            )
        )
    )
    results: dict[str, list[float]] = {}

    def lookup(symbol: str) -> Callable[[], None]:
        def work() -> None:
            left = pd.DataFrame(
                {
                    "symbol": symbol,
                    "ts": pd.date_range("2024-03-01 14:31", periods=50, freq="1min", tz="UTC"),
                }
            )
            for _ in range(20):
                out = store.asof_bars(left, "1m")
                assert out["symbol"].unique().tolist() == [symbol]
            results[symbol] = out["close"].tolist()

        return work

    run_together(lookup("AAA"), lookup("BBB"), lookup("AAA"), lookup("BBB"))

    assert results["AAA"] == results["BBB"] == [100.0 + i for i in range(50)]


def test_readers_never_keep_a_stale_copy_of_the_series(store: DuckDBStore) -> None:
    store.write(WriteBatch(bars=bars("AAA", "2024-03-01 14:30", 10)))
    appended = [
        bars("AAA", str(T("2024-03-01 14:40") + pd.Timedelta(k, "min")), 1) for k in range(40)
    ]

    def writer() -> None:
        for batch in appended:
            store.write(
                WriteBatch(bars=batch, predictions=prediction("AAA", batch["ts"].iloc[0], 0.5))
            )

    def reader() -> None:
        for _ in range(40):
            newest = store.last_bars(["AAA"], "1m", 2)
            assert len(newest) == 2
            assert newest["ts"].is_monotonic_increasing

    run_together(writer, reader, reader)

    assert store.last_bars(["AAA"], "1m", 1)["ts"].tolist() == [T("2024-03-01 15:19")]
    assert store.latest_bars(["AAA"])["ts"].tolist() == [T("2024-03-01 15:19")]
    assert store.latest_predictions()["ts"].tolist() == [T("2024-03-01 15:19")]


def test_a_failed_write_in_one_thread_leaves_the_others_alone(store: DuckDBStore) -> None:
    good = [
        prediction("AAA", T("2024-03-01 14:30") + pd.Timedelta(k, "min"), 0.5) for k in range(20)
    ]
    bad = prediction("BBB", T("2024-03-01 14:30"), float("nan"))  # a NOT NULL column
    failures: list[int] = []

    def writer() -> None:
        for frame in good:
            assert store.write(WriteBatch(predictions=frame)) == WriteResult(predictions=1)

    def failing() -> None:
        for _ in range(20):
            with pytest.raises(StoreError, match="nothing of this batch was stored"):
                store.write(WriteBatch(predictions=bad))
            failures.append(1)

    run_together(writer, failing)

    assert len(failures) == 20
    assert store.read_predictions()["symbol"].unique().tolist() == ["AAA"]
    assert len(store.read_predictions()) == 20
