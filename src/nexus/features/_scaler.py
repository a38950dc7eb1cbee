"""Feature scaling fitted on the training window only, saved as JSON with the model."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nexus.errors import ConfigError, DataError, SourceNotFoundError

__all__ = ["FeatureScaler"]

METHODS = ("standard", "minmax", "robust")
KEY_COLUMNS = ("symbol", "ts")
_FORMAT = "nexus.features.FeatureScaler/1"


class FeatureScaler:
    """Per-feature ``(x - center_) / scale_``, learned from training rows, NaN ignored.

    scikit-learn style: ``__init__`` stores its arguments unchanged, :meth:`fit`
    learns ``center_`` and ``scale_`` (and discards anything learned before),
    :meth:`transform` applies them unchanged to any later data (validation,
    test, live). NaN stays NaN (warm-up rows).

    Parameters
    ----------
    method : {"standard", "minmax", "robust"}
        ``standard``: mean and population sd; ``minmax``: minimum and range (to
        [0, 1] on the training rows); ``robust``: median and inter-quartile range.
        A zero spread becomes 1 (the feature is only centred).
    clip : float, optional
        Clip scaled values to ``[-clip, clip]``.

    Attributes
    ----------
    feature_names_in_ : tuple of str
    center_, scale_ : ndarray of float64, shape (F,)
    n_samples_seen_ : ndarray of int64, shape (F,)
        Finite training values per feature.

    Examples
    --------
    >>> import pandas as pd
    >>> train = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, float("nan"), 4.0]})
    >>> scaler = FeatureScaler().fit(train)
    >>> scaler.center_.tolist(), scaler.scale_.tolist()
    ([2.0, 2.0], [0.816496580927726, 2.0])
    >>> FeatureScaler.from_json(scaler.to_json()).transform(train)["b"].tolist()
    [-1.0, nan, 1.0]
    """

    def __init__(self, method: str = "standard", clip: float | None = None) -> None:
        self.method = method
        self.clip = clip

    # ------------------------------------------------------------------ fit

    def fit(
        self,
        X: pd.DataFrame | np.ndarray,
        y: object = None,
        *,
        feature_names: Sequence[str] | None = None,
    ) -> FeatureScaler:
        """Learn ``center_`` and ``scale_`` from the training rows ``X``.

        Parameters
        ----------
        X : DataFrame or ndarray, shape (n, F)
            The training window's feature rows only. A frame's ``symbol`` and
            ``ts`` columns are skipped; every other column is a feature.
        y : object, optional
            Ignored (scikit-learn compatibility).
        feature_names : sequence of str, optional
            Names of an array's columns (default ``x0, x1, ...``).

        Returns
        -------
        FeatureScaler
            ``self``.

        Raises
        ------
        ConfigError
            On an unknown ``method`` or a bad ``clip``.
        DataError
            If a feature has no finite training value.
        """
        self._check_params()
        names, values = _features(X, feature_names, "fit")
        finite = np.isfinite(values)
        counts = finite.sum(axis=0)
        if (counts == 0).any():
            empty = [n for n, c in zip(names, counts, strict=True) if c == 0]
            raise DataError(
                f"FeatureScaler.fit: features {empty} have no finite value in the training rows",
                fix="fit on rows after the features' warm-up, or drop these features",
            )
        center, spread = _statistics(np.where(finite, values, np.nan), self.method)
        self.feature_names_in_ = names
        self.center_ = center
        self.scale_ = np.where(spread > 0, spread, 1.0)
        self.n_samples_seen_ = counts.astype(np.int64)
        return self

    def _check_params(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(
                f"FeatureScaler method {self.method!r} is not known",
                fix=f"use one of {', '.join(METHODS)}",
            )
        if self.clip is not None and not (isinstance(self.clip, int | float) and self.clip > 0):
            raise ConfigError(
                f"FeatureScaler clip={self.clip!r} is not a positive number",
                fix="pass clip=None or a positive bound such as 5.0",
            )

    def _fitted(self) -> None:
        if not hasattr(self, "center_"):
            raise ConfigError(
                "this FeatureScaler is not fitted yet",
                fix="call fit(train_rows) first, or FeatureScaler.load(path)",
            )

    # ------------------------------------------------------------------ apply

    def transform(self, X: pd.DataFrame | np.ndarray) -> pd.DataFrame | np.ndarray:
        """Scale ``X`` with the training statistics.

        Parameters
        ----------
        X : DataFrame or ndarray, shape (n, F)
            A frame with exactly the fitted feature columns (plus optional
            ``symbol`` and ``ts``), in any order; or an array in fitted order.

        Returns
        -------
        DataFrame or ndarray, shape like ``X``
            A frame keeps its columns and index; only feature columns change.

        Raises
        ------
        DataError
            If the columns (or an array's width) differ from the fitted ones.
        """
        self._fitted()
        if isinstance(X, pd.DataFrame):
            return self._transform_frame(X)
        values = _as_2d(X, "transform")
        if values.shape[1] != len(self.center_):
            raise DataError(
                f"FeatureScaler.transform got {values.shape[1]} columns, fitted on "
                f"{len(self.center_)}",
                fix="pass the same features, in the fitted order",
            )
        return self._scale(values)

    def _transform_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        present = [c for c in frame.columns if c not in KEY_COLUMNS]
        missing = [c for c in self.feature_names_in_ if c not in present]
        extra = [c for c in present if c not in self.feature_names_in_]
        if missing or extra:
            raise DataError(
                f"FeatureScaler.transform: frame lacks fitted features {missing} and has "
                f"unfitted columns {extra}",
                fix="transform frames from the same feature spec the scaler was fitted on",
            )
        names = list(self.feature_names_in_)
        scaled = self._scale(frame[names].to_numpy(dtype=np.float64))
        out = frame.copy()
        out[names] = scaled
        return out

    def _scale(self, values: np.ndarray) -> np.ndarray:
        out = (values - self.center_) / self.scale_
        if self.clip is not None:
            np.clip(out, -self.clip, self.clip, out=out)
        return out

    def fit_transform(
        self, X: pd.DataFrame | np.ndarray, y: object = None, **kwargs: Any
    ) -> pd.DataFrame | np.ndarray:
        """``fit(X).transform(X)``."""
        return self.fit(X, y, **kwargs).transform(X)

    # ------------------------------------------------------------------ persistence

    def to_json(self) -> str:
        """The fitted scaler as JSON (exact: floats round-trip bit for bit)."""
        self._fitted()
        return json.dumps(
            {
                "format": _FORMAT,
                "method": self.method,
                "clip": self.clip,
                "features": list(self.feature_names_in_),
                "center": self.center_.tolist(),
                "scale": self.scale_.tolist(),
                "n_samples_seen": self.n_samples_seen_.tolist(),
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> FeatureScaler:
        """A scaler from :meth:`to_json` text.

        Raises
        ------
        DataError
            If ``text`` is not a saved FeatureScaler.
        """
        try:
            data = json.loads(text)
            if data.get("format") != _FORMAT:
                raise KeyError("format")
            scaler = cls(method=data["method"], clip=data["clip"])
            scaler.feature_names_in_ = tuple(data["features"])
            scaler.center_ = np.array(data["center"], dtype=np.float64)
            scaler.scale_ = np.array(data["scale"], dtype=np.float64)
            scaler.n_samples_seen_ = np.array(data["n_samples_seen"], dtype=np.int64)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DataError(
                f"text is not a saved FeatureScaler ({type(exc).__name__}: {exc})",
                fix="load a file written by FeatureScaler.save",
            ) from None
        return scaler

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_json` to ``path``; returns the path."""
        path = Path(path)
        path.write_text(self.to_json())
        return path

    @classmethod
    def load(cls, path: str | Path) -> FeatureScaler:
        """Read a scaler written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise SourceNotFoundError(
                f"scaler file {str(path)!r} does not exist",
                fix="pass the path FeatureScaler.save wrote",
            )
        return cls.from_json(path.read_text())

    def __repr__(self) -> str:
        clip = "" if self.clip is None else f", clip={self.clip!r}"
        return f"FeatureScaler(method={self.method!r}{clip})"


def _as_2d(X: object, what: str) -> np.ndarray:
    values = np.asarray(X, dtype=np.float64)
    if values.ndim != 2:
        raise DataError(
            f"FeatureScaler.{what} got an array of shape {values.shape}",
            fix="pass rows x features, shape (n, F)",
        )
    return values


def _features(
    X: pd.DataFrame | np.ndarray, names: Sequence[str] | None, what: str
) -> tuple[tuple[str, ...], np.ndarray]:
    if isinstance(X, pd.DataFrame):
        cols = tuple(str(c) for c in X.columns if c not in KEY_COLUMNS)
        return cols, X[list(cols)].to_numpy(dtype=np.float64)
    values = _as_2d(X, what)
    cols = tuple(names) if names is not None else tuple(f"x{i}" for i in range(values.shape[1]))
    if len(cols) != values.shape[1]:
        raise DataError(
            f"FeatureScaler.{what}: {len(cols)} feature_names for {values.shape[1]} columns",
            fix="pass one name per column",
        )
    return cols, values


def _statistics(values: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-column center and spread of ``values`` (n, F), NaN ignored."""
    if method == "standard":
        return np.nanmean(values, axis=0), np.nanstd(values, axis=0)
    if method == "minmax":
        low = np.nanmin(values, axis=0)
        return low, np.nanmax(values, axis=0) - low
    q25, q50, q75 = np.nanpercentile(values, [25, 50, 75], axis=0)
    return q50, q75 - q25
