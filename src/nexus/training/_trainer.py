"""Walk-forward training of the configured models, scored against honest baselines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nexus.datasets import Dataset
from nexus.evaluation import (
    ThresholdChoice,
    classification_metrics,
    conditional_baseline,
    edge_significance,
    majority_baseline,
    select_threshold,
    skill_significance,
)
from nexus.features import FeatureScaler
from nexus.models import ModelBase, make_model
from nexus.training._config import ExperimentConfig, ModelConfig
from nexus.training._prepare import Prepared, split_train_valid

__all__ = ["FoldResult", "ModelResult", "Progress", "fit_fold", "train_models"]

Progress = Callable[[str, dict[str, Any]], None]
"""``progress(event, details)``: ``fold_start``, ``epoch``, ``fold_end``."""

_LAST_RETURN = "ret_1"


@dataclass(slots=True)
class FoldResult:
    """Out-of-sample scores of one model on one walk-forward fold.

    ``p_value_vs_majority``: paired cluster-block bootstrap that the accuracy beats
    the majority class by chance (:func:`~nexus.evaluation.edge_significance`).
    ``p_value_macro_f1``: circular-shift permutation test that the macro-F1 shows
    skill (:func:`~nexus.evaluation.skill_significance`).
    """

    fold: int
    n_train: int
    n_valid: int
    n_test: int
    test_start: str
    test_end: str
    metrics: dict[str, float]
    baselines: dict[str, dict[str, float]]
    p_value_vs_majority: float
    p_value_macro_f1: float


@dataclass(slots=True)
class ModelResult:
    """A model's folds, and the last fold's fitted model and scaler (kept as the artifact)."""

    config: ModelConfig
    folds: list[FoldResult] = field(default_factory=list)
    model: ModelBase | None = None
    scaler: FeatureScaler | None = None
    oos_y: list[np.ndarray] = field(default_factory=list)
    oos_proba: list[np.ndarray] = field(default_factory=list)

    def threshold(self) -> ThresholdChoice:
        """The call threshold chosen on every fold's out-of-sample predictions."""
        return select_threshold(np.concatenate(self.oos_y), np.concatenate(self.oos_proba))

    def summary(self) -> dict[str, float]:
        """Metrics averaged over the folds, weighted by test size."""
        sizes = np.array([f.n_test for f in self.folds], dtype=float)
        keys = [k for k in self.folds[0].metrics if k != "n"]
        return {
            k: float(np.average([f.metrics[k] for f in self.folds], weights=sizes)) for k in keys
        }


def _scaled(dataset: Dataset, scaler: FeatureScaler) -> Dataset:
    n, L, F = dataset.X.shape
    X = scaler.transform(dataset.X.reshape(n * L, F)).reshape(n, L, F).astype(np.float32)
    return Dataset(X, dataset.y, dataset.weight, dataset.index, dataset.feature_names)


def _last_sign(dataset: Dataset) -> np.ndarray:
    if _LAST_RETURN not in dataset.feature_names:
        return np.zeros(len(dataset), dtype=np.int64)
    col = dataset.feature_names.index(_LAST_RETURN)
    return np.sign(dataset.X[:, -1, col]).astype(np.int64)


def _baselines(train: Dataset, test: Dataset) -> dict[str, np.ndarray]:
    return {
        "majority": majority_baseline(train.y, len(test)),
        "last_return_sign": conditional_baseline(train.y, _last_sign(train), _last_sign(test)),
    }


def fit_fold(
    model_config: ModelConfig,
    fit: Dataset,
    valid: Dataset,
    *,
    seed: int,
    on_epoch: Callable | None = None,
    params: dict[str, Any] | None = None,
) -> tuple[ModelBase, FeatureScaler]:
    """Fit a train-only scaler and the model on ``fit``; calibrate on ``valid``."""
    scaler = FeatureScaler(method="standard").fit(fit.tabular, feature_names=fit.feature_names)
    chosen = {**model_config.params, **(params or {})}
    if "random_state" in _param_names(model_config.model) and "random_state" not in chosen:
        chosen["random_state"] = seed
    model = make_model(model_config.model, **chosen)
    model.fit(_scaled(fit, scaler), _scaled(valid, scaler), on_epoch=on_epoch)
    return model, scaler


def _param_names(model: str) -> list[str]:
    return make_model(model)._param_names()


def train_models(
    prepared: Prepared, config: ExperimentConfig, *, progress: Progress | None = None
) -> list[ModelResult]:
    """Train every configured model on every fold; score each out of sample."""
    notify = progress or (lambda event, details: None)
    results = []
    for model_config in config.models:
        result = ModelResult(config=model_config)
        for k, fold in enumerate(prepared.folds):
            notify(
                "fold_start", {"model": model_config.model, "fold": k, "folds": len(prepared.folds)}
            )
            result.folds.append(_run_fold(prepared, config, model_config, k, fold, result, notify))
            notify(
                "fold_end",
                {"model": model_config.model, "fold": k, "metrics": result.folds[-1].metrics},
            )
        results.append(result)
    return results


def _run_fold(prepared, config, model_config, k, fold, result, notify) -> FoldResult:
    data = prepared.dataset
    fit_rows, valid_rows = split_train_valid(
        data, fold.train, config.splits.valid_size, config.labels.horizon
    )
    fit, valid, test = data.take(fit_rows), data.take(valid_rows), data.take(fold.test)

    def on_epoch(epoch: int, train_loss: float, valid_loss: float) -> None:
        notify(
            "epoch",
            {
                "model": model_config.model,
                "fold": k,
                "epoch": epoch,
                "train_loss": train_loss,
                "valid_loss": valid_loss,
            },
        )

    model, scaler = fit_fold(model_config, fit, valid, seed=config.seed, on_epoch=on_epoch)
    result.model, result.scaler = model, scaler
    proba = model.predict_proba(_scaled(test, scaler).X)
    result.oos_y.append(test.y)
    result.oos_proba.append(proba)
    baselines = _baselines(data.take(fold.train), test)
    ts = test.index["ts"].to_numpy()
    block = max(1, config.labels.horizon // config.dataset.stride)
    return FoldResult(
        fold=k,
        n_train=len(fit),
        n_valid=len(valid),
        n_test=len(test),
        test_start=str(test.index["ts"].min()),
        test_end=str(test.index["ts"].max()),
        metrics=classification_metrics(test.y, proba),
        baselines={name: classification_metrics(test.y, p) for name, p in baselines.items()},
        p_value_vs_majority=edge_significance(
            test.y, proba, baselines["majority"], clusters=ts, block=block, seed=config.seed
        ),
        p_value_macro_f1=skill_significance(test.y, proba, clusters=ts, block=block),
    )
