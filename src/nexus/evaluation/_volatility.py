"""Per-bar volatility estimates known at each bar's close."""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["carry_last", "rolling_volatility"]


def rolling_volatility(close: np.ndarray, valid: np.ndarray, lookback: int) -> np.ndarray:
    """Sample std (ddof 1) of each symbol's last ``lookback`` close-to-close returns.

    Returns run between a symbol's consecutive bars; a row where the symbol
    has no bar carries its last value. Only closes up to and including the
    row are used.

    Parameters
    ----------
    close : ndarray, shape (T, N)
        Closes; ignored where ``valid`` is False.
    valid : ndarray of bool, shape (T, N)
        Where a symbol has a bar.
    lookback : int
        Returns in the window (>= 2).

    Returns
    -------
    ndarray, shape (T, N)
        NaN until a symbol has ``lookback`` returns.

    Examples
    --------
    >>> close = np.array([[100.0], [110.0], [99.0], [99.0]])
    >>> rolling_volatility(close, np.ones((4, 1), bool), 2).round(4).ravel().tolist()
    [nan, nan, 0.1414, 0.0707]
    """
    out = _rolling_std(
        np.ascontiguousarray(close.T, dtype=np.float64),
        np.ascontiguousarray(valid.T, dtype=np.bool_),
        int(lookback),
    )
    return np.ascontiguousarray(out.T)


@numba.njit(cache=True, nogil=True)
def _rolling_std(close, valid, lookback):  # pragma: no cover - compiled
    """(N, T) in, (N, T) out: running sums over a ring of the last ``lookback`` returns."""
    n, n_t = close.shape
    out = np.full((n, n_t), np.nan)
    ring = np.zeros(lookback)
    for i in range(n):
        seen, s1, s2, prev, value = 0, 0.0, 0.0, np.nan, np.nan
        for t in range(n_t):
            if valid[i, t]:
                if seen >= 0 and not np.isnan(prev):
                    r = close[i, t] / prev - 1.0
                    slot = seen % lookback
                    if seen >= lookback:
                        s1 -= ring[slot]
                        s2 -= ring[slot] * ring[slot]
                    ring[slot] = r
                    s1 += r
                    s2 += r * r
                    seen += 1
                    if seen >= lookback:
                        var = (s2 - s1 * s1 / lookback) / (lookback - 1)
                        value = np.sqrt(max(var, 0.0))
                prev = close[i, t]
            out[i, t] = value
    return out


def carry_last(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Fill rows where a symbol has no bar with its value at its previous bar, shape (T, N)."""
    idx = np.where(valid, np.arange(values.shape[0])[:, None], 0)
    np.maximum.accumulate(idx, axis=0, out=idx)
    return values[idx, np.arange(values.shape[1])]
