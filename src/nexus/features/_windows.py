"""Rolling-window arithmetic for both modes, and the online ring buffer.

Batch windows are differences of cumulative sums, computed in blocks: the series
is cut into blocks of ``k = max(64, 4 * w)`` bars; each block's windows are summed from a cumulative
sum that restarts ``w - 1`` bars before the block and is taken of the values minus
a reference (the block's first value, a bar in the past of every window it serves).
So rounding errors never grow with the length of the history or with the level of
the series (a price of 250 with a variance of 0.01 would lose nine digits in
``E[x**2] - E[x]**2`` over raw cumulative sums), and a value at bar ``t`` depends on
bars ``<= t`` only, exactly (no lookahead even in the last bit).

The online mode evaluates the same formulas on the window itself, shifted by its
first value. Both agree to ~1e-13 relative.

A variance below ``VAR_FLOOR`` times the mean square of the shifted values is
rounding noise of a constant window; both modes report it as exactly 0, and the
features divide by it only after checking for 0.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "VAR_FLOOR",
    "Ring",
    "divide",
    "first_finite",
    "rolling_cov",
    "rolling_moments",
    "rolling_sum",
    "shift",
    "window_cov",
    "window_moments",
]

VAR_FLOOR = 1e-10
_MIN_BLOCK = 64


def first_finite(x: np.ndarray) -> int:
    """Index of the first finite value of ``x`` (``len(x)`` when there is none)."""
    finite = np.isfinite(x)
    return int(np.argmax(finite)) if finite.any() else len(x)


def shift(x: np.ndarray, k: int) -> np.ndarray:
    """``x`` delayed by ``k`` positions, NaN-filled, shape (n,)."""
    out = np.full(len(x), np.nan)
    if k < len(x):
        out[k:] = x[: len(x) - k]
    return out


def divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with 0 where ``den == 0`` and NaN where either is NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    out[den == 0] = 0.0
    return out


class _Blocks:
    """The block layout of one series length ``n`` and window ``w``.

    Block ``b`` serves the windows ending at positions ``[b*k, (b+1)*k)``; its
    segment is positions ``[b*k - w + 1, (b+1)*k)`` (clipped at 0), and its
    reference is the segment's first value, a bar in the past of every window
    the block serves.
    """

    def __init__(self, n: int, w: int) -> None:
        self.n, self.w = n, w
        self.k = max(_MIN_BLOCK, 4 * w)
        starts = np.arange(-(-n // self.k)) * self.k - (w - 1)
        self.idx = np.clip(starts[:, None] + np.arange(self.k + w - 1), 0, n - 1)
        self.first = np.maximum(starts, 0)

    def shifted(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Segments of ``x`` minus their reference (blocks, k + w - 1), and each position's ref."""
        ref = x[self.first]
        return x[self.idx] - ref[:, None], np.repeat(ref, self.k)[: self.n]

    def sums(self, segments: np.ndarray) -> np.ndarray:
        """Window sums of each stacked series (m, blocks, k + w - 1) -> (m, n - w + 1).

        Column ``i`` is the window ending at position ``w - 1 + i``.
        """
        m, blocks, length = segments.shape
        cs = np.empty((m, blocks, length + 1))
        cs[..., 0] = 0.0
        np.cumsum(segments, axis=-1, out=cs[..., 1:])
        sums = cs[..., self.w :] - cs[..., : -self.w]
        return sums.reshape(m, -1)[:, self.w - 1 : self.n]


def _valid_tail(x: np.ndarray) -> tuple[int, int]:
    """``(f, n)``: where ``x`` starts after its leading NaNs, and how many values follow."""
    f = first_finite(x)
    return f, len(x) - f


def rolling_sum(x: np.ndarray, w: int) -> np.ndarray:
    """Sum of the last ``w`` values at each position, NaN before ``w`` are available.

    Parameters
    ----------
    x : ndarray of float64, shape (n,)
        Finite after an optional leading run of NaN.
    w : int
        Window length; the window ends at (and includes) each position.

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    out = np.full(len(x), np.nan)
    f, n = _valid_tail(x)
    if n < w:
        return out
    layout = _Blocks(n, w)
    out[f + w - 1 :] = layout.sums(x[f:][layout.idx][None])[0]
    return out


def _variance(s1: np.ndarray, s2: np.ndarray, w: int, ddof: int) -> np.ndarray:
    var = (s2 - s1 * (s1 / w)) / (w - ddof)
    var[var <= VAR_FLOOR * s2 / w] = 0.0
    return var


def rolling_moments(
    x: np.ndarray, w: int, ddof: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rolling mean, variance and deviation of the last value from the mean.

    Parameters
    ----------
    x : ndarray of float64, shape (n,)
        Finite after an optional leading run of NaN.
    w : int
        Window length; the window ends at (and includes) each position.
    ddof : int
        Delta degrees of freedom of the variance (1: sample, 0: population).

    Returns
    -------
    mean, var, dev : ndarray of float64, shape (n,)
        ``dev = x - mean``; NaN where fewer than ``w`` values are available.
    """
    mean, var, dev = (np.full(len(x), np.nan) for _ in range(3))
    f, n = _valid_tail(x)
    if n < w:
        return mean, var, dev
    layout = _Blocks(n, w)
    y, ref = layout.shifted(x[f:])
    s1, s2 = layout.sums(np.stack([y, y * y]))
    tail = slice(f + w - 1, None)
    mean_y = s1 / w
    mean[tail] = ref[w - 1 :] + mean_y
    var[tail] = _variance(s1, s2, w, ddof)
    dev[tail] = (x[tail] - ref[w - 1 :]) - mean_y
    return mean, var, dev


def rolling_cov(x: np.ndarray, y: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rolling sample variances of ``x`` and ``y`` and their sample covariance.

    Parameters
    ----------
    x, y : ndarray of float64, shape (n,)
        Finite after an optional leading run of NaN (in either).
    w : int
        Window length; the window ends at (and includes) each position.

    Returns
    -------
    var_x, var_y, cov : ndarray of float64, shape (n,)
        NaN where fewer than ``w`` pairs are available.
    """
    var_x, var_y, cov = (np.full(len(x), np.nan) for _ in range(3))
    f = max(first_finite(x), first_finite(y))
    n = len(x) - f
    if n < w:
        return var_x, var_y, cov
    layout = _Blocks(n, w)
    dx, _ = layout.shifted(x[f:])
    dy, _ = layout.shifted(y[f:])
    sx, sy, sxx, syy, sxy = layout.sums(np.stack([dx, dy, dx * dx, dy * dy, dx * dy]))
    tail = slice(f + w - 1, None)
    var_x[tail] = _variance(sx, sxx, w, 1)
    var_y[tail] = _variance(sy, syy, w, 1)
    cov[tail] = (sxy - sx * (sy / w)) / (w - 1)
    return var_x, var_y, cov


# --------------------------------------------------------------------------- online


def _floor(var: float, s2: float, n: int) -> float:
    if var > VAR_FLOOR * s2 / n:
        return var
    return 0.0 if var == var else math.nan  # NaN stays NaN


def window_moments(window: np.ndarray, ddof: int = 1) -> tuple[float, float, float]:
    """:func:`rolling_moments` of one window (oldest first): ``(mean, var, dev_last)``."""
    n = window.shape[0]
    ref = window[0]
    y = window - ref
    s1 = float(y.sum())
    s2 = float(y @ y)
    mean_y = s1 / n
    var = _floor((s2 - s1 * (s1 / n)) / (n - ddof), s2, n)
    return float(ref) + mean_y, var, float(y[-1]) - mean_y


def window_cov(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """:func:`rolling_cov` of one window pair: ``(var_x, var_y, cov)``."""
    n = x.shape[0]
    dx = x - x[0]
    dy = y - y[0]
    sx, sy = float(dx.sum()), float(dy.sum())
    sxx, syy, sxy = float(dx @ dx), float(dy @ dy), float(dx @ dy)
    var_x = _floor((sxx - sx * (sx / n)) / (n - 1), sxx, n)
    var_y = _floor((syy - sy * (sy / n)) / (n - 1), syy, n)
    return var_x, var_y, (sxy - sx * (sy / n)) / (n - 1)


class Ring:
    """A fixed-length history of ``rows`` float series with contiguous chronological views.

    Every value is written twice, at ``pos`` and ``pos + size``, so the last ``k``
    values of a row are always one contiguous slice (what TA-Lib needs) without
    copying. Unwritten slots hold NaN.

    Parameters
    ----------
    rows : int
        Number of series.
    size : int
        Values kept per series.

    Examples
    --------
    >>> r = Ring(1, 3)
    >>> for v in (1.0, 2.0, 3.0, 4.0):
    ...     r.push(np.array([v]))
    >>> r.tail(0, 3).tolist(), r.last(0)
    ([2.0, 3.0, 4.0], 4.0)
    """

    __slots__ = ("buf", "pos", "size")

    def __init__(self, rows: int, size: int) -> None:
        self.size = max(1, size)
        self.buf = np.full((rows, 2 * self.size), np.nan)
        self.pos = 0

    def push(self, values: np.ndarray) -> None:
        """Append one value per row, shape (rows,)."""
        p = self.pos
        self.buf[:, p] = values
        self.buf[:, p + self.size] = values
        self.pos = p + 1 if p + 1 < self.size else 0

    def set_last(self, row: int, value: float) -> None:
        """Overwrite the newest value of ``row``."""
        p = self.pos - 1 if self.pos else self.size - 1
        self.buf[row, p] = value
        self.buf[row, p + self.size] = value

    def tail(self, row: int, k: int) -> np.ndarray:
        """The newest ``k <= size`` values of ``row``, oldest first, shape (k,) (a view)."""
        end = self.pos + self.size
        return self.buf[row, end - k : end]

    def last(self, row: int) -> float:
        """The newest value of ``row``."""
        return float(self.buf[row, self.pos + self.size - 1])

    def load(self, values: np.ndarray) -> None:
        """Replace the history by the last ``size`` columns of ``values`` (rows, m)."""
        k = min(self.size, values.shape[1])
        self.buf[:] = np.nan
        if k:
            self.buf[:, self.size - k : self.size] = values[:, -k:]
            self.buf[:, 2 * self.size - k :] = values[:, -k:]
        self.pos = 0
