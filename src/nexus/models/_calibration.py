"""Probability calibration on validation data: temperature scaling and isotonic.

A calibrator maps a model's logits, shape (n, 3), to calibrated class
probabilities, shape (n, 3), rows summing to 1. It is fitted on the
validation split (the same split early stopping watches; the walk-forward
test fold stays untouched), saved as JSON with the model, and appended to the
model's ONNX graph, so ONNX Runtime serves the calibrated probabilities.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Self

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from scipy.optimize import minimize
from scipy.special import log_softmax, softmax
from sklearn.isotonic import IsotonicRegression

from nexus.errors import ConfigError, DataError

__all__ = [
    "CALIBRATIONS",
    "IsotonicCalibration",
    "NoCalibration",
    "TemperatureScaling",
    "load_calibrator",
    "make_calibrator",
    "weighted_log_loss",
]

OnnxPart = tuple[list[onnx.NodeProto], list[onnx.TensorProto]]


def weighted_log_loss(proba: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> float:
    """Mean negative log-likelihood of the true classes.

    Parameters
    ----------
    proba : ndarray, shape (n, 3)
        Class probabilities.
    y : ndarray of int, shape (n,)
        True classes.
    weight : ndarray, shape (n,), optional
        Sample weights; equal when omitted.
    """
    picked = np.clip(proba[np.arange(len(y)), y], 1e-15, 1.0)
    return float(np.average(-np.log(picked), weights=weight))


class NoCalibration:
    """Plain softmax of the logits (``calibration=None``)."""

    kind: ClassVar[str] = "none"

    def fit(self, logits: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> Self:
        """Nothing to learn; returns self."""
        return self

    def transform(self, logits: np.ndarray) -> np.ndarray:
        """Softmax, shape (n, 3) from logits (n, 3)."""
        return softmax(np.asarray(logits, dtype=np.float64), axis=1)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready state."""
        return {"kind": self.kind}

    def onnx_part(self, logits: str, output: str) -> OnnxPart:
        """ONNX nodes mapping tensor ``logits`` (batch, 3) to ``output``."""
        return [helper.make_node("Softmax", [logits], [output], axis=-1)], []


class TemperatureScaling(NoCalibration):
    """Softmax of ``logits / T`` (+ a per-class bias), fitted by minimising the validation NLL.

    ``T > 1`` softens an overconfident model, ``T < 1`` sharpens an underconfident
    one; alone it never changes the arg-max class (``calibration="temperature"``).
    With ``bias=True`` (``calibration="bcts"``, bias-corrected temperature scaling,
    Alexandari et al. 2020) a bias per class is fitted too, so that the mean
    probability of each class matches its validation frequency. The models
    already remove the known shift that class weighting puts into the logits
    (``ModelBase.class_offset_``); the bias adds what remains, e.g. from focal
    loss, but it also imports the validation period's class frequencies, which
    move with the market (on the planted-edge simulator test it cost LightGBM 1.6
    accuracy points against temperature scaling). The NLL is convex in
    ``(1 / T, bias)``; L-BFGS-B with the exact gradient finds the optimum, with
    ``1 / T`` bounded to [0.01, 100] and the first class's bias fixed at 0.

    Parameters
    ----------
    bias : bool
        Also fit a per-class bias.

    Attributes
    ----------
    temperature_ : float
    bias_ : ndarray, shape (3,)
        Zeros unless ``bias``.
    """

    kind: ClassVar[str] = "temperature"

    def __init__(self, bias: bool = False) -> None:
        self.bias = bias

    def fit(self, logits: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> Self:
        """Fit on logits (n, 3), labels (n,) and optional sample weights (n,); returns self."""
        z = np.asarray(logits, dtype=np.float64)
        y = np.asarray(y, dtype=np.int64)
        w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=np.float64)
        n_bias = z.shape[1] - 1 if self.bias else 0
        found = minimize(
            _nll_and_gradient,
            np.r_[1.0, np.zeros(n_bias)],
            args=(z, y, w / w.sum()),
            jac=True,
            method="L-BFGS-B",
            bounds=[(0.01, 100.0)] + [(-50.0, 50.0)] * n_bias,
            options={"ftol": 1e-13, "gtol": 1e-10, "maxiter": 1000},
        )
        self.temperature_ = float(1.0 / found.x[0])
        self.bias_ = np.r_[0.0, found.x[1:]] if self.bias else np.zeros(z.shape[1])
        return self

    def transform(self, logits: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, shape (n, 3)."""
        z = np.asarray(logits, dtype=np.float64)
        return softmax(z / self.temperature_ + self.bias_, axis=1)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready state."""
        return {
            "kind": self.kind,
            "temperature": self.temperature_,
            "bias": self.bias_.tolist(),
            "fit_bias": self.bias,
        }

    @classmethod
    def from_json(cls, state: dict[str, Any]) -> TemperatureScaling:
        """Rebuild from :meth:`to_json`."""
        out = cls(bias=bool(state.get("fit_bias", False)))
        out.temperature_ = float(state["temperature"])
        out.bias_ = np.asarray(state.get("bias", [0.0, 0.0, 0.0]), dtype=np.float64)
        return out

    def onnx_part(self, logits: str, output: str) -> OnnxPart:
        """``Softmax(logits / T + bias)`` as ONNX nodes."""
        consts = [
            numpy_helper.from_array(np.array(self.temperature_, dtype=np.float32), "calib_t"),
            numpy_helper.from_array(self.bias_.astype(np.float32), "calib_bias"),
        ]
        nodes = [
            helper.make_node("Div", [logits, "calib_t"], ["calib_scaled"]),
            helper.make_node("Add", ["calib_scaled", "calib_bias"], ["calib_shifted"]),
            helper.make_node("Softmax", ["calib_shifted"], [output], axis=-1),
        ]
        return nodes, consts


def _nll_and_gradient(
    params: np.ndarray, z: np.ndarray, y: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    """Weighted NLL of ``softmax(a z + b)`` and its gradient in ``(a, b[1:])``; ``w`` sums to 1."""
    a = params[0]
    b = np.r_[0.0, params[1:]] if len(params) > 1 else 0.0
    log_p = log_softmax(a * z + b, axis=1)
    rows = np.arange(len(y))
    nll = -float(w @ log_p[rows, y])
    residual = np.exp(log_p)
    residual[rows, y] -= 1.0  # d NLL / d score, per sample
    grad_a = float(w @ (residual * z).sum(axis=1))
    grad_b = (w @ residual)[1:] if len(params) > 1 else np.empty(0)
    return nll, np.r_[grad_a, grad_b]


class IsotonicCalibration(NoCalibration):
    """One-vs-rest isotonic regression on the softmax probabilities, then renormalised.

    Each class's isotonic fit is stored as its values on a uniform grid of
    ``n_knots`` probabilities in [0, 1] and applied by linear interpolation
    between knots; native and ONNX use that same table. The grid bounds the
    slope, so float32 ONNX output stays within about 1e-5 of the float64 native
    output. Values are floored at 1e-6 so a row never sums to zero. After
    renormalisation a class probability is no longer strictly monotone in its
    raw probability; the arg-max class may change. Needs more validation
    samples than temperature scaling (a few hundred per class at least).

    Parameters
    ----------
    n_knots : int
        Grid size, at least 2.

    Attributes
    ----------
    table_ : ndarray, shape (3, n_knots)
        Calibrated value of each class at each knot.
    """

    kind: ClassVar[str] = "isotonic"

    def __init__(self, n_knots: int = 101) -> None:
        self.n_knots = n_knots

    def fit(self, logits: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> Self:
        """Fit one isotonic curve per class on logits (n, 3) and labels (n,); returns self."""
        proba = softmax(np.asarray(logits, dtype=np.float64), axis=1)
        grid = np.linspace(0.0, 1.0, self.n_knots)
        rows = []
        for k in range(proba.shape[1]):
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            iso.fit(proba[:, k], (y == k).astype(np.float64), sample_weight=weight)
            rows.append(iso.predict(grid))
        self.table_ = np.clip(np.vstack(rows), 1e-6, 1.0)
        return self

    def transform(self, logits: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, shape (n, 3)."""
        proba = softmax(np.asarray(logits, dtype=np.float64), axis=1)
        steps = self.table_.shape[1] - 1
        pos = np.clip(proba, 0.0, 1.0) * steps
        idx = np.clip(np.floor(pos), 0, steps - 1).astype(np.int64)
        frac = pos - idx
        lo = self._at(idx)
        hi = self._at(idx + 1)
        values = lo + (hi - lo) * frac
        return values / values.sum(axis=1, keepdims=True)

    def _at(self, idx: np.ndarray) -> np.ndarray:
        """Table values at knot indices ``idx`` (n, 3), class by column."""
        return self.table_[np.arange(self.table_.shape[0])[None, :], idx]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready state."""
        return {"kind": self.kind, "n_knots": self.n_knots, "table": self.table_.tolist()}

    @classmethod
    def from_json(cls, state: dict[str, Any]) -> IsotonicCalibration:
        """Rebuild from :meth:`to_json`."""
        out = cls(n_knots=int(state["n_knots"]))
        out.table_ = np.asarray(state["table"], dtype=np.float64)
        return out

    def onnx_part(self, logits: str, output: str) -> OnnxPart:
        """Softmax, then table look-up with linear interpolation, then renormalisation."""
        n_classes, width = self.table_.shape
        consts = {
            "iso_table": self.table_.astype(np.float32).reshape(-1),
            "iso_steps": np.array(width - 1, dtype=np.float32),
            "iso_zero": np.array(0.0, dtype=np.float32),
            "iso_last": np.array(width - 2, dtype=np.float32),
            "iso_offset": (np.arange(n_classes, dtype=np.int64) * width)[None, :],
            "iso_one": np.array(1, dtype=np.int64),
            "iso_axes": np.array([-1], dtype=np.int64),
        }
        make = helper.make_node
        nodes = [
            make("Softmax", [logits], ["iso_p"], axis=-1),
            make("Mul", ["iso_p", "iso_steps"], ["iso_pos"]),
            make("Floor", ["iso_pos"], ["iso_floor"]),
            make("Clip", ["iso_floor", "iso_zero", "iso_last"], ["iso_idx_f"]),
            make("Sub", ["iso_pos", "iso_idx_f"], ["iso_frac"]),
            make("Cast", ["iso_idx_f"], ["iso_idx_i"], to=TensorProto.INT64),
            make("Add", ["iso_idx_i", "iso_offset"], ["iso_lo_idx"]),
            make("Add", ["iso_lo_idx", "iso_one"], ["iso_hi_idx"]),
            make("Gather", ["iso_table", "iso_lo_idx"], ["iso_lo"], axis=0),
            make("Gather", ["iso_table", "iso_hi_idx"], ["iso_hi"], axis=0),
            make("Sub", ["iso_hi", "iso_lo"], ["iso_rise"]),
            make("Mul", ["iso_rise", "iso_frac"], ["iso_step"]),
            make("Add", ["iso_lo", "iso_step"], ["iso_values"]),
            make("ReduceSum", ["iso_values", "iso_axes"], ["iso_total"], keepdims=1),
            make("Div", ["iso_values", "iso_total"], [output]),
        ]
        return nodes, [numpy_helper.from_array(v, k) for k, v in consts.items()]


CALIBRATIONS: dict[str | None, Callable[[], NoCalibration]] = {
    "bcts": lambda: TemperatureScaling(bias=True),
    "temperature": TemperatureScaling,
    "isotonic": IsotonicCalibration,
    None: NoCalibration,
}
"""Calibration name (a model's ``calibration`` parameter) -> new calibrator."""


def make_calibrator(kind: str | None) -> NoCalibration:
    """A new, unfitted calibrator for a model's ``calibration`` parameter."""
    if kind not in CALIBRATIONS:
        raise ConfigError(
            f"calibration {kind!r} is unknown",
            fix="use 'bcts', 'temperature', 'isotonic' or None",
        )
    return CALIBRATIONS[kind]()


def load_calibrator(state: dict[str, Any]) -> NoCalibration:
    """Rebuild a fitted calibrator from its JSON state."""
    kind = state.get("kind")
    if kind == "none":
        return NoCalibration()
    if kind == "temperature":
        return TemperatureScaling.from_json(state)
    if kind == "isotonic":
        return IsotonicCalibration.from_json(state)
    raise DataError(
        f"saved calibrator kind {kind!r} is unknown",
        fix="re-save the model with this version of Nexus",
    )
