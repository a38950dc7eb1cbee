"""Gradient-boosted trees (LightGBM, multiclass) on the last window row: the strong baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import lightgbm as lgb
import numpy as np
import onnx

from nexus.datasets import Dataset
from nexus.models._base import ModelBase
from nexus.models._data import class_weights
from nexus.models._lightgbm_onnx import booster_nodes
from nexus.models._onnx import LOGITS, last_row_nodes, onnx_logits_model
from nexus.models._params import Constraint, Interval, Options
from nexus.models._protocol import EpochCallback

__all__ = ["LightGBMModel"]

_BOOSTER = "booster.txt"


class LightGBMModel(ModelBase):
    """LightGBM multiclass boosting on ``X[:, -1, :]`` with early stopping on ``valid``.

    Each sample is weighted by ``Dataset.weight`` times its class weight, in
    training and in the validation loss (``multi_logloss``) that early stopping
    watches. Training is deterministic for a given ``random_state`` and ``n_threads``
    (``deterministic=True``, row-wise histograms). Only the trees up to the
    best iteration are kept. ``on_epoch`` is called after each boosting round
    with NaN as train loss.

    Parameters
    ----------
    n_estimators : int
        Maximum boosting rounds.
    learning_rate : float
    num_leaves : int
    max_depth : int
        -1 for no limit.
    min_child_samples : int
        Minimum samples per leaf.
    subsample : float
        Row fraction per bagging round (used when ``subsample_freq`` > 0).
    subsample_freq : int
    colsample_bytree : float
        Feature fraction per tree.
    reg_alpha, reg_lambda : float
        L1 and L2 penalties on leaf values.
    early_stopping_rounds : int or None
        Rounds without validation improvement before stopping; None trains all rounds.
    class_weight : {"balanced", None}
    calibration : {"bcts", "temperature", "isotonic", None}
        Probability calibration fitted on the validation split, after the class
        weighting's prior shift is taken out (see ``ModelBase``); ``"bcts"`` also fits a
        bias per class, which matches the validation split's class frequencies.
    random_state : int
        LightGBM ``seed``.
    n_threads : int or None
        LightGBM ``num_threads``; None uses OpenMP's default.

    Attributes
    ----------
    booster_ : lightgbm.Booster
        Trees up to the best iteration.
    best_iteration_ : int
    calibrator_, n_features_in_, lookback_, feature_names_in_
        See :class:`~nexus.models.ModelBase`.

    Examples
    --------
    >>> LightGBMModel(num_leaves=15, n_threads=2)
    LightGBMModel(n_threads=2, num_leaves=15)
    """

    name: ClassVar[str] = "lightgbm"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "n_estimators": [Interval(int, 1, None)],
        "learning_rate": [Interval(float, 0, None, closed="neither")],
        "num_leaves": [Interval(int, 2, 131072)],
        "max_depth": [Interval(int, -1, None)],
        "min_child_samples": [Interval(int, 1, None)],
        "subsample": [Interval(float, 0, 1, closed="right")],
        "subsample_freq": [Interval(int, 0, None)],
        "colsample_bytree": [Interval(float, 0, 1, closed="right")],
        "reg_alpha": [Interval(float, 0, None)],
        "reg_lambda": [Interval(float, 0, None)],
        "early_stopping_rounds": [Interval(int, 1, None), Options((None,))],
        "class_weight": [Options(("balanced", None))],
        "calibration": [Options(("bcts", "temperature", "isotonic", None))],
        "random_state": [Interval(int, 0, 2**31 - 1)],
        "n_threads": [Interval(int, 1, None), Options((None,))],
    }

    def __init__(
        self,
        *,
        n_estimators: int = 500,
        learning_rate: float = 0.05,
        num_leaves: int = 31,
        max_depth: int = -1,
        min_child_samples: int = 20,
        subsample: float = 1.0,
        subsample_freq: int = 0,
        colsample_bytree: float = 1.0,
        reg_alpha: float = 0.0,
        reg_lambda: float = 0.0,
        early_stopping_rounds: int | None = 50,
        class_weight: str | None = "balanced",
        calibration: str | None = "temperature",
        random_state: int = 0,
        n_threads: int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.subsample_freq = subsample_freq
        self.colsample_bytree = colsample_bytree
        self.reg_alpha = reg_alpha
        self.reg_lambda = reg_lambda
        self.early_stopping_rounds = early_stopping_rounds
        self.class_weight = class_weight
        self.calibration = calibration
        self.random_state = random_state
        self.n_threads = n_threads

    def _booster_params(self) -> dict[str, Any]:
        return {
            "objective": "multiclass",
            "num_class": 3,
            "metric": "multi_logloss",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "max_depth": self.max_depth,
            "min_data_in_leaf": self.min_child_samples,
            "bagging_fraction": self.subsample,
            "bagging_freq": self.subsample_freq,
            "feature_fraction": self.colsample_bytree,
            "lambda_l1": self.reg_alpha,
            "lambda_l2": self.reg_lambda,
            "seed": self.random_state,
            "num_threads": self.n_threads or 0,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
        }

    def _fit(self, train: Dataset, valid: Dataset, on_epoch: EpochCallback | None) -> None:
        y = np.asarray(train.y, dtype=np.int64)
        cw = class_weights(y, np.asarray(train.weight, dtype=np.float64), self.class_weight)
        params = self._booster_params()
        train_set = _lgb_data(train, cw, params)
        valid_set = _lgb_data(valid, cw, params, reference=train_set)
        callbacks = []
        if self.early_stopping_rounds is not None:
            callbacks.append(lgb.early_stopping(self.early_stopping_rounds, verbose=False))
        if on_epoch is not None:
            callbacks.append(_progress(on_epoch))
        booster = lgb.train(
            params,
            train_set,
            num_boost_round=self.n_estimators,
            valid_sets=[valid_set],
            valid_names=["valid"],
            callbacks=callbacks,
        )
        self.best_iteration_ = int(booster.best_iteration or booster.current_iteration())
        self.booster_ = lgb.Booster(
            model_str=booster.model_to_string(num_iteration=self.best_iteration_)
        )

    def _logits(self, X: np.ndarray) -> np.ndarray:
        raw = self.booster_.predict(X[:, -1, :], raw_score=True, num_threads=self.n_threads or 0)
        return np.asarray(raw, dtype=np.float64).reshape(len(X), 3)

    def _save_state(self, folder: Path) -> dict[str, Any]:
        self.booster_.save_model(folder / _BOOSTER)
        return {"booster": _BOOSTER, "best_iteration": self.best_iteration_}

    def _load_state(self, folder: Path, state: dict[str, Any]) -> None:
        self.booster_ = lgb.Booster(model_file=folder / state["booster"])
        self.best_iteration_ = int(state["best_iteration"])

    def _onnx_logits(self) -> onnx.ModelProto:
        nodes, inits = last_row_nodes("last_row")
        tree_nodes, tree_inits = booster_nodes(self.booster_.dump_model(), "last_row", LOGITS)
        return onnx_logits_model(
            nodes + tree_nodes,
            inits + tree_inits,
            self.lookback_,
            self.n_features_in_,
            ml_domain=True,
        )


def _lgb_data(
    data: Dataset, cw: np.ndarray, params: dict[str, Any], reference: lgb.Dataset | None = None
) -> lgb.Dataset:
    y = np.asarray(data.y, dtype=np.int64)
    weight = np.asarray(data.weight, dtype=np.float64) * cw[y]
    return lgb.Dataset(
        np.asarray(data.tabular, dtype=np.float32),
        label=y,
        weight=weight,
        params={"verbosity": -1},
        reference=reference,
        free_raw_data=True,
    )


def _progress(on_epoch: EpochCallback) -> Any:
    def callback(env: lgb.callback.CallbackEnv) -> None:
        valid_loss = (
            float(env.evaluation_result_list[0][2]) if env.evaluation_result_list else float("nan")
        )
        on_epoch(env.iteration + 1, float("nan"), valid_loss)

    return callback
