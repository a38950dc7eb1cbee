"""Champion against challenger on the newest sessions, on a simulator with a planted edge."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nexus.errors import DataError
from nexus.ingest import Ingestor
from nexus.registry import Registry
from nexus.sources.simulator import SimulatorConfig, SimulatorSource
from nexus.store import DuckDBStore
from nexus.training import ExperimentConfig, run_experiment
from nexus.training._reports import model_backtest, permutation_importance
from nexus.training._validate import (
    ValidationConfig,
    compare,
    decide,
    score_artifact,
    trained_until,
    validation_start,
)

UNIVERSE = {"symbols": 6, "sectors": 2, "sessions": 16, "interval": "5m", "seed": 3, "alpha": 0.5}
BASE = {
    "data": {"interval": "5m"},
    "labels": {"kind": "fixed_horizon", "horizon": 1, "threshold": 0.0},
    "dataset": {"lookback": 12, "stride": 1, "weights": "none"},
    "splits": {"n_folds": 1, "test_size": 0.2, "min_train": 300, "min_test": 100},
}
STRONG = {"model": "lightgbm", "slot": "strong", "params": {"n_estimators": 200}}
# no split can hold 10^6 samples: a constant forecast, the training class frequencies
LINEAR = {"model": "logistic", "slot": "linear"}
WEAK = {"model": "lightgbm", "slot": "weak", "params": {"min_child_samples": 1_000_000}}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("validate")
    store = DuckDBStore(root / "nexus.duckdb")
    Ingestor(store).run(SimulatorSource(SimulatorConfig(**UNIVERSE)))
    probe = ExperimentConfig.model_validate({**BASE, "models": [STRONG]})
    start = validation_start(store, probe, sessions=5)
    data = {**BASE["data"], "end": str(start.date())}  # neither model sees the window
    config = ExperimentConfig.model_validate(
        {**BASE, "data": data, "models": [STRONG, WEAK, LINEAR]}
    )
    report = run_experiment(store, config, home=root / "home")
    registry = Registry(root / "home")
    artifacts = {
        m["slot"]: registry.load(m["slot"], Path(m["artifact"]).name) for m in report.models
    }
    bars = store.read_bars(sorted(store.series()["symbol"]), "5m", adjust="all")
    scores = {slot: score_artifact(a, bars, start) for slot, a in artifacts.items()}
    yield store, start, artifacts, scores
    store.close()


def test_window_is_the_newest_sessions_and_models_never_saw_it(trained) -> None:
    _, start, artifacts, scores = trained
    for artifact in artifacts.values():
        assert trained_until(artifact) < start
    ts = scores["strong"]["ts"]
    assert ts.min() >= start
    assert ts.dt.normalize().nunique() == 5
    columns = {"symbol", "ts", "y", "p_down", "p_neutral", "p_up", "last_ret"}
    assert set(scores["strong"].columns) == columns


def test_a_better_challenger_is_promoted_and_an_equal_one_is_not(trained) -> None:
    _, _, _, scores = trained
    config = ValidationConfig()
    better = decide(compare(scores["strong"], scores["weak"], config), config)
    assert better.action == "promote", better.reason
    assert better.figures["f1_gain"] >= 0.02
    assert better.figures["p_value"] < 0.05
    same = decide(compare(scores["strong"], scores["strong"], config), config)
    assert same.action == "keep"
    assert "gain +0.0000 < margin 0.02" in same.reason
    worse = decide(compare(scores["weak"], scores["strong"], config), config)
    assert worse.action == "keep"
    assert worse.figures["f1_gain"] < 0


def test_a_first_challenger_must_beat_the_baselines(trained) -> None:
    """The planted drift persists, so "UP after an up bar" is as good as the model here."""
    _, _, _, scores = trained
    config = ValidationConfig()
    first = decide(compare(scores["strong"], None, config), config)
    assert first.action == "keep", first.reason
    assert "not better than the baseline" in first.reason
    assert set(first.figures["metrics"]) == {"challenger", "baseline"}
    baseline = first.figures["metrics"]["baseline"]["macro_f1_updown"]
    assert baseline > 0.55  # momentum, not the majority class (about 0.34)


def test_a_first_challenger_that_beats_the_baselines_is_promoted() -> None:
    rng = np.random.default_rng(1)
    n = 3000
    y = rng.choice([0, 2], n)
    calls = np.where(rng.random(n) < 0.5, y, rng.choice([0, 2], n))  # 75% right
    scored = pd.DataFrame(
        {
            "symbol": "S",
            "ts": pd.date_range("2024-01-02", periods=n, freq="min", tz="UTC"),
            "y": y,
            "p_down": (calls == 0) * 0.8 + 0.1,
            "p_neutral": 0.1,
            "p_up": (calls == 2) * 0.8 + 0.1,
            "last_ret": rng.normal(size=n),  # momentum is a coin here
        }
    )
    config = ValidationConfig()
    decision = decide(compare(scored, None, config), config)
    assert decision.action == "promote", decision.reason
    assert decision.figures["f1_gain"] > 0.2


def test_different_labels_and_short_stores_are_refused(trained) -> None:
    store, _, _, scores = trained
    flipped = scores["weak"].assign(y=2 - scores["weak"]["y"])
    with pytest.raises(DataError, match="different labels"):
        compare(scores["strong"], flipped, ValidationConfig())
    probe = ExperimentConfig.model_validate({**BASE, "models": [STRONG]})
    with pytest.raises(DataError, match="holds 16 5m session"):
        validation_start(store, probe, sessions=40)
    assert isinstance(validation_start(store, probe, sessions=1), pd.Timestamp)


@pytest.mark.parametrize(("slot", "kind"), [("strong", "split gain"), ("linear", "log-loss")])
def test_out_of_sample_backtest_report(trained, tmp_path, slot: str, kind: str) -> None:
    store, start, artifacts, _ = trained
    done = model_backtest(store, artifacts[slot], report=tmp_path / "r" / "report.html")
    assert done.start > trained_until(artifacts[slot])  # never a bar it was trained on
    assert done.result.equity.index[0] >= done.start
    later = model_backtest(store, artifacts[slot], start=start)
    assert later.result.equity.index[0] >= start
    assert done.result.metrics["n_trades"] > 0
    page = done.report.read_text()
    for title in (
        "Equity (after costs) against buy-and-hold",
        "Drawdown",
        "Monthly returns",
        "Rolling Sharpe",
        "Confusion matrix",
        "Calibration",
        f"Feature importance ({kind}",
        "<h2>Trades</h2>",
    ):
        assert title in page, title
    assert "<script src=" not in page  # plotly.js is inlined: the file opens offline
    assert len(page) > 3_000_000


def test_permutation_importance_finds_the_feature_a_model_uses() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 3, 2))
    y = np.where(X[:, -1, 1] > 0, 2, 0)

    def model(x: np.ndarray) -> np.ndarray:
        up = 1 / (1 + np.exp(-4 * x[:, -1, 1]))
        return np.stack([1 - up, np.zeros(len(x)), up], axis=1)

    scores = permutation_importance(model, X, y, ["noise", "signal"])
    assert scores["signal"] > 0.3
    assert abs(scores["noise"]) < 1e-12
