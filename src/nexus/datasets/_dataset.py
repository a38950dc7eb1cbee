"""The value every model is fitted on and scored with."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["CLASSES", "Dataset"]

CLASSES = ("DOWN", "NEUTRAL", "UP")
"""Class order of every label array and every ``predict_proba`` column: 0, 1, 2."""


@dataclass(frozen=True, slots=True)
class Dataset:
    """Samples for a model: feature windows, labels, weights and where each came from.

    Parameters
    ----------
    X : ndarray of float32, shape (n, L, F)
        For sample ``i``, the ``L`` feature rows of one symbol ending at the
        decision time ``index.ts[i]`` (oldest first). Tabular models use the
        last row, :attr:`tabular`.
    y : ndarray of int64, shape (n,)
        Class per sample, an index into :data:`CLASSES` (0 DOWN, 1 NEUTRAL, 2 UP).
    weight : ndarray of float64, shape (n,)
        Sample weight (for example average label uniqueness); ones when unused.
    index : DataFrame, shape (n, >= 3)
        ``symbol``, ``ts`` (decision time: the close of the bar the last
        feature row describes is known) and ``t_end`` (when the label is
        known), in sample order.
    feature_names : tuple of str, length F
    """

    X: np.ndarray
    y: np.ndarray
    weight: np.ndarray
    index: pd.DataFrame
    feature_names: tuple[str, ...]

    def __post_init__(self) -> None:
        n = len(self.y)
        if self.X.ndim != 3 or len(self.X) != n or len(self.weight) != n or len(self.index) != n:
            raise ValueError(
                f"Dataset arrays disagree: X {self.X.shape}, y {self.y.shape}, "
                f"weight {self.weight.shape}, index {len(self.index)} rows; "
                "X must be (n, L, F) and the rest length n"
            )
        if self.X.shape[2] != len(self.feature_names):
            raise ValueError(
                f"X has {self.X.shape[2]} features but {len(self.feature_names)} names were given"
            )

    def __len__(self) -> int:
        return len(self.y)

    @property
    def lookback(self) -> int:
        """``L``, the window length."""
        return int(self.X.shape[1])

    @property
    def tabular(self) -> np.ndarray:
        """The last feature row of each window, shape (n, F)."""
        return self.X[:, -1, :]

    def take(self, rows: np.ndarray) -> Dataset:
        """The samples at integer positions (or a boolean mask) ``rows``."""
        rows = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows)
        return Dataset(
            X=self.X[rows],
            y=self.y[rows],
            weight=self.weight[rows],
            index=self.index.iloc[rows].reset_index(drop=True),
            feature_names=self.feature_names,
        )

    def class_counts(self) -> np.ndarray:
        """Samples per class, shape (3,)."""
        return np.bincount(self.y, minlength=len(CLASSES))
