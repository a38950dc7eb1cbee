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

import functools

import numba
import numpy as np

__all__ = [
    "VAR_FLOOR",
    "Rings",
    "Selection",
    "compile_kernels",
    "divide",
    "first_finite",
    "rolling_cov",
    "rolling_moments",
    "rolling_sum",
    "safe_divide",
    "shift",
    "window_cov",
    "window_moments",
    "window_stds",
    "window_zscores",
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


@numba.njit(cache=True, nogil=True)
def _floored(var: float, s2: float, n: int, floor: float) -> float:
    if var > floor * s2 / n or var != var:  # NaN stays NaN
        return var
    return 0.0


@numba.njit(cache=True, nogil=True)
def _moments_rows(
    windows: np.ndarray, ddof: int, floor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m, n = windows.shape
    mean, var, dev = np.empty(m), np.empty(m), np.empty(m)
    for i in range(m):
        ref = windows[i, 0]
        s1 = s2 = 0.0
        for j in range(n):
            y = windows[i, j] - ref
            s1 += y
            s2 += y * y
        mean_y = s1 / n
        mean[i] = ref + mean_y
        var[i] = _floored((s2 - s1 * mean_y) / (n - ddof), s2, n, floor)
        dev[i] = (windows[i, n - 1] - ref) - mean_y
    return mean, var, dev


@numba.njit(cache=True, nogil=True)
def _cov_rows(
    x: np.ndarray, y: np.ndarray, floor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m, n = x.shape
    var_x, var_y, cov = np.empty(m), np.empty(m), np.empty(m)
    for i in range(m):
        sx = sy = sxx = syy = sxy = 0.0
        for j in range(n):
            dx = x[i, j] - x[i, 0]
            dy = y[i, j] - y[i, 0]
            sx += dx
            sy += dy
            sxx += dx * dx
            syy += dy * dy
            sxy += dx * dy
        var_x[i] = _floored((sxx - sx * (sx / n)) / (n - 1), sxx, n, floor)
        var_y[i] = _floored((syy - sy * (sy / n)) / (n - 1), syy, n, floor)
        cov[i] = (sxy - sx * (sy / n)) / (n - 1)
    return var_x, var_y, cov


@numba.njit(cache=True, nogil=True)
def _zscores(windows: np.ndarray, ddof: int, floor: float) -> np.ndarray:
    rows, m, _ = windows.shape
    out = np.empty((m, rows))
    for r in range(rows):
        _, var, dev = _moments_rows(windows[r], ddof, floor)
        for i in range(m):
            out[i, r] = dev[i] / np.sqrt(var[i]) if var[i] != 0 else 0.0
    return out


@numba.njit(cache=True, nogil=True)
def _stds(series: np.ndarray, lengths: np.ndarray, ddof: int, floor: float) -> np.ndarray:
    m, n = series.shape
    out = np.empty((m, len(lengths)))
    for j in range(len(lengths)):
        _, var, _ = _moments_rows(series[:, n - lengths[j] :], ddof, floor)
        out[:, j] = np.sqrt(var)
    return out


def window_moments(windows: np.ndarray, ddof: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`rolling_moments` of the last position of each window (compiled, no GIL).

    Parameters
    ----------
    windows : ndarray of float64, shape (m, n)
        One window per row, oldest first.
    ddof : int
        Delta degrees of freedom of the variance.

    Returns
    -------
    mean, var, dev_last : ndarray of float64, shape (m,)

    Examples
    --------
    >>> mean, var, dev = window_moments(np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]]))
    >>> mean.tolist(), var.tolist(), dev.tolist()
    ([2.0, 5.0], [1.0, 0.0], [1.0, 0.0])
    """
    return _moments_rows(np.ascontiguousarray(windows), ddof, VAR_FLOOR)


def window_zscores(windows: np.ndarray, ddof: int = 1) -> np.ndarray:
    """The last value's z-score in each window of several series (0 for a constant window).

    Parameters
    ----------
    windows : ndarray of float64, shape (r, m, n)
        ``r`` series of ``m`` symbols, one window of ``n`` values each, oldest first.
    ddof : int
        Delta degrees of freedom of the variance.

    Returns
    -------
    ndarray of float64, shape (m, r)
        ``dev_last / sqrt(var)`` of :func:`window_moments`, 0 where ``var == 0``.

    Examples
    --------
    >>> window_zscores(np.array([[[1.0, 2.0, 3.0], [4.0, 4.0, 4.0]]])).tolist()
    [[1.0], [0.0]]
    """
    return _zscores(np.ascontiguousarray(windows), ddof, VAR_FLOOR)


def window_stds(series: np.ndarray, lengths: np.ndarray, ddof: int = 1) -> np.ndarray:
    """Standard deviations of the last ``lengths[j]`` values of each row, shape (m, len(lengths)).

    ``series`` is (m, n) with ``n >= max(lengths)``; the variance is floored as in
    :func:`window_moments`.

    Examples
    --------
    >>> window_stds(np.array([[9.0, 1.0, 2.0, 3.0]]), np.array([3, 4])).round(3).tolist()
    [[1.0, 3.594]]
    """
    return _stds(np.ascontiguousarray(series), np.asarray(lengths, dtype=np.int64), ddof, VAR_FLOOR)


@functools.cache
def compile_kernels() -> None:
    """Compile (or load from numba's disk cache) the window kernels, once per process.

    The wrappers above pass only C-contiguous float64 arrays, so these calls
    produce every signature the online mode uses: no bar ever waits for a
    compile. :meth:`OnlineFeatures.warm` calls it.
    """
    rows = np.zeros((1, 3))
    window_moments(rows)
    window_cov(rows, rows)
    window_zscores(rows[None])
    window_stds(rows, np.array([2]))


def window_cov(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`rolling_cov` of the last position of each window pair (compiled, no GIL).

    Parameters
    ----------
    x, y : ndarray of float64, shape (m, n)
        One window per row, oldest first.

    Returns
    -------
    var_x, var_y, cov : ndarray of float64, shape (m,)
    """
    return _cov_rows(np.ascontiguousarray(x), np.ascontiguousarray(y), VAR_FLOOR)


def safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with 0 where ``den == 0`` (NaN where either is NaN), shape of ``num``.

    Call it under ``np.errstate(divide="ignore", invalid="ignore")``, as the online
    update does once for all its features.
    """
    return np.where(den != 0, num / den, 0.0)


class Rings:
    """The last ``size`` values of ``rows`` float series for each of many symbols.

    Every value is written twice, at ``p`` and ``p + size``, so the last ``k``
    values of a symbol are one contiguous slice (what TA-Lib needs). Each symbol
    has its own write position (a symbol may miss a bar time); while they are all
    equal (every symbol got every bar time, the usual case) :meth:`tail` is a view
    of one slice for all symbols, otherwise a gather. Unwritten slots hold NaN.

    Parameters
    ----------
    rows : int
        Number of series per symbol.
    size : int
        Values kept per series.
    symbols : int
        Number of symbols (rows of state); :meth:`resize` adds more.

    Examples
    --------
    >>> r = Rings(1, 3, symbols=2)
    >>> every = Selection.of(np.arange(2), 2)
    >>> for v in (1.0, 2.0, 3.0, 4.0):
    ...     r.push(every, np.array([[v, 10 * v]]))
    >>> r.tail(0, every, 3).tolist(), r.last(0, every).tolist()
    ([[2.0, 3.0, 4.0], [20.0, 30.0, 40.0]], [4.0, 40.0])
    >>> first = Selection.of(np.array([0]), 2)
    >>> r.push(first, np.array([[5.0]]))
    >>> r.tail(0, every, 2).tolist()
    [[4.0, 5.0], [30.0, 40.0]]
    """

    __slots__ = ("buf", "end", "pos", "size")

    def __init__(self, rows: int, size: int, symbols: int = 0) -> None:
        self.size = max(1, size)
        self.buf = np.full((rows, symbols, 2 * self.size), np.nan)
        self.pos = np.zeros(symbols, dtype=np.intp)
        self.end: int | None = None  # pos + size shared by every symbol, or None
        self._realign()

    def _realign(self) -> None:
        pos = self.pos
        if not len(pos):
            self.end = None
        elif (pos == pos[0]).all():
            self.end = int(pos[0]) + self.size
        else:
            self.end = None

    def resize(self, symbols: int) -> None:
        """Add empty state for symbols ``len(pos)`` to ``symbols - 1``."""
        extra = symbols - len(self.pos)
        if extra <= 0:
            return
        pad = np.full((self.buf.shape[0], extra, 2 * self.size), np.nan)
        self.buf = np.concatenate([self.buf, pad], axis=1)
        self.pos = np.concatenate([self.pos, np.zeros(extra, dtype=np.intp)])
        self._realign()

    def push(self, sel: Selection, values: np.ndarray) -> None:
        """Append one value per row to each selected symbol; ``values`` (rows, m)."""
        if self.end is not None and sel.every:
            p = self.end - self.size
            self.buf[:, :, p] = values
            self.buf[:, :, p + self.size] = values
            p = p + 1 if p + 1 < self.size else 0
            self.pos[:] = p
            self.end = p + self.size
            return
        p = self.pos[sel.index]
        self.buf[:, sel.index, p] = values
        self.buf[:, sel.index, p + self.size] = values
        self.pos[sel.index] = np.where(p + 1 < self.size, p + 1, 0)
        self._realign()

    def _newest(self, sel: Selection) -> np.ndarray:
        return self.pos[sel.index] + (self.size - 1)

    def tail(self, row: int, sel: Selection, k: int) -> np.ndarray:
        """The newest ``k <= size`` values of ``row``, oldest first, shape (m, k)."""
        end = self.end
        if end is not None:
            if sel.every:
                return self.buf[row, :, end - k : end]
            return self.buf[row, sel.index, end - k : end]
        cols = self._newest(sel)[:, None] + np.arange(1 - k, 1)
        return self.buf[row, sel.index[:, None], cols]

    def tails(self, sel: Selection, k: int) -> np.ndarray:
        """The newest ``k <= size`` values of every row, oldest first, shape (rows, m, k)."""
        end = self.end
        if end is not None:
            if sel.every:
                return self.buf[:, :, end - k : end]
            return self.buf[:, sel.index, end - k : end]
        cols = self._newest(sel)[:, None] + np.arange(1 - k, 1)
        return self.buf[:, sel.index[:, None], cols]

    def last(self, row: int, sel: Selection) -> np.ndarray:
        """The newest value of ``row`` per selected symbol, shape (m,)."""
        return self.back(row, sel, 0)

    def back(self, rows: int | np.ndarray, sel: Selection, k: int | np.ndarray) -> np.ndarray:
        """The value ``k < size`` bars before the newest, per selected symbol.

        With arrays ``rows`` and ``k`` of length L (pairs), shape (L, m); else (m,).
        """
        end = self.end
        if end is not None and sel.every:
            return self.buf[rows, :, end - 1 - np.asarray(k)]
        if np.ndim(rows):
            rows, k = np.asarray(rows)[:, None], np.asarray(k)[:, None]
        newest = end - 1 if end is not None else self._newest(sel)
        return self.buf[rows, sel.index, newest - k]

    def load(self, symbol: int, values: np.ndarray) -> None:
        """Replace one symbol's history by the last ``size`` columns of ``values`` (rows, c)."""
        k = min(self.size, values.shape[1])
        self.buf[:, symbol] = np.nan
        if k:
            self.buf[:, symbol, self.size - k : self.size] = values[:, -k:]
            self.buf[:, symbol, 2 * self.size - k :] = values[:, -k:]
        self.pos[symbol] = 0
        self._realign()


class Selection:
    """The symbols (rows of state) one online call updates, and whether that is all of them.

    Parameters
    ----------
    index : ndarray of intp, shape (m,)
        State rows, in the caller's order.
    every : bool
        True when ``index`` is ``0 .. n - 1`` in order (views instead of gathers).
    """

    __slots__ = ("every", "index")

    def __init__(self, index: np.ndarray, every: bool) -> None:
        self.index = index
        self.every = every

    @classmethod
    def of(cls, index: np.ndarray, symbols: int) -> Selection:
        """The selection of ``index`` among ``symbols`` state rows."""
        index = np.asarray(index, dtype=np.intp)
        every = len(index) == symbols and bool((index == np.arange(symbols)).all())
        return cls(index, every)

    def __len__(self) -> int:
        return len(self.index)

    def take(self, values: np.ndarray) -> np.ndarray:
        """``values[index]`` along the first axis (``values`` itself when ``every``)."""
        return values if self.every else values[self.index]
