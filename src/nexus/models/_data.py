"""Input checks shared by every model, and the class weights they all use."""

from __future__ import annotations

import numpy as np

from nexus.datasets import CLASSES, Dataset
from nexus.errors import ConfigError, DataError

__all__ = ["check_fit_data", "check_windows", "class_weights", "feature_moments"]

_CHUNK = 65_536


def check_fit_data(train: Dataset, valid: Dataset) -> None:
    """Check that ``train`` and ``valid`` can be fitted on.

    Raises
    ------
    DataError
        Naming the split and the problem: not a Dataset, empty, shapes or
        feature names that disagree, labels outside {0, 1, 2}, bad weights,
        non-finite features, or fewer than two classes in ``train`` (a class
        that never occurs gets probability 0; see ``ModelBase``).
    """
    for split, data in (("train", train), ("valid", valid)):
        _check_split(split, data)
    if train.X.shape[1:] != valid.X.shape[1:] or train.feature_names != valid.feature_names:
        raise DataError(
            f"train windows {train.X.shape[1:]} and valid windows {valid.X.shape[1:]} "
            "(lookback, features) or their feature names disagree",
            fix="build both splits from the same feature spec and window length",
        )
    present = [CLASSES[k] for k in range(len(CLASSES)) if (train.y == k).any()]
    if len(present) < 2:
        raise DataError(
            f"train holds only {', '.join(present)} samples; at least two classes must occur",
            fix="widen the training window, or loosen the label barriers or threshold",
        )


def _check_split(split: str, data: Dataset) -> None:
    if not isinstance(data, Dataset):
        raise DataError(
            f"{split} must be a nexus.datasets.Dataset, got {type(data).__name__}",
            fix="build it with nexus.datasets",
        )
    if len(data) == 0:
        raise DataError(f"{split} has no samples", fix="give the split a longer time span")
    if not np.isin(data.y, np.arange(len(CLASSES))).all():
        raise DataError(
            f"{split}.y holds values other than 0, 1, 2",
            fix="encode labels as DOWN=0, NEUTRAL=1, UP=2",
        )
    weight = np.asarray(data.weight, dtype=np.float64)
    if not np.isfinite(weight).all() or (weight < 0).any() or weight.sum() <= 0:
        raise DataError(
            f"{split}.weight must be finite, non-negative and not all zero",
            fix="check the sample-weight computation, or use ones",
        )
    _check_finite(f"{split}.X", data.X)


def _check_finite(what: str, X: np.ndarray) -> None:
    bad = sum(int((~np.isfinite(X[i : i + _CHUNK])).sum()) for i in range(0, len(X), _CHUNK))
    if bad:
        raise DataError(
            f"{what} has {bad} NaN or infinite values",
            fix="drop the feature warm-up rows before windowing, or fill the gaps",
        )


def check_windows(X: object, lookback: int, n_features: int) -> np.ndarray:
    """``X`` as a C-contiguous float32 array of shape (n, lookback, n_features).

    Raises
    ------
    DataError
        If ``X`` has another shape or non-finite values.
    """
    arr = np.asarray(X)
    if arr.ndim != 3 or arr.shape[1:] != (lookback, n_features):
        raise DataError(
            f"X has shape {arr.shape}; the model was fitted on (n, {lookback}, {n_features})",
            fix="pass windows of the training lookback and feature spec, shape (n, L, F)",
        )
    if not np.issubdtype(arr.dtype, np.number):
        raise DataError(f"X has dtype {arr.dtype}", fix="pass float32 features")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    _check_finite("X", arr)
    return arr


def class_weights(y: np.ndarray, weight: np.ndarray, mode: str | None) -> np.ndarray:
    """Per-class loss weights, shape (3,).

    ``"balanced"``: inverse class frequency (by sample-weight mass), scaled so
    that the weighted mass is unchanged: ``W / (3 * W_c)``. ``None``: ones.
    """
    if mode is None:
        return np.ones(len(CLASSES))
    if mode != "balanced":
        raise ConfigError(f"class_weight {mode!r} is unknown", fix="use 'balanced' or None")
    mass = np.bincount(y, weights=weight, minlength=len(CLASSES))
    return np.where(mass > 0, mass.sum() / (len(CLASSES) * np.maximum(mass, 1e-300)), 0.0)


def feature_moments(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation of the last window rows, float32 (F,).

    Using the last row of each window counts every bar once for stride-1
    windows and stays cheap for large ``X``. A constant feature gets std 1.
    """
    last = np.asarray(X[:, -1, :], dtype=np.float64)
    mean = last.mean(axis=0)
    std = last.std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)
    return mean.astype(np.float32), std.astype(np.float32)
