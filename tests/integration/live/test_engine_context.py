"""The live engine serving a champion whose features read news and macro vintages."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
import yaml

from nexus.bus import TOPIC_ALERTS, TOPIC_SIGNALS, InProcessBus
from nexus.domain import news_frame
from nexus.features import FeaturePipeline
from nexus.ingest import Ingestor
from nexus.live import LiveEngine
from nexus.registry import Registry
from nexus.sources.simulator import SimulatorConfig, SimulatorSource
from nexus.store import DuckDBStore, WriteBatch
from nexus.training import ExperimentConfig, load_context, run_experiment

# 32 sessions from 2025-01-02: the simulated CPI has three periods out by mid-February
MARKET = SimulatorConfig(
    symbols=3, sectors=1, sessions=32, interval="5m", seed=4, params={"news_rate": 8}
)
SLOT = "lightgbm"
LOOKBACK = 6
SPEC = {
    "features": {"log_return": {"periods": [1, 5]}, "rsi": {}},
    "news": {"half_life": "PT30M", "count_window": "PT1H", "norm_window": "P1D"},
    "macro": {"series": ["SIM_CPI"], "changes": 1},
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("live-context")
    (root / "spec.yaml").write_text(yaml.safe_dump(SPEC))
    experiment = {
        "data": {"interval": "5m"},
        "features": str(root / "spec.yaml"),
        "labels": {"kind": "fixed_horizon", "horizon": 1, "threshold": 0.0},
        "dataset": {"lookback": LOOKBACK, "stride": 1, "weights": "none"},
        "splits": {"n_folds": 1, "test_size": 0.2, "min_train": 300, "min_test": 100},
        "models": [{"model": "lightgbm", "params": {"n_estimators": 30}}],
    }
    with DuckDBStore(root / "nexus.duckdb") as store:
        Ingestor(store).run(SimulatorSource(MARKET))
        run_experiment(store, ExperimentConfig.model_validate(experiment), home=root / "home")
    registry = Registry(root / "home", slots=(SLOT,))
    registry.promote(SLOT, registry.versions(SLOT)[0], reason="test")
    return root


def _batch_probabilities(store, registry, ts) -> dict[str, np.ndarray]:
    """Training-time code on the stored bars, news and vintages, for the bar at ``ts``."""
    artifact = registry.load(SLOT, registry.champion(SLOT))
    bars = store.read_bars(sorted(store.series()["symbol"]), "5m", adjust="all")
    bars = bars.loc[bars["ts"] <= ts]
    context = load_context(store, bars, [artifact.features])
    pipeline = FeaturePipeline(artifact.features)
    features = pipeline.transform(bars, news=context.news, macro=context.macro)
    session = ort.InferenceSession(str(artifact.onnx_path), providers=["CPUExecutionProvider"])
    out = {}
    for symbol, rows in features.groupby("symbol"):
        window = rows[list(pipeline.names)].to_numpy()[-LOOKBACK:]
        out[symbol] = session.run(None, {"x": window[None].astype(np.float32)})[0][0]
    return out, features


async def _stream(store, registry, batches: int, between=None):
    bus = InProcessBus()
    signals, alerts = bus.subscribe(TOPIC_SIGNALS), bus.subscribe(TOPIC_ALERTS)
    engine = LiveEngine(store, registry, bus, slots=(SLOT,))
    await engine.start()
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    ingestor = Ingestor(store, bus=bus)
    source = SimulatorSource(MARKET, speed=math.inf)
    for done in range(1, batches + 1):
        await ingestor.run_live(source, max_batches=1)
        while engine.processed < done:
            await asyncio.sleep(0.005)
        if between is not None:
            between(done, engine)
    stop.set()
    await task
    drained = []
    for sub in (signals, alerts):
        items = []
        while sub.pending():
            items.append(sub._queue.get_nowait())
        drained.append(items)
    return engine, *drained


def test_live_news_and_macro_features_equal_batch(trained: Path, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(trained, tmp_path / "w")
    injected: list[str] = []

    def story_from_another_process(done: int, engine) -> None:
        # a feed service writes a story straight to the store: the next bar must see it
        if done == 3:
            last = pd.Timestamp(engine.last_ts)
            item = {
                "id": "injected-1",
                "published_at": last,
                "available_at": last + pd.Timedelta("7min"),  # within the next bar
                "headline": "SIM01 wins a large contract",
                "symbols": "SIM01",
                "body": "",
                "url": "",
                "sentiment": 2.5,
                "sentiment_model": "test",
                "source": "test",
            }
            store.write(WriteBatch(news=news_frame(pd.DataFrame([item]))))
            injected.append(item["id"])

    with DuckDBStore(tmp_path / "w" / "nexus.duckdb") as store:
        registry = Registry(tmp_path / "w" / "home", slots=(SLOT,))
        engine, signals, alerts = asyncio.run(
            _stream(store, registry, batches=6, between=story_from_another_process)
        )
        assert alerts == []
        assert injected
        assert len(signals) == 6
        last = signals[-1]
        expected, features = _batch_probabilities(store, registry, pd.Timestamp(last.ts))
        for p in last.predictions:
            got = [p.p_down, p.p_neutral, p.p_up]
            np.testing.assert_allclose(got, expected[p.symbol], atol=1e-5)
        # the compared windows really hold news and a known CPI
        window = features.loc[features["ts"] > pd.Timestamp(last.ts) - pd.Timedelta("30min")]
        assert window["news_count"].gt(0).any()
        assert window["macro_sim_cpi_surprise"].notna().all()
        group = next(iter(engine._groups.values()))
        rows, ready = group.windows(["SIM01"], LOOKBACK)
        names = list(group.pipeline.names)
        live_counts = rows[0, :, names.index("news_count")]
        batch_counts = features.loc[features["symbol"] == "SIM01", "news_count"].to_numpy()
        np.testing.assert_allclose(live_counts, batch_counts[-LOOKBACK:], atol=1e-6)
        assert ready[0] == LOOKBACK
        # the story written between bars 3 and 4 counts, once, from bar 4 on
        news = store.read_news(["SIM01"])
        spec = group.pipeline.spec
        bars = store.read_bars(["SIM00", "SIM01", "SIM02"], "5m", adjust="all")
        bars = bars.loc[bars["ts"] <= pd.Timestamp(last.ts)]
        without = FeaturePipeline(spec).transform(
            bars, news=news[news["id"] != "injected-1"], macro=store.read_macro(["SIM_CPI"])
        )
        before = without.loc[without["symbol"] == "SIM01", "news_count"].to_numpy()[-LOOKBACK:]
        np.testing.assert_array_equal(live_counts - before, [0, 0, 0, 1, 1, 1])


def test_a_news_champion_waits_for_bars_on_an_empty_store(trained: Path, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(trained / "home", tmp_path / "home")
    registry = Registry(tmp_path / "home", slots=(SLOT,))
    with DuckDBStore(tmp_path / "empty.duckdb") as store:
        engine = LiveEngine(store, registry, InProcessBus(), slots=(SLOT,))
        asyncio.run(engine.start())
        status = engine.status()
        engine.close()
    assert status["state"] == "running"
    assert engine.champions[0].spec.news is not None
