"""Sample weights by average label uniqueness (López de Prado, AFML ch. 4)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nexus.domain import ts_array
from nexus.errors import DataError

__all__ = ["uniqueness_weights"]


def _micros(values: pd.Series, what: str) -> np.ndarray:
    if values.isna().any():
        raise DataError(f"{what} has missing values", fix="drop those rows first")
    return ts_array(values).view(np.int64)


def uniqueness_weights(labels: pd.DataFrame, *, bars: pd.DataFrame | None = None) -> np.ndarray:
    """Average uniqueness of each label over its lifespan, per symbol.

    Label ``i`` decided at bar ``t_i`` lives on bars ``u`` with
    ``ts_i < ts_u <= t_touch_i`` (the bars its outcome depends on, ``(t, t_end]``).
    The concurrency ``c_u`` of bar ``u`` is the number of labels *of the same
    symbol* alive at ``u``, and ``weight_i = mean over u in span_i of 1 / c_u``:
    1 for a label that overlaps no other, about ``1 / H`` for labels decided on
    every bar with an ``H``-bar horizon.

    The bars ``u`` are the distinct ``ts`` of ``bars`` (when given) and the
    ``ts`` and ``t_touch`` of ``labels``, per symbol. Pass the bars (or the
    features frame, anything with ``symbol`` and ``ts``) whenever the labels do
    not cover every bar, e.g. after sub-sampling; otherwise bars that are no
    label's ``ts`` or ``t_touch`` are not counted.

    Parameters
    ----------
    labels : DataFrame, shape (n, >= 3)
        ``symbol``, ``ts`` and ``t_touch`` (as from :func:`triple_barrier`), any order.
    bars : DataFrame, optional, shape (b, >= 2)
        ``symbol`` and ``ts`` of the bar grid.

    Returns
    -------
    ndarray of float64, shape (n,)
        In ``(0, 1]``, aligned with the rows of ``labels``.

    Raises
    ------
    DataError
        If a column is missing, a time is missing, or a ``t_touch`` is not after its ``ts``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.date_range("2025-01-02 14:30", periods=4, freq="1min", tz="UTC")
    >>> labels = pd.DataFrame({"symbol": "A", "ts": t[:2], "t_touch": t[2:]})
    >>> uniqueness_weights(labels).tolist()  # spans (t0, t2] and (t1, t3] share bar t2
    [0.75, 0.75]
    """
    for col in ("symbol", "ts", "t_touch"):
        if col not in labels.columns:
            raise DataError(
                f"labels lack column {col!r}", fix="pass the frame triple_barrier returns"
            )
    if not len(labels):
        return np.zeros(0)
    grid = bars if bars is not None else labels.iloc[:0]
    symbols = pd.concat([labels["symbol"], grid["symbol"]], ignore_index=True)
    code, _ = pd.factorize(symbols)
    times = np.concatenate(
        [
            _micros(labels["ts"], "labels ts"),
            _micros(labels["t_touch"], "labels t_touch"),
            _micros(grid["ts"], "bars ts"),
        ]
    )
    n = len(labels)
    code = np.concatenate([code[:n], code[:n], code[n:]]).astype(np.int64)
    _, rank = np.unique(times, return_inverse=True)
    keys = code * (int(rank.max()) + 1) + rank
    uniq = np.unique(keys)
    start = np.searchsorted(uniq, keys[:n])
    stop = np.searchsorted(uniq, keys[n : 2 * n])
    if (stop <= start).any():
        raise DataError(
            f"{int((stop <= start).sum())} label(s) have t_touch at or before ts",
            fix="pass labels from triple_barrier or fixed_horizon (t_touch is a later bar)",
        )
    return _average_uniqueness(start, stop, len(uniq))


def _average_uniqueness(start: np.ndarray, stop: np.ndarray, size: int) -> np.ndarray:
    """Mean of ``1 / c_u`` over grid positions ``start < u <= stop``, shape (n,)."""
    delta = np.bincount(start + 1, minlength=size + 1) - np.bincount(stop + 1, minlength=size + 1)
    concurrency = np.cumsum(delta[:size])
    inverse = np.divide(1.0, concurrency, out=np.zeros(size), where=concurrency > 0)
    cum = np.concatenate([[0.0], np.cumsum(inverse)])
    return (cum[stop + 1] - cum[start + 1]) / (stop - start)
