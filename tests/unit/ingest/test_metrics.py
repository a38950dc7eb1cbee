"""IngestMetrics through the Ingestor: bars counted, rejects counted, lag and write time set."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pandas as pd
import pytest
from prometheus_client import CollectorRegistry

from nexus.ingest import IngestMetrics, Ingestor
from nexus.sources import SourceBatch
from nexus.sources.simulator import SimulatorConfig, SimulatorSource
from nexus.store import DuckDBStore

from .test_pipeline import ListSource, dirty_batch
from .test_validate import minute_bars

MARKET = SimulatorConfig(symbols=3, sectors=1, sessions=2, interval="5m", seed=5)


@pytest.fixture
def store(tmp_path) -> Iterator[DuckDBStore]:
    with DuckDBStore(tmp_path / "t.duckdb") as s:
        yield s


@pytest.fixture
def metrics() -> IngestMetrics:
    return IngestMetrics(CollectorRegistry())


def value(metrics: IngestMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


async def no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


def test_live_simulator_counts_bars_and_measures_lag_from_emission(
    store: DuckDBStore, metrics: IngestMetrics
) -> None:
    source = SimulatorSource(MARKET, sleep=no_sleep)
    started = time.time()
    report = asyncio.run(Ingestor(store, metrics=metrics).run_live(source, max_batches=4))
    finished = time.time()
    labels = {"source": "simulator", "interval": "5m"}
    assert report.total("stored") == 12
    assert value(metrics, "nexus_ingest_bars_total", **labels) == 12
    # the simulated clock is not the wall clock: the lag is emission to stored, so small
    lag = value(metrics, "nexus_ingest_lag_seconds", **labels)
    assert 0 <= lag <= finished - started
    newest = max(store.last_timestamps("5m").values())
    assert value(metrics, "nexus_ingest_last_bar_timestamp_seconds", **labels) == newest.timestamp()
    assert value(metrics, "nexus_ingest_batch_seconds_count", source="simulator") == 4
    assert value(metrics, "nexus_ingest_rejected_total", source="simulator") is None


def test_live_wall_clock_feed_lag_is_from_the_bar_close(
    store: DuckDBStore, metrics: IngestMetrics
) -> None:
    opened = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(minutes=3)
    bars = minute_bars(1, "EURUSD", start=str(opened.tz_localize(None)))
    symbols = pd.DataFrame(
        {"symbol": ["EURUSD"], "calendar": ["24/7"], "kind": ["fx"], "description": ["euro"],
         "source": ["t"]}
    )  # fmt: skip
    source = ListSource([SourceBatch(label="now", bars=bars, symbols=symbols)])
    asyncio.run(Ingestor(store, metrics=metrics).run_live(source))
    expected = time.time() - (opened.timestamp() + 60)  # closed a minute after it opened
    lag = value(metrics, "nexus_ingest_lag_seconds", source="listsource", interval="1m")
    assert expected - 5 <= lag <= expected + 0.5
    assert value(metrics, "nexus_ingest_bars_total", source="listsource", interval="1m") == 1


def test_history_counts_new_bars_and_rejects_but_sets_no_lag(
    store: DuckDBStore, metrics: IngestMetrics
) -> None:
    ingestor = Ingestor(store, resample_to=["5m"], metrics=metrics)
    ingestor.run(ListSource([dirty_batch()]))
    labels = {"source": "listsource"}
    stored = store.series().set_index("interval")["n_bars"].to_dict()
    assert stored == {"1m": 9, "5m": 2}
    for interval, n in stored.items():
        assert value(metrics, "nexus_ingest_bars_total", **labels, interval=interval) == n
    assert value(metrics, "nexus_ingest_rejected_total", **labels) == 3
    assert value(metrics, "nexus_ingest_lag_seconds", **labels, interval="1m") is None
    # run again: every bar is already stored, so none is counted; the rejects are again
    ingestor.run(ListSource([dirty_batch()]))
    assert value(metrics, "nexus_ingest_bars_total", **labels, interval="1m") == 9
    assert value(metrics, "nexus_ingest_rejected_total", **labels) == 6
    assert value(metrics, "nexus_ingest_batch_seconds_count", **labels) == 2


def test_without_metrics_nothing_is_registered(store: DuckDBStore) -> None:
    ingestor = Ingestor(store)
    ingestor.run(ListSource([dirty_batch()]))
    assert ingestor.metrics is None
