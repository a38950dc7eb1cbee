"""``nexus train --hpo N``: Optuna on the first fold's validation samples, with selection bias."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from nexus.ingest import Ingestor
from nexus.sources.simulator import SimulatorConfig, SimulatorSource
from nexus.store import DuckDBStore
from nexus.training import ExperimentConfig, run_experiment
from nexus.training._hpo import DEFAULT_SPACES

EXPERIMENT = {
    "data": {"interval": "5m"},
    "labels": {"kind": "fixed_horizon", "horizon": 1, "threshold": 0.0},
    "dataset": {"lookback": 8, "stride": 1, "weights": "none"},
    "splits": {"n_folds": 1, "test_size": 0.2, "min_train": 300, "min_test": 100},
    "models": [{"model": "lightgbm", "params": {"n_estimators": 30}}],
    "hpo": {"model": "lightgbm", "metric": "macro_f1"},
}


def test_sweep_applies_the_best_params_and_reports_its_selection_bias(tmp_path) -> None:
    with DuckDBStore(tmp_path / "nexus.duckdb") as store:
        config = SimulatorConfig(symbols=3, sessions=12, interval="5m", seed=2, alpha=0.5)
        Ingestor(store).run(SimulatorSource(config))
        experiment = ExperimentConfig.model_validate(EXPERIMENT)
        report = run_experiment(store, experiment, home=tmp_path / "home", trials=4)
    tuned = report.tuned
    assert tuned["model"] == "lightgbm"
    assert tuned["n_trials"] == 4
    assert set(tuned["params"]) == set(DEFAULT_SPACES["lightgbm"])
    assert 0.0 <= tuned["pbo"] <= 1.0
    assert 0.0 <= tuned["deflated_sharpe"] <= 1.0
    assert 0.0 < tuned["macro_f1"] < 1.0
    trained = report.models[0]
    saved = yaml.safe_load((Path(trained["artifact"]) / "experiment.yaml").read_text())
    assert saved["models"][0]["params"] == {"n_estimators": 30, **tuned["params"]}
    assert np.isfinite(trained["summary"]["accuracy"])


def test_a_sweep_of_one_trial_has_no_selection_statistics(tmp_path) -> None:
    with DuckDBStore(tmp_path / "nexus.duckdb") as store:
        config = SimulatorConfig(symbols=2, sessions=10, interval="5m", seed=2)
        Ingestor(store).run(SimulatorSource(config))
        experiment = ExperimentConfig.model_validate(EXPERIMENT)
        report = run_experiment(store, experiment, home=tmp_path / "home", trials=1)
    assert report.tuned["n_trials"] == 1
    assert np.isnan(report.tuned["pbo"])
