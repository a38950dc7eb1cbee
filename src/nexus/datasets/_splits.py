"""Honest splits: walk-forward and purged K-fold, purged and embargoed by label spans.

Every sample ``i`` has a label span ``[ts_i, t_end_i]``: from its decision bar
to the moment its label is known. Splits are made on *time*: the distinct
``ts`` of the index are cut into blocks, so all samples (all symbols) of one
timestamp land in the same block. Then, for each fold:

* **purge**: a training sample is dropped when its span overlaps the span of
  any test sample, across symbols (closed intervals: touching counts);
* **embargo**: a training sample is also dropped when its ``ts`` falls in
  ``(end, end + embargo]``, ``end`` being the latest ``t_end`` of the test
  block; an ``int`` embargo counts distinct timestamps of the index instead.

Walk-forward trains only on the past, where the purge removes the last
training labels that were still open when the test block began; the embargo
bites only when training data follows a test block (purged K-fold). The rules
and a worked example are in ``docs/labels_and_splits.md``.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd

from nexus.datasets._dataset import Dataset
from nexus.domain import ts_array
from nexus.errors import ConfigError, DataError

__all__ = ["Fold", "purge", "purged_kfold", "train_valid_test", "walk_forward"]

_Embargo = pd.Timedelta | int


class Fold(NamedTuple):
    """The sample positions of one fold, each sorted ascending (int64)."""

    train: np.ndarray
    test: np.ndarray


class _Spans(NamedTuple):
    ts: np.ndarray  # int64 microseconds, shape (n,)
    end: np.ndarray  # int64 microseconds, shape (n,)
    times: np.ndarray  # distinct ts, sorted, shape (T,)
    block: np.ndarray  # position of each sample's ts in ``times``, shape (n,)


def _spans(index: pd.DataFrame | Dataset) -> _Spans:
    frame = index.index if isinstance(index, Dataset) else index
    for col in ("ts", "t_end"):
        if col not in frame.columns:
            raise DataError(
                f"the split index lacks column {col!r}",
                fix="pass a Dataset or its index frame (symbol, ts, t_end)",
            )
    if frame["ts"].isna().any() or frame["t_end"].isna().any():
        raise DataError("the split index has missing ts or t_end", fix="drop those samples")
    ts = ts_array(frame["ts"]).view(np.int64)
    end = ts_array(frame["t_end"]).view(np.int64)
    if (end < ts).any():
        raise DataError(
            f"{int((end < ts).sum())} sample(s) have t_end before ts",
            fix="t_end is when the label is known, after the decision bar's ts",
        )
    times, block = np.unique(ts, return_inverse=True)
    return _Spans(ts, end, times, block.astype(np.int64))


def _embargo_until(spans: _Spans, end: int, embargo: _Embargo) -> int:
    """The last instant (microseconds) inside the embargo after ``end``."""
    if isinstance(embargo, int | np.integer) and not isinstance(embargo, bool):
        if embargo <= 0:
            return end
        k = np.searchsorted(spans.times, end, side="right") + int(embargo) - 1
        return int(spans.times[min(k, len(spans.times) - 1)]) if len(spans.times) else end
    return end + int(embargo // pd.Timedelta(microseconds=1))


def _check_embargo(embargo: object) -> _Embargo:
    if isinstance(embargo, bool):
        raise ConfigError("embargo=True is not a duration", fix="pass a pd.Timedelta or an int")
    if isinstance(embargo, int | np.integer):
        value: _Embargo = int(embargo)
        negative = value < 0
    else:
        try:
            value = pd.Timedelta(embargo)
        except (TypeError, ValueError):
            raise ConfigError(
                f"embargo={embargo!r} is neither a duration nor a count of timestamps",
                fix="pass a pd.Timedelta (e.g. '30min') or an int",
            ) from None
        negative = value < pd.Timedelta(0)
    if negative:
        raise ConfigError(f"embargo={embargo!r} is negative", fix="pass an embargo >= 0")
    return value


def _purge(spans: _Spans, train: np.ndarray, test: np.ndarray, embargo: _Embargo) -> np.ndarray:
    """``train`` without samples whose span overlaps a test span or that sit in the embargo."""
    if not len(test) or not len(train):
        return train
    order = test[np.argsort(spans.ts[test], kind="stable")]
    starts, ends = spans.ts[order], np.maximum.accumulate(spans.end[order])
    new = np.ones(len(order), dtype=bool)
    new[1:] = starts[1:] > ends[:-1]
    last = np.append(np.flatnonzero(new)[1:] - 1, len(order) - 1)
    u_start, u_end = starts[new], ends[last]  # disjoint union of the test spans, sorted
    a, b = spans.ts[train], spans.end[train]
    j = np.searchsorted(u_start, b, side="right") - 1
    overlaps = (j >= 0) & (u_end[np.maximum(j, 0)] >= a)
    end = int(u_end[-1])
    embargoed = (a > end) & (a <= _embargo_until(spans, end, embargo))
    return train[~(overlaps | embargoed)]


def purge(
    index: pd.DataFrame | Dataset,
    train: np.ndarray,
    test: np.ndarray,
    *,
    embargo: pd.Timedelta | int = 0,
) -> np.ndarray:
    """Drop from ``train`` every sample that could leak into ``test``.

    Parameters
    ----------
    index : Dataset or DataFrame, shape (n, >= 2)
        ``ts`` and ``t_end`` per sample.
    train, test : ndarray of int, shape (a,), (b,)
        Sample positions.
    embargo : pd.Timedelta or int
        Also drop training samples whose ``ts`` is within this long after the
        latest test ``t_end`` (an int counts distinct timestamps of ``index``).

    Returns
    -------
    ndarray of int64, shape (<= a,)
        ``train`` minus purged and embargoed samples, order kept.
    """
    spans = _spans(index)
    embargo = _check_embargo(embargo)
    train = np.asarray(train, dtype=np.int64)
    return _purge(spans, train, np.asarray(test, dtype=np.int64), embargo)


def _count(size: int | float, total: int, name: str) -> int:
    """A block size in distinct timestamps: an int, or a fraction in (0, 1) of ``total``."""
    if isinstance(size, bool) or not isinstance(size, int | float | np.integer | np.floating):
        raise ConfigError(
            f"{name}={size!r} is not a number", fix=f"pass {name} as an int or a fraction"
        )
    if isinstance(size, int | np.integer):
        count = int(size)
    elif 0 < size < 1:
        count = math.floor(size * total)
    else:
        raise ConfigError(
            f"{name}={size!r} is a float outside (0, 1)",
            fix=f"pass {name} as a count of timestamps (int) or a fraction in (0, 1)",
        )
    if count < 1:
        raise ConfigError(
            f"{name}={size!r} gives {count} timestamps of {total}",
            fix=f"raise {name} to at least one timestamp",
        )
    return count


def _samples(spans: _Spans, lo: int, hi: int) -> np.ndarray:
    """Samples whose ts is among the distinct timestamps ``lo .. hi - 1``."""
    return np.flatnonzero((spans.block >= lo) & (spans.block < hi))


def _check_sizes(what: str, parts: dict[str, tuple[np.ndarray, int]], fix: str) -> None:
    """Raise when a part of a split keeps fewer samples than its minimum."""
    if all(len(rows) >= low for rows, low in parts.values()):
        return
    have = ", ".join(f"{len(rows)} {name}" for name, (rows, _) in parts.items())
    need = ", ".join(f"min_{name}={low}" for name, (_, low) in parts.items())
    raise DataError(f"{what} keeps {have} samples after purging and embargo ({need})", fix=fix)


def walk_forward(
    index: pd.DataFrame | Dataset,
    *,
    n_folds: int,
    test_size: int | float,
    mode: Literal["expanding", "rolling"] = "expanding",
    train_size: int | float | None = None,
    embargo: pd.Timedelta | int = 0,
    min_train: int = 1,
    min_test: int = 1,
) -> list[Fold]:
    """Walk-forward folds: train on the past, test on the next block of time.

    The last ``n_folds * test_size`` distinct timestamps are cut into
    ``n_folds`` consecutive test blocks, oldest first. Fold ``k`` trains on the
    timestamps before its test block: all of them (``"expanding"``) or the last
    ``train_size`` (``"rolling"``), then purges (and embargoes) them against the
    test block.

    Parameters
    ----------
    index : Dataset or DataFrame, shape (n, >= 2)
        ``ts`` and ``t_end`` per sample, any order.
    n_folds : int
        Number of test blocks (>= 1).
    test_size : int or float
        Distinct timestamps per test block, or a fraction in (0, 1) of all of them.
    mode : {"expanding", "rolling"}
        Train on all the past, or on a window of ``train_size`` timestamps.
    train_size : int or float, optional
        Training window of ``"rolling"`` (required there, unused by ``"expanding"``).
    embargo : pd.Timedelta or int
        See :func:`purge`.
    min_train, min_test : int
        Fewest samples a fold may keep.

    Returns
    -------
    list of Fold, length n_folds
        ``(train, test)`` sample positions, test blocks in time order.

    Raises
    ------
    ConfigError
        If a parameter is out of range.
    DataError
        If the blocks do not fit the data or a fold is too small.

    Examples
    --------
    >>> import pandas as pd
    >>> ts = pd.date_range("2025-01-02", periods=10, freq="D", tz="UTC")
    >>> index = pd.DataFrame({"ts": ts, "t_end": ts + pd.Timedelta("2D")})
    >>> [(f.train.tolist(), f.test.tolist()) for f in walk_forward(index, n_folds=2, test_size=2)]
    [([0, 1, 2, 3], [6, 7]), ([0, 1, 2, 3, 4, 5], [8, 9])]
    """
    spans = _spans(index)
    embargo = _check_embargo(embargo)
    total = len(spans.times)
    n_folds = _positive(n_folds, "n_folds")
    size = _count(test_size, total, "test_size")
    window = _train_window(mode, train_size, total)
    first = total - n_folds * size
    if first < 1:
        raise DataError(
            f"walk_forward needs {n_folds} test blocks of {size} timestamps and some training "
            f"time before them, but the index has {total} distinct timestamps",
            fix="use fewer folds or a smaller test_size, or pass more data",
        )
    folds = []
    for k in range(n_folds):
        lo = first + k * size
        train = _samples(spans, 0 if window is None else max(0, lo - window), lo)
        test = _samples(spans, lo, lo + size)
        train = _purge(spans, train, test, embargo)
        _check_sizes(
            f"walk_forward fold {k + 1} of {n_folds}",
            {"train": (train, min_train), "test": (test, min_test)},
            fix="use fewer folds, a smaller test_size, a larger train_size or more data",
        )
        folds.append(Fold(train, test))
    return folds


def _positive(value: object, name: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ConfigError(
            f"{name}={value!r} is not an integer >= {low}", fix=f"pass {name} >= {low}"
        )
    return int(value)


def _train_window(mode: str, train_size: int | float | None, total: int) -> int | None:
    if mode == "expanding":
        if train_size is not None:
            raise ConfigError(
                "train_size is only used by mode='rolling'",
                fix="drop train_size or pass mode='rolling'",
            )
        return None
    if mode == "rolling":
        if train_size is None:
            raise ConfigError("mode='rolling' needs train_size", fix="pass train_size")
        return _count(train_size, total, "train_size")
    raise ConfigError(f"mode={mode!r} is not known", fix="use 'expanding' or 'rolling'")


def purged_kfold(
    index: pd.DataFrame | Dataset,
    *,
    n_splits: int,
    embargo: pd.Timedelta | int = 0,
    min_train: int = 1,
    min_test: int = 1,
) -> list[Fold]:
    """Purged K-fold (AFML 7.4): each contiguous block of time is the test set once.

    The distinct timestamps are cut into ``n_splits`` contiguous blocks of
    near-equal size; fold ``k`` tests on block ``k`` and trains on every other
    sample, purged against the test block and embargoed after it. Training data
    after the test block makes this a tool for model selection, not an estimate
    of live performance: use :func:`walk_forward` for that.

    Parameters
    ----------
    index : Dataset or DataFrame, shape (n, >= 2)
        ``ts`` and ``t_end`` per sample.
    n_splits : int
        Number of blocks (>= 2).
    embargo : pd.Timedelta or int
        See :func:`purge`.
    min_train, min_test : int
        Fewest samples a fold may keep.

    Returns
    -------
    list of Fold, length n_splits

    Raises
    ------
    ConfigError
        If ``n_splits`` or ``embargo`` is out of range.
    DataError
        If there are fewer distinct timestamps than splits or a fold is too small.
    """
    spans = _spans(index)
    embargo = _check_embargo(embargo)
    n_splits = _positive(n_splits, "n_splits", low=2)
    total = len(spans.times)
    if total < n_splits:
        raise DataError(
            f"purged_kfold needs at least n_splits={n_splits} distinct timestamps; "
            f"the index has {total}",
            fix="use fewer splits or more data",
        )
    folds = []
    for k, block in enumerate(np.array_split(np.arange(total), n_splits)):
        inside = (spans.block >= block[0]) & (spans.block <= block[-1])
        test = np.flatnonzero(inside)
        train = _purge(spans, np.flatnonzero(~inside), test, embargo)
        _check_sizes(
            f"purged_kfold fold {k + 1} of {n_splits}",
            {"train": (train, min_train), "test": (test, min_test)},
            fix="use fewer splits, a shorter embargo or more data",
        )
        folds.append(Fold(train, test))
    return folds


def train_valid_test(
    index: pd.DataFrame | Dataset,
    *,
    valid_size: int | float,
    test_size: int | float,
    embargo: pd.Timedelta | int = 0,
    min_train: int = 1,
    min_valid: int = 1,
    min_test: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One time-ordered split: the last block tests, the one before validates.

    ``valid`` is purged against ``test``; ``train`` against both.

    Parameters
    ----------
    index : Dataset or DataFrame, shape (n, >= 2)
        ``ts`` and ``t_end`` per sample.
    valid_size, test_size : int or float
        Distinct timestamps per block, or fractions in (0, 1) of all of them.
    embargo : pd.Timedelta or int
        See :func:`purge`.
    min_train, min_valid, min_test : int
        Fewest samples each part may keep.

    Returns
    -------
    train, valid, test : ndarray of int64
        Sample positions, each sorted ascending.

    Raises
    ------
    ConfigError, DataError
        As :func:`walk_forward`.
    """
    spans = _spans(index)
    embargo = _check_embargo(embargo)
    total = len(spans.times)
    n_test = _count(test_size, total, "test_size")
    n_valid = _count(valid_size, total, "valid_size")
    first = total - n_test - n_valid
    if first < 1:
        raise DataError(
            f"train_valid_test needs {n_valid} + {n_test} timestamps and some training time "
            f"before them, but the index has {total}",
            fix="use a smaller valid_size or test_size, or pass more data",
        )
    test = _samples(spans, first + n_valid, total)
    valid = _purge(spans, _samples(spans, first, first + n_valid), test, embargo)
    train = _purge(spans, _samples(spans, 0, first), np.concatenate([valid, test]), embargo)
    _check_sizes(
        "train_valid_test",
        {"train": (train, min_train), "valid": (valid, min_valid), "test": (test, min_test)},
        fix="use a smaller valid_size or test_size, or pass more data",
    )
    return train, valid, test
