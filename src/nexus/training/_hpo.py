"""Hyper-parameter search with Optuna, on the first fold's fit and validation samples only.

The test blocks are never seen by the search, so the scores the experiment
reports stay out of sample. Every trial's calls on the validation samples are
also traded by the backtester (default costs), so the sweep reports how much the
selection itself may have overfitted: the probability of backtest overfitting
(CSCV over the trials' per-bar returns) and the deflated Sharpe ratio of the
chosen trial given the number of trials.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
import pandas as pd

from nexus.datasets import Dataset
from nexus.errors import ConfigError
from nexus.evaluation import (
    PROBA_COLUMNS,
    backtest,
    classification_metrics,
    deflated_sharpe_ratio,
    probability_of_backtest_overfitting,
)
from nexus.training._config import ExperimentConfig, ModelConfig
from nexus.training._prepare import Prepared, split_train_valid
from nexus.training._trainer import Progress, fit_fold

__all__ = ["DEFAULT_SPACES", "Tuned", "tune"]

DEFAULT_SPACES: dict[str, dict[str, dict[str, Any]]] = {
    "lightgbm": {
        "num_leaves": {"type": "int", "low": 7, "high": 63},
        "learning_rate": {"type": "float", "low": 0.01, "high": 0.2, "log": True},
        "min_child_samples": {"type": "int", "low": 10, "high": 200, "log": True},
        "colsample_bytree": {"type": "float", "low": 0.5, "high": 1.0},
    },
    "logistic": {"C": {"type": "float", "low": 1e-3, "high": 10.0, "log": True}},
    "lstm": {
        "hidden_size": {"type": "categorical", "choices": [16, 32, 64]},
        "dropout": {"type": "float", "low": 0.0, "high": 0.4},
        "learning_rate": {"type": "float", "low": 1e-4, "high": 3e-3, "log": True},
    },
    "transformer": {
        "d_model": {"type": "categorical", "choices": [16, 32, 64]},
        "dropout": {"type": "float", "low": 0.0, "high": 0.4},
        "learning_rate": {"type": "float", "low": 1e-4, "high": 3e-3, "log": True},
    },
}
"""Search spaces used when the experiment's ``hpo.space`` is empty."""

_MAXIMIZE = {"macro_f1", "accuracy"}


def _suggest(trial: optuna.Trial, name: str, spec: dict[str, Any]) -> Any:
    kind = spec.get("type")
    if kind == "int":
        return trial.suggest_int(name, spec["low"], spec["high"], log=spec.get("log", False))
    if kind == "float":
        return trial.suggest_float(name, spec["low"], spec["high"], log=spec.get("log", False))
    if kind == "categorical":
        return trial.suggest_categorical(name, spec["choices"])
    raise ConfigError(
        f"hpo.space.{name} has type {kind!r}",
        fix="use type int, float (with low, high, optional log) or categorical (with choices)",
    )


def _target(config: ExperimentConfig) -> ModelConfig:
    for model_config in config.models:
        if model_config.model == config.hpo.model:
            return model_config
    raise ConfigError(
        f"hpo.model {config.hpo.model!r} is not one of the experiment's models",
        fix=f"use one of {', '.join(m.model for m in config.models)}",
    )


@dataclass(frozen=True, slots=True)
class Tuned:
    """The outcome of a sweep.

    Attributes
    ----------
    model : str
    params : dict
        The best trial's parameters.
    score : float
        Its ``hpo.metric`` on the validation samples.
    n_trials : int
    pbo : float
        Probability of backtest overfitting (CSCV, 8 blocks) of the trials'
        backtests; NaN with fewer than 2 trials or 16 bars.
    deflated_sharpe : float
        The best trial's deflated Sharpe ratio given ``n_trials``.
    """

    model: str
    params: dict[str, Any]
    score: float
    n_trials: int
    pbo: float
    deflated_sharpe: float

    def to_dict(self, metric: str) -> dict[str, Any]:
        """JSON-ready, the score under the metric's name."""
        return {
            "model": self.model,
            "params": self.params,
            metric: self.score,
            "n_trials": self.n_trials,
            "pbo": self.pbo,
            "deflated_sharpe": self.deflated_sharpe,
        }


def tune(
    prepared: Prepared, config: ExperimentConfig, *, trials: int, progress: Progress | None = None
) -> Tuned:
    """Search ``config.hpo.model``'s parameters on the first fold's validation samples."""
    model_config = _target(config)
    space = config.hpo.space or DEFAULT_SPACES.get(model_config.model, {})
    if not space:
        raise ConfigError(f"no search space for model {model_config.model!r}", fix="give hpo.space")
    data = prepared.dataset
    fit_rows, valid_rows = split_train_valid(
        data, prepared.folds[0].train, config.splits.valid_size, config.labels.horizon
    )
    fit, valid = data.take(fit_rows), data.take(valid_rows)
    metric = config.hpo.metric
    notify = progress or (lambda event, details: None)
    returns: dict[int, pd.Series] = {}

    def objective(trial: optuna.Trial) -> float:
        params = {name: _suggest(trial, name, spec) for name, spec in space.items()}
        model, scaler = fit_fold(model_config, fit, valid, seed=config.seed, params=params)
        n, L, F = valid.X.shape
        scaled = scaler.transform(valid.X.reshape(n * L, F)).reshape(n, L, F)
        proba = model.predict_proba(scaled)
        score = classification_metrics(valid.y, proba)[metric]
        returns[trial.number] = _trade(prepared.bars, valid, proba)
        notify(
            "trial",
            {
                "model": model_config.model,
                "trial": trial.number,
                "trials": trials,
                "score": score,
                "metric": metric,
            },
        )
        return score

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize" if metric in _MAXIMIZE else "minimize",
        sampler=optuna.samplers.TPESampler(seed=config.seed),
    )
    study.optimize(objective, n_trials=trials)
    best = study.best_trial.number
    pbo, dsr = _selection_bias(returns, best)
    return Tuned(
        model_config.model, dict(study.best_params), float(study.best_value), trials, pbo, dsr
    )


def _trade(bars: pd.DataFrame, data: Dataset, proba: np.ndarray) -> pd.Series:
    """Per-bar returns of trading ``proba`` on ``data``'s samples (default backtest)."""
    calls = data.index[["symbol", "ts"]].reset_index(drop=True)
    calls[list(PROBA_COLUMNS)] = proba
    span = (bars["ts"] >= calls["ts"].min()) & (bars["ts"] <= data.index["t_end"].max())
    return backtest(bars.loc[span], probabilities=calls).returns


def _selection_bias(returns: dict[int, pd.Series], best: int) -> tuple[float, float]:
    """PBO over all trials and the deflated Sharpe of trial ``best``."""
    panel = pd.DataFrame(returns).fillna(0.0)
    if panel.shape[1] < 2 or len(panel) < 16:
        return float("nan"), float("nan")
    pbo = probability_of_backtest_overfitting(panel.to_numpy(), n_splits=8)
    std = panel.std(ddof=1).replace(0.0, np.nan)
    sharpes = (panel.mean() / std).fillna(0.0).to_numpy()
    dsr = deflated_sharpe_ratio(panel[best].to_numpy(), panel.shape[1], trial_sharpes=sharpes)
    return float(pbo), float(dsr)
