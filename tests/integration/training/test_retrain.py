"""The nightly job on a simulator store: train, validate, decide, record; idempotent; locked."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from filelock import FileLock

from nexus.errors import ConfigError, RegistryError
from nexus.ingest import Ingestor
from nexus.registry import Registry
from nexus.sources.simulator import SimulatorConfig, SimulatorSource
from nexus.store import DuckDBStore
from nexus.training import ExperimentConfig
from nexus.training._retrain import LOCK_FILE, retrain
from nexus.training._validate import ValidationConfig, trained_until

UNIVERSE = {"symbols": 4, "sectors": 2, "interval": "5m", "seed": 5, "alpha": 0.5}
EXPERIMENT = ExperimentConfig.model_validate(
    {
        "data": {"interval": "5m"},
        "labels": {"kind": "fixed_horizon", "horizon": 1, "threshold": 0.0},
        "dataset": {"lookback": 12, "stride": 1, "weights": "none"},
        "splits": {"n_folds": 1, "test_size": 0.2, "min_train": 300, "min_test": 100},
        "models": [
            {"model": "lightgbm", "params": {"n_estimators": 40}},
            {"model": "logistic", "slot": "not-a-registry-slot"},
        ],
    }
)
VALIDATION = ValidationConfig(sessions=3, n_boot=300)


def ingest(store: DuckDBStore, sessions: int) -> None:
    Ingestor(store).run(SimulatorSource(SimulatorConfig(sessions=sessions, **UNIVERSE)))


@pytest.fixture
def setup(tmp_path):
    store = DuckDBStore(tmp_path / "nexus.duckdb")
    ingest(store, 16)
    registry = Registry(tmp_path / "home", slots=("lightgbm",))
    yield store, registry
    store.close()


def test_first_run_decides_second_is_idempotent_new_data_is_judged(setup) -> None:
    store, registry = setup
    first = retrain(store, EXPERIMENT, registry, validation=VALIDATION)
    [entry] = first.slots  # only the registry's slots are trained
    assert entry["slot"] == "lightgbm"
    assert entry["action"] in ("promote", "keep")
    assert entry["champion_before"] is None
    assert set(entry["figures"]["metrics"]) == {"challenger", "baseline"}
    page = Path(entry["report"]).read_text()
    assert "Equity (after costs) against buy-and-hold" in page
    sharpes = entry["figures"]["sharpe_after_costs"]
    assert set(sharpes) == {"challenger", "momentum"}
    assert all(np.isfinite(v) for v in sharpes.values())
    [decision] = registry.history("lightgbm")
    assert decision.version == entry["challenger"]
    versions = registry.versions("lightgbm")
    window = pd.Timestamp(first.window_start)
    assert trained_until(registry.load("lightgbm", versions[0])) < window

    again = retrain(store, EXPERIMENT, registry, validation=VALIDATION)
    assert again.slots == [{"slot": "lightgbm", "action": "up to date"}]
    assert registry.versions("lightgbm") == versions
    assert len(registry.history("lightgbm")) == 1

    if registry.champion("lightgbm") is None:
        registry.promote("lightgbm", versions[0], reason="seed a champion for the test")
    ingest(store, 18)  # two new sessions
    third = retrain(store, EXPERIMENT, registry, validation=VALIDATION)
    [judged] = third.slots
    assert judged["champion_before"] == versions[0]
    assert set(judged["figures"]["metrics"]) == {"challenger", "champion"}
    assert set(judged["figures"]["sharpe_after_costs"]) == {"challenger", "champion"}
    assert third.window_start > first.window_start
    assert len(registry.versions("lightgbm")) == 2
    config = json.loads(registry.config_path.read_text())
    assert config["slots"]["lightgbm"]["history"][-1]["action"] == judged["action"]


def test_a_running_job_holds_the_lock(setup) -> None:
    store, registry = setup
    lock = FileLock(registry.home / LOCK_FILE)
    registry.home.mkdir(parents=True, exist_ok=True)
    with lock, pytest.raises(RegistryError, match="another nexus retrain is running"):
        retrain(store, EXPERIMENT, registry, validation=VALIDATION)
    assert registry.versions("lightgbm") == ()


def test_an_experiment_without_registry_slots_is_refused(setup) -> None:
    store, _ = setup
    other = Registry(setup[1].home, slots=("lstm", "transformer"))
    only_lightgbm = EXPERIMENT.model_copy(update={"models": EXPERIMENT.models[:1]})
    with pytest.raises(ConfigError, match="none of the registry slots lstm, transformer"):
        retrain(store, only_lightgbm, other, validation=VALIDATION)


def test_new_parameters_are_not_up_to_date(setup) -> None:
    store, registry = setup
    retrain(store, EXPERIMENT, registry, validation=VALIDATION)
    models = [m.model_copy(update={"params": {"n_estimators": 41}}) for m in EXPERIMENT.models]
    changed = EXPERIMENT.model_copy(update={"models": models})
    [entry] = retrain(store, changed, registry, validation=VALIDATION).slots
    assert entry["action"] in ("promote", "keep")
    assert len(registry.versions("lightgbm")) == 2
