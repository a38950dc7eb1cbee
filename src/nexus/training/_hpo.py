"""Hyper-parameter search with Optuna, on the first fold's fit and validation samples only.

The test blocks are never seen by the search, so the scores the experiment
reports stay out of sample.
"""

from __future__ import annotations

from typing import Any

import optuna

from nexus.errors import ConfigError
from nexus.evaluation import classification_metrics
from nexus.training._config import ExperimentConfig, ModelConfig
from nexus.training._prepare import Prepared, split_train_valid
from nexus.training._trainer import Progress, fit_fold

__all__ = ["DEFAULT_SPACES", "tune"]

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


def tune(
    prepared: Prepared, config: ExperimentConfig, *, trials: int, progress: Progress | None = None
) -> tuple[str, dict[str, Any], float]:
    """Search ``config.hpo.model``'s parameters; return (model name, best params, best score)."""
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

    def objective(trial: optuna.Trial) -> float:
        params = {name: _suggest(trial, name, spec) for name, spec in space.items()}
        model, scaler = fit_fold(model_config, fit, valid, seed=config.seed, params=params)
        n, L, F = valid.X.shape
        scaled = scaler.transform(valid.X.reshape(n * L, F)).reshape(n, L, F)
        score = classification_metrics(valid.y, model.predict_proba(scaled))[metric]
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
    return model_config.model, dict(study.best_params), float(study.best_value)
