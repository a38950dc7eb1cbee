"""The live engine on a simulated market with real champions, store, registry and bus."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest

from nexus.bus import TOPIC_ALERTS, TOPIC_MODELS, TOPIC_SIGNALS, InProcessBus
from nexus.domain import Action
from nexus.features import FeaturePipeline
from nexus.ingest import Ingestor
from nexus.live import LiveEngine
from nexus.registry import Registry
from nexus.sources.simulator import SimulatorConfig, SimulatorSource
from nexus.store import DuckDBStore
from nexus.training import ExperimentConfig, run_experiment

MARKET = SimulatorConfig(symbols=4, sectors=2, sessions=14, interval="5m", seed=3, alpha=0.5)
SLOTS = ("logistic", "lightgbm")
LOOKBACK = 12
EXPERIMENT = {
    "data": {"interval": "5m"},
    "labels": {"kind": "fixed_horizon", "horizon": 1, "threshold": 0.0},
    "dataset": {"lookback": LOOKBACK, "stride": 1, "weights": "none"},
    "splits": {"n_folds": 1, "test_size": 0.2, "min_train": 300, "min_test": 100},
    "models": [{"model": "logistic"}, {"model": "lightgbm", "params": {"n_estimators": 40}}],
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with history and two versions of each slot, the first promoted."""
    root = tmp_path_factory.mktemp("live")
    with DuckDBStore(root / "nexus.duckdb") as store:
        Ingestor(store).run(SimulatorSource(MARKET))
        for seed in (1, 2):
            config = ExperimentConfig.model_validate({**EXPERIMENT, "seed": seed})
            run_experiment(store, config, home=root / "home")
    registry = Registry(root / "home", slots=SLOTS)
    for slot in SLOTS:
        registry.promote(slot, registry.versions(slot)[0], reason="test")
    return root


@pytest.fixture
def world(trained: Path, tmp_path: Path):
    """A private copy of the trained store and registry for one test."""
    import shutil

    root = tmp_path / "w"
    shutil.copytree(trained, root)
    store = DuckDBStore(root / "nexus.duckdb")
    yield store, Registry(root / "home", slots=SLOTS)
    store.close()


async def _run_live(store, registry, *, batches: int, during=None):
    """Stream ``batches`` bar times through ingest -> bus -> engine; return what was published."""
    bus = InProcessBus()
    topics = (TOPIC_SIGNALS, TOPIC_MODELS, TOPIC_ALERTS)
    signals, models, alerts = (bus.subscribe(t) for t in topics)
    engine = LiveEngine(store, registry, bus, slots=SLOTS)
    await engine.start()
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    ingestor = Ingestor(store, bus=bus)
    source = SimulatorSource(MARKET, speed=math.inf)
    done = 0
    async for _ in _batches(ingestor, source, batches):
        done += 1
        while engine.processed < done:  # the engine takes each bar time before the next
            await asyncio.sleep(0.005)
        if during is not None:
            during(done, engine)
    stop.set()
    await task
    drained = [_drain(s) for s in (signals, models, alerts)]
    return engine, *drained


async def _batches(ingestor, source, n):
    for _ in range(n):
        await ingestor.run_live(source, max_batches=1)
        yield


def _drain(sub):
    out = []
    while sub.pending():
        out.append(sub._queue.get_nowait())
    return out


def _batch_probabilities(store, registry, slot, version, symbol, ts) -> np.ndarray:
    """What training-time code gives for this bar: batch features over the stored history."""
    artifact = registry.load(slot, version)
    symbols = sorted(store.series()["symbol"].unique())
    bars = store.read_bars(symbols, "5m", adjust="all")  # the market features need every symbol
    bars = bars.loc[bars["ts"] <= ts]
    pipeline = FeaturePipeline(artifact.features)
    features = pipeline.transform(bars)
    mine = features.loc[features["symbol"] == symbol, list(pipeline.names)]
    window = mine.to_numpy()[-LOOKBACK:]
    session = ort.InferenceSession(str(artifact.onnx_path), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": window[None].astype(np.float32)})[0][0]


def test_live_predictions_equal_batch_and_are_stored(world):
    store, registry = world
    engine, signals, models, alerts = asyncio.run(_run_live(store, registry, batches=4))
    assert alerts == []
    assert [m.champions for m in models] == [{s: registry.versions(s)[0] for s in SLOTS}]
    assert len(signals) == 4
    assert all(len(s.recommendations) == MARKET.symbols for s in signals)
    assert set(signals[0].timings) == {
        "features", "inference.logistic", "inference.lightgbm", "decision",
    }  # fmt: skip
    assert set(engine.status()["timings"]) == {*signals[0].timings, "store"}
    last = signals[-1]
    for p in last.predictions[:4]:
        expected = _batch_probabilities(store, registry, p.model, p.version, p.symbol, last.ts)
        np.testing.assert_allclose([p.p_down, p.p_neutral, p.p_up], expected, atol=1e-5)
        assert 1 / 3 <= p.threshold <= 0.9
    stored = store.read_recommendations(interval="5m")
    assert len(stored) == 4 * MARKET.symbols
    assert set(stored["action"]) <= {a.value for a in Action}
    assert len(store.read_predictions(interval="5m")) == 4 * MARKET.symbols * len(SLOTS)
    status = engine.status()
    assert status["processed"] == 4
    assert status["last_ts"] == pd.Timestamp(last.ts).isoformat()


def test_new_champion_is_served_from_the_next_bar_without_a_restart(world):
    store, registry = world
    newer = registry.versions("logistic")[1]

    def promote_after_two(done: int, engine) -> None:
        if done == 2:
            registry.promote("logistic", newer, reason="test hot swap")

    _, signals, models, _ = asyncio.run(
        _run_live(store, registry, batches=5, during=promote_after_two)
    )
    assert len(signals) == 5  # no bar missed across the swap
    versions = [{p.version for p in s.predictions if p.model == "logistic"} for s in signals]
    assert versions[:2] == [{registry.versions("logistic")[0]}] * 2
    assert versions[2:] == [{newer}] * 3
    assert models[-1].champions["logistic"] == newer
    assert models[-1].reason == "model_config.json changed"


def test_a_corrupt_new_champion_is_refused_and_the_old_one_keeps_serving(world):
    store, registry = world
    newer = registry.versions("lightgbm")[1]
    old = registry.champion("lightgbm")

    def corrupt_after_one(done: int, engine) -> None:
        if done == 1:
            registry.promote("lightgbm", newer, reason="test")
            path = registry.path("lightgbm", newer) / "model.onnx"
            path.write_bytes(path.read_bytes()[:-10])

    _, signals, _, alerts = asyncio.run(
        _run_live(store, registry, batches=3, during=corrupt_after_one)
    )
    assert len(signals) == 3
    served = [{p.version for p in s.predictions if p.model == "lightgbm"} for s in signals]
    assert served == [{old}] * 3
    assert alerts
    assert alerts[0].level == "critical"
    assert "lightgbm" in alerts[0].message
    stored = store.read_alerts(source="live")  # kept with the monitor's, for the dashboard
    assert list(stored["id"]) == [a.id for a in alerts]
    assert set(stored["kind"]) == {"champions"}


def test_without_champions_the_engine_waits_and_says_why(tmp_path: Path):
    with DuckDBStore(tmp_path / "s.duckdb") as store:
        registry = Registry(tmp_path / "home", slots=SLOTS)
        engine = LiveEngine(store, registry, InProcessBus(), slots=SLOTS)
        asyncio.run(engine.start())
        status = engine.status()
        engine.close()
    assert status["state"] == "waiting for champions"
    assert "no champion" in status["problem"]


def test_log_lines_of_a_bar_time_carry_its_bar_ts_and_interval(world):
    import io
    import json
    import logging

    from nexus.config import configure_logging

    store, registry = world
    newer = registry.versions("logistic")[1]

    def promote_after_two(done: int, engine) -> None:
        if done == 2:
            registry.promote("logistic", newer, reason="test hot swap")

    root, nexus = logging.getLogger(), logging.getLogger("nexus")
    handlers, levels = list(root.handlers), (root.level, nexus.level)
    out = io.StringIO()
    configure_logging("INFO", "json", stream=out)
    try:
        _, signals, _, _ = asyncio.run(
            _run_live(store, registry, batches=3, during=promote_after_two)
        )
    finally:
        root.handlers[:] = handlers
        root.setLevel(levels[0])
        nexus.setLevel(levels[1])
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    started, swap = [r for r in records if r["message"].startswith("serving champions")]
    assert "bar_ts" not in started  # logged at start, outside any bar time
    # the swap happens while the third bar time is handled (in a worker thread)
    assert swap["message"].endswith("(model_config.json changed)")
    assert swap["bar_ts"] == pd.Timestamp(signals[2].ts).tz_convert("UTC").isoformat()
    assert swap["interval"] == "5m"
