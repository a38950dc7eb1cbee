"""Windows of features ending at each labelled bar: the samples models learn from.

Memory. ``X`` is a real float32 array of shape (n, L, F), so it costs
``n * L * F * 4`` bytes: every bar of 20 symbols x 60 sessions x 390 one-minute
bars with L = 60 and F = 40 would be about 4.5 GB. Consecutive labels overlap
almost entirely (a label lives ``H`` bars), so every bar adds little new
information. :func:`build_dataset` therefore takes a ``stride`` (keep the
decision bars whose time is every ``stride``-th distinct feature timestamp,
the same instants for every symbol) and refuses, before allocating, a dataset
larger than ``max_bytes`` with a message that names the stride that would fit.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from nexus.datasets._dataset import Dataset
from nexus.domain import ts_array
from nexus.errors import ConfigError, DataError
from nexus.labels import uniqueness_weights

__all__ = ["build_dataset"]

_LABEL_COLUMNS = ("symbol", "ts", "label", "t_touch", "t_end", "ret")
_WEIGHTS = ("uniqueness", None)
_DEFAULT_MAX_BYTES = 2 * 1024**3


def _check_int(value: object, name: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ConfigError(
            f"{name}={value!r} is not an integer >= {low}", fix=f"pass {name} >= {low}"
        )
    return int(value)


def _feature_columns(features: pd.DataFrame) -> list[str]:
    for col in ("symbol", "ts"):
        if col not in features.columns:
            raise DataError(
                f"features lack column {col!r}",
                fix="pass a frame of symbol, ts and one float column per feature",
            )
    names = [c for c in features.columns if c not in ("symbol", "ts")]
    bad = [c for c in names if not pd.api.types.is_numeric_dtype(features[c])]
    if not names or bad:
        raise DataError(
            f"features need numeric feature columns besides symbol and ts; got {names or 'none'}"
            + (f", not numeric: {bad}" if bad else ""),
            fix="keep only float feature columns next to symbol and ts",
        )
    return [str(c) for c in names]


def _feature_keys(features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Symbol code and time (microseconds) of each feature row, checked for order."""
    if not len(features):
        raise DataError("features are empty", fix="compute features over the labelled bars first")
    code, symbols = pd.factorize(features["symbol"])
    if (code < 0).any() or features["ts"].isna().any():
        raise DataError("features have rows without a symbol or ts", fix="drop those rows")
    ts = ts_array(features["ts"]).view(np.int64)
    same = code[1:] == code[:-1]
    if (code[1:] < code[:-1]).any() or (same & (ts[1:] <= ts[:-1])).any():
        raise DataError(
            "features are not sorted by symbol then ts with one row per (symbol, ts)",
            fix="features.sort_values(['symbol', 'ts']) and drop duplicate (symbol, ts) rows",
        )
    return code.astype(np.int64), ts, symbols


def _check_labels(labels: pd.DataFrame) -> None:
    missing = [c for c in _LABEL_COLUMNS if c not in labels.columns]
    if missing:
        raise DataError(
            f"labels lack columns {missing}",
            fix="pass the frame nexus.labels.triple_barrier or fixed_horizon returns",
        )
    values = labels["label"].to_numpy()
    if not np.isin(values, (-1, 0, 1)).all():
        raise DataError(
            "labels hold values other than -1, 0 and +1",
            fix="drop unlabelled rows (NaN) and map labels to -1/0/+1",
        )


def _locate(
    f_code: np.ndarray, f_ts: np.ndarray, symbols: pd.Index, labels: pd.DataFrame
) -> np.ndarray:
    """Feature row of each label's (symbol, ts), or -1 where there is none, shape (m,)."""
    l_code = symbols.get_indexer(labels["symbol"]).astype(np.int64)
    l_ts = ts_array(labels["ts"]).view(np.int64)
    times, rank = np.unique(np.concatenate([f_ts, l_ts]), return_inverse=True)
    f_key = f_code * len(times) + rank[: len(f_ts)]
    l_key = l_code * len(times) + rank[len(f_ts) :]
    pos = np.minimum(np.searchsorted(f_key, l_key), len(f_key) - 1)
    found = (l_code >= 0) & (f_key[pos] == l_key)
    if np.unique(l_key[found]).size < found.sum():
        raise DataError("labels repeat a (symbol, ts)", fix="keep one label per symbol and ts")
    return np.where(found, pos, -1)


def _window_ok(
    f_code: np.ndarray, finite: np.ndarray, pos: np.ndarray, lookback: int
) -> np.ndarray:
    """Whether the ``lookback`` rows ending at each ``pos`` are one symbol's and all finite."""
    ok = pos >= lookback - 1
    first = np.where(ok, pos - lookback + 1, 0)
    ok &= f_code[first] == f_code[pos]
    bad = np.concatenate([[0], np.cumsum(~finite)])
    return ok & (bad[pos + 1] - bad[first] == 0)


def _time_rank(f_ts: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Rank of each row's time among the distinct feature timestamps, shape (m,)."""
    return np.searchsorted(np.unique(f_ts), f_ts[pos])


def _check_size(
    rank: np.ndarray, stride: int, shape: tuple[int, int], max_bytes: int | None
) -> None:
    """Refuse an ``X`` above ``max_bytes``, naming the smallest stride that fits."""
    per_sample = shape[0] * shape[1] * 4
    size = int(np.count_nonzero(rank % stride == 0)) * per_sample
    if max_bytes is None or size <= max_bytes:
        return
    fits = stride * max(2, math.ceil(size / max(max_bytes, 1)))
    while fits <= len(rank) and np.count_nonzero(rank % fits == 0) * per_sample > max_bytes:
        fits += 1
    raise DataError(
        f"the dataset would hold {size // per_sample} windows of {shape[0]} x {shape[1]} "
        f"float32 = {size / 1024**3:.3g} GiB, above max_bytes={max_bytes / 1024**3:.3g} GiB",
        fix=f"pass stride={fits} (or more), a shorter lookback, fewer features or symbols, "
        "or a larger max_bytes",
    )


def _weights(kind: str | None, labels: pd.DataFrame, features: pd.DataFrame) -> np.ndarray:
    if kind is None:
        return np.ones(len(labels))
    w = uniqueness_weights(labels, bars=features[["symbol", "ts"]])
    return w / w.mean()


def build_dataset(
    features: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    lookback: int = 60,
    weights: str | None = "uniqueness",
    stride: int = 1,
    max_bytes: int | None = _DEFAULT_MAX_BYTES,
) -> Dataset:
    """Windows of ``lookback`` feature rows ending at each labelled bar.

    A labelled ``(symbol, ts)`` becomes a sample when the features hold a row
    for it and the ``L`` rows of that symbol ending there (consecutive rows of
    the frame) are all finite after the cast to float32; labels without such a
    window (warm-up, a symbol's first ``L - 1`` rows, gaps in the features) are
    not samples. With ``stride = k`` only decision bars at every ``k``-th
    distinct feature timestamp are kept (the same instants for all symbols).

    Parameters
    ----------
    features : DataFrame, shape (N, 2 + F)
        ``symbol``, ``ts`` and ``F`` numeric feature columns, rows sorted by
        symbol then ts (each symbol's rows together), NaN during warm-up.
    labels : DataFrame, shape (m, >= 6)
        From :func:`nexus.labels.triple_barrier` or :func:`nexus.labels.fixed_horizon`.
    lookback : int
        ``L``, rows per window (>= 1).
    weights : {"uniqueness", None}
        ``"uniqueness"``: average label uniqueness of the kept samples over
        the feature rows (:func:`nexus.labels.uniqueness_weights`), scaled to mean 1;
        ``None``: ones.
    stride : int
        Keep every ``stride``-th decision time (>= 1).
    max_bytes : int or None
        Refuse to build an ``X`` larger than this (default 2 GiB); None for no limit.

    Returns
    -------
    Dataset
        ``X`` float32 (n, L, F), oldest row first, ``X[i, -1]`` the feature row
        at ``index.ts[i]``; ``y`` int64 (n,), label + 1 (0 DOWN, 1 NEUTRAL, 2 UP);
        ``weight`` float64 (n,); ``index`` with ``symbol``, ``ts``, ``t_end`` and
        ``ret`` (the label's return); samples ordered as the feature rows.

    Raises
    ------
    ConfigError
        If ``lookback``, ``stride`` or ``weights`` is invalid.
    DataError
        If a frame is malformed, no sample survives, or ``X`` would exceed ``max_bytes``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> ts = pd.date_range("2025-01-02 14:30", periods=6, freq="1min", tz="UTC")
    >>> features = pd.DataFrame({"symbol": "A", "ts": ts, "x": [np.nan, 1, 2, 3, 4, 5.0]})
    >>> labels = pd.DataFrame({"symbol": "A", "ts": ts[:5], "label": [1, -1, 0, 1, 1],
    ...     "t_touch": ts[1:], "t_end": ts[1:] + pd.Timedelta("1min"), "ret": 0.0})
    >>> ds = build_dataset(features, labels, lookback=2)
    >>> ds.X.shape, ds.y.tolist(), ds.X[0, :, 0].tolist()
    ((3, 2, 1), [1, 2, 2], [1.0, 2.0])
    """
    lookback = _check_int(lookback, "lookback")
    stride = _check_int(stride, "stride")
    if weights not in _WEIGHTS:
        raise ConfigError(f"weights={weights!r} is not known", fix="use 'uniqueness' or None")
    names = _feature_columns(features)
    _check_labels(labels)
    f_code, f_ts, symbols = _feature_keys(features)
    values = features[names].to_numpy(dtype=np.float32)
    pos = _locate(f_code, f_ts, symbols, labels)
    rows = np.flatnonzero(pos >= 0)
    rows = rows[_window_ok(f_code, np.isfinite(values).all(axis=1), pos[rows], lookback)]
    rank = _time_rank(f_ts, pos[rows])
    _check_size(rank, stride, (lookback, len(names)), max_bytes)
    rows = rows[rank % stride == 0]
    rows = rows[np.argsort(pos[rows], kind="stable")]
    _check_enough(len(rows), len(labels), lookback, len(features))
    kept = labels.iloc[rows].reset_index(drop=True)
    X = np.take(values, pos[rows][:, None] + np.arange(1 - lookback, 1), axis=0)
    index = kept.loc[:, ["symbol", "ts", "t_end", "ret"]]
    return Dataset(
        X=X,
        y=kept["label"].to_numpy().astype(np.int64) + 1,
        weight=_weights(weights, kept, features),
        index=index,
        feature_names=tuple(names),
    )


def _check_enough(n: int, n_labels: int, lookback: int, n_rows: int) -> None:
    if n == 0:
        raise DataError(
            f"no sample survives: {n_labels} labels, {n_rows} feature rows, lookback={lookback}; "
            "a sample needs a label and L finite feature rows of its symbol ending at its ts",
            fix="check that labels and features share symbols and timestamps, "
            "shorten the lookback or the feature warm-up, or load more bars",
        )
