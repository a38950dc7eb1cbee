"""Multinomial logistic regression on the standardised last window row: the linear baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.linear_model import LogisticRegression

from nexus.datasets import CLASSES, Dataset
from nexus.models._base import ModelBase
from nexus.models._data import class_weights
from nexus.models._onnx import LOGITS, last_row_nodes, onnx_logits_model
from nexus.models._params import Constraint, Interval, Options
from nexus.models._protocol import EpochCallback

__all__ = ["LogisticModel"]


class LogisticModel(ModelBase):
    """Multinomial logistic regression (scikit-learn, lbfgs) on ``X[:, -1, :]``.

    Features are standardised with the training split's mean and std; the
    loss weights each sample by ``Dataset.weight`` times its class weight.
    ``on_epoch`` is called once, after the solver, with NaN losses.

    Parameters
    ----------
    C : float
        Inverse L2 regularisation strength.
    class_weight : {"balanced", None}
        Inverse class frequency in ``train``, or none.
    max_iter : int
        lbfgs iterations.
    tol : float
        lbfgs tolerance.
    calibration : {"bcts", "temperature", "isotonic", None}
        Probability calibration fitted on the validation split, after the class
        weighting's prior shift is taken out (see ``ModelBase``); ``"bcts"`` also fits a
        bias per class, which matches the validation split's class frequencies.

    Attributes
    ----------
    mean_, scale_ : ndarray, shape (F,)
        Standardisation learned from ``train``.
    coef_ : ndarray, shape (3, F)
    intercept_ : ndarray, shape (3,)
    n_iter_ : int
    calibrator_, n_features_in_, lookback_, feature_names_in_
        See :class:`~nexus.models.ModelBase`.

    Examples
    --------
    >>> LogisticModel(C=0.1)
    LogisticModel(C=0.1)
    """

    name: ClassVar[str] = "logistic"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "C": [Interval(float, 0, None, closed="neither")],
        "class_weight": [Options(("balanced", None))],
        "max_iter": [Interval(int, 1, None)],
        "tol": [Interval(float, 0, None, closed="neither")],
        "calibration": [Options(("bcts", "temperature", "isotonic", None))],
    }

    def __init__(
        self,
        *,
        C: float = 1.0,
        class_weight: str | None = "balanced",
        max_iter: int = 1000,
        tol: float = 1e-4,
        calibration: str | None = "temperature",
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.tol = tol
        self.calibration = calibration

    def _fit(self, train: Dataset, valid: Dataset, on_epoch: EpochCallback | None) -> None:
        rows = np.asarray(train.tabular, dtype=np.float64)
        self.mean_ = rows.mean(axis=0)
        scale = rows.std(axis=0)
        self.scale_ = np.where(scale > 1e-12, scale, 1.0)
        y = np.asarray(train.y, dtype=np.int64)
        weight = np.asarray(train.weight, dtype=np.float64)
        weight = weight * class_weights(y, weight, self.class_weight)[y]
        solver = LogisticRegression(C=self.C, tol=self.tol, max_iter=self.max_iter)
        solver.fit((rows - self.mean_) / self.scale_, y, sample_weight=weight)
        self.coef_, self.intercept_ = _three_class(solver, rows.shape[1])
        self.n_iter_ = int(np.max(solver.n_iter_))
        if on_epoch is not None:
            on_epoch(1, float("nan"), float("nan"))

    def _logits(self, X: np.ndarray) -> np.ndarray:
        z = (X[:, -1, :].astype(np.float64) - self.mean_) / self.scale_
        return z @ self.coef_.T + self.intercept_

    def _save_state(self, folder: Path) -> dict[str, Any]:
        return {
            "mean": self.mean_.tolist(),
            "scale": self.scale_.tolist(),
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_.tolist(),
            "n_iter": self.n_iter_,
        }

    def _load_state(self, folder: Path, state: dict[str, Any]) -> None:
        self.mean_ = np.asarray(state["mean"], dtype=np.float64)
        self.scale_ = np.asarray(state["scale"], dtype=np.float64)
        self.coef_ = np.asarray(state["coef"], dtype=np.float64)
        self.intercept_ = np.asarray(state["intercept"], dtype=np.float64)
        self.n_iter_ = int(state["n_iter"])

    def _onnx_logits(self) -> onnx.ModelProto:
        # Computed in float64 like the native path, so that features far from zero mean lose
        # no precision; only the logits are cast to float32.
        make = helper.make_node
        nodes, inits = last_row_nodes("last_row")
        nodes += [
            make("Cast", ["last_row"], ["lr_x"], to=TensorProto.DOUBLE),
            make("Sub", ["lr_x", "lr_mean"], ["lr_centred"]),
            make("Div", ["lr_centred", "lr_scale"], ["lr_z"]),
            make("MatMul", ["lr_z", "lr_coef_t"], ["lr_scores"]),
            make("Add", ["lr_scores", "lr_intercept"], ["lr_logits"]),
            make("Cast", ["lr_logits"], [LOGITS], to=TensorProto.FLOAT),
        ]
        arrays = {
            "lr_mean": self.mean_,
            "lr_scale": self.scale_,
            "lr_coef_t": np.ascontiguousarray(self.coef_.T),
            "lr_intercept": self.intercept_,
        }
        inits += [numpy_helper.from_array(v.astype(np.float64), k) for k, v in arrays.items()]
        return onnx_logits_model(nodes, inits, self.lookback_, self.n_features_in_)


def _three_class(solver: LogisticRegression, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (3, F) and intercepts (3,) whatever classes ``train`` held.

    With two classes scikit-learn fits one logistic score ``z`` for the second;
    ``softmax([0, z])`` gives the same probabilities. An absent class keeps
    zeros (``ModelBase`` gives it probability 0).
    """
    coef, intercept = np.zeros((len(CLASSES), n_features)), np.zeros(len(CLASSES))
    classes = solver.classes_.astype(np.int64)
    if len(classes) == 2:
        coef[classes[1]], intercept[classes[1]] = solver.coef_[0], solver.intercept_[0]
    else:
        coef[classes], intercept[classes] = solver.coef_, solver.intercept_
    return coef, intercept
