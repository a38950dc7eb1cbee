"""Each feature kind twice: over one symbol's history, and for many symbols' newest bars.

A :class:`Block` turns one :class:`~nexus.features._spec.FeatureParams` into its
output columns. ``batch`` computes them over a symbol's whole history (numpy,
TA-Lib); ``online`` computes the newest bar's values of many symbols at once from
their bounded buffers (a :class:`Panel`), as arrays across symbols. Both
evaluate the same formula on the same bars, which is what the parity tests
check. Warm-up masking and lags are the engine's job, not a block's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import talib

from nexus.features._spec import (
    AtrParams,
    BollingerParams,
    CalendarParams,
    ClosePositionParams,
    EmaDistanceParams,
    FeatureParams,
    HighLowRangeParams,
    LogReturnParams,
    MacdParams,
    MarketBetaParams,
    MarketReturnParams,
    RealizedVolParams,
    RsiParams,
    VolumeImbalanceParams,
    VolumeZscoreParams,
)
from nexus.features._warmup import rsi_flat_bars
from nexus.features._windows import (
    Rings,
    Selection,
    divide,
    rolling_cov,
    rolling_moments,
    rolling_sum,
    safe_divide,
    shift,
    window_cov,
    window_moments,
    window_stds,
    window_zscores,
)

__all__ = ["BAR_ROWS", "Block", "Now", "Panel", "SymbolArrays", "build_blocks"]


def _raw(func: object) -> object:
    """The TA-Lib function without its pandas/polars wrapper (a few us per online call)."""
    return getattr(func, "__wrapped__", func)


# TA-Lib on numpy arrays only; the wrapper's isinstance checks cost more than a
# 400-bar RSI on the online path
_RSI, _MACD, _EMA, _ATR = _raw(talib.RSI), _raw(talib.MACD), _raw(talib.EMA), _raw(talib.ATR)

# rows of the per-symbol bar ring
OPEN, H, L, C, V, LOGC, LOGV, R1, MKT = range(9)
BAR_ROWS = 9
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SymbolArrays:
    """One symbol's history for the batch mode; every array has shape (n,).

    ``logc = log(close)``, ``logv = log(1 + volume)``, ``r1`` the 1-bar log return
    (NaN on the first bar) and ``mkt`` the market return at each bar's ts.
    """

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    logc: np.ndarray
    logv: np.ndarray
    r1: np.ndarray
    mkt: np.ndarray


class Panel:
    """Every symbol's online state: last bars (:data:`BAR_ROWS` rows) and block buffers.

    Symbol ``i`` (a row of state) owns ``bars`` and ``rings`` entries ``i``,
    ``count[i]`` (bars seen) and ``last_ts[i]`` (its newest bar, microseconds).

    Parameters
    ----------
    size : int
        Bars kept in ``bars``.
    rings : dict of str to (rows, size)
        The extra buffers the blocks asked for.
    symbols : int
        Rows of state to start with.
    """

    __slots__ = ("bars", "count", "last_ts", "rings")

    def __init__(self, size: int, rings: dict[str, tuple[int, int]], symbols: int = 0) -> None:
        self.bars = Rings(BAR_ROWS, size, symbols)
        self.rings = {name: Rings(rows, n, symbols) for name, (rows, n) in rings.items()}
        self.count = np.zeros(symbols, dtype=np.int64)
        self.last_ts = np.full(symbols, -(2**63), dtype=np.int64)

    def resize(self, symbols: int) -> None:
        """Add empty state up to ``symbols`` rows."""
        extra = symbols - len(self.count)
        if extra <= 0:
            return
        self.bars.resize(symbols)
        for ring in self.rings.values():
            ring.resize(symbols)
        self.count = np.concatenate([self.count, np.zeros(extra, dtype=np.int64)])
        self.last_ts = np.concatenate([self.last_ts, np.full(extra, -(2**63), dtype=np.int64)])


@dataclass(frozen=True, slots=True)
class Now:
    """What one online call shares across its symbols: the bar time in local fields."""

    minute: int
    hour: int
    dow: int
    month0: int

    @classmethod
    def at(cls, ts_us: int, zone: ZoneInfo) -> Now:
        """Local calendar fields of the UTC instant ``ts_us`` (microseconds since 1970)."""
        local = (_EPOCH + timedelta(microseconds=ts_us)).astimezone(zone)
        return cls(local.minute, local.hour, local.weekday(), local.month - 1)


class Block:
    """One feature kind's columns, in batch and online form.

    Attributes
    ----------
    names : tuple of str
        Output columns.
    bars : int
        How many of the symbol's last bars ``online`` reads.
    rings : dict of str to (rows, size)
        Extra per-symbol buffers ``online`` keeps.
    per_symbol : bool
        False for blocks computed over all symbols at once (``batch_all``).
    """

    bars: int = 1
    per_symbol: bool = True

    def __init__(self, params: FeatureParams) -> None:
        self.params = params
        self.names = tuple(name for name, _ in params.outputs())
        self.rings: dict[str, tuple[int, int]] = {}

    def batch(self, s: SymbolArrays) -> list[np.ndarray]:
        """The block's columns over one symbol's history, each shape (n,)."""
        raise NotImplementedError

    def online(self, st: Panel, sel: Selection, now: Now, out: np.ndarray) -> None:
        """Write the selected symbols' newest values into ``out`` (m, len(names)).

        Called under ``np.errstate(divide="ignore", invalid="ignore")``.
        """
        raise NotImplementedError

    def load(self, st: Panel, symbol: int, columns: np.ndarray) -> None:
        """Seed one symbol's extra buffers from this block's batch columns (len(names), c)."""


class LogReturn(Block):
    def __init__(self, params: LogReturnParams) -> None:
        super().__init__(params)
        self.periods = params.periods
        self.bars = max(self.periods) + 1
        self._back = [-1 - k for k in self.periods]

    def batch(self, s: SymbolArrays) -> list[np.ndarray]:
        return [s.logc - shift(s.logc, k) for k in self.periods]

    def online(self, st: Panel, sel: Selection, now: Now, out: np.ndarray) -> None:
        lc = st.bars.tail(LOGC, sel, self.bars)
        np.subtract(lc[:, -1:], lc[:, self._back], out=out)


class HighLowRange(Block):
    def batch(self, s: SymbolArrays) -> list[np.ndarray]:
        return [np.log(s.high / s.low)]

    def online(self, st: Panel, sel: Selection, now: Now, out: np.ndarray) -> None:
        out[:, 0] = np.log(st.bars.last(H, sel) / st.bars.last(L, sel))


class ClosePosition(Block):
    def batch(self, s: SymbolArrays) -> list[np.ndarray]:
        span = s.high - s.low
        with np.errstate(divide="ignore", invalid="ignore"):
            pos = (s.close - s.low) / span
        return [np.where(span != 0, pos, 0.5)]

    def online(self, st: Panel, sel: Selection, now: Now, out: np.ndarray) -> None:
        h, lo, c = st.bars.last(H, sel), st.bars.last(L, sel), st.bars.last(C, sel)
        span = h - lo
        out[:, 0] = np.where(span != 0, (c - lo) / span, 0.5)


class _Smoothed(Block):
    """A TA-Lib indicator recomputed online on the last ``warm-up + 1`` closes."""

    def __init__(self, params: FeatureParams) -> None:
        super().__init__(params)
        self.windows = tuple(w + 1 for _, w in params.outputs())
        self.bars = max(self.windows)


def unchanged_run(close: np.ndarray) -> np.ndarray:
    """How many bars in a row, up to each bar, the close has not changed, shape (n,)."""
    idx = np.arange(len(close))
    moved = np.ones(len(close), dtype=bool)
    moved[1:] = close[1:] != close[:-1]
    return idx - np.maximum.accumulate(np.where(moved, idx, 0))


class Rsi(_Smoothed):
    """TA-Lib's RSI / 100, and 0.5 once the close has not changed for ``flat`` bars."""

    def __init__(self, params: RsiParams) -> None:
        super().__init__(params)
        self.flat = tuple(rsi_flat_bars(p) for p in params.periods)
        self.bars = max(self.bars, *(f + 1 for f in self.flat))

    def batch(self, s: SymbolArrays) -> list[np.ndarray]:
        run = unchanged_run(s.close)
        out = []
        for p, flat in zip(self.params.periods, self.flat, strict=True):
            rsi = _RSI(s.close, p) / 100.0
            rsi[(run >= flat) & ~np.isnan(rsi)] = 0.5
            out.append(rsi)
        return out

    def online(self, st: Panel, sel: Selection, now: Now, out: np.ndarray) -> None:
        for i, (p, n) in enumerate(zip(self.params.periods, self.windows, strict=True)):
            recent = st.bars.tail(C, sel, self.flat[i] + 1)
            flat = (recent == recent[:, -1:]).all(axis=1)
            closes = st.bars.tail(C, sel, n)
            out[:, i] = 0.5
            for j in np.flatnonzero(~flat).tolist():
                out[j, i] = _RSI(closes[j], p)[-1] / 100.0


class Macd(_Smoothed):
    def _macd(self, close: np.ndarray) -> tuple[np.ndarray, ...]:
        p = self.params
        return _MACD(close, p.fast, p.slow, p.signal)

    def batch(self, s: SymbolArrays) -> list[np.ndarray]:
        return [line / s.close for line in self._macd(s.close)]

    def online(self, st: Panel, sel: Selection, now: Now, out: np.ndarray) -> None:
        closes = st.bars.tail(C, sel, self.bars)
        for j in range(len(sel)):
            for i, line in enumerate(self._macd(closes[j])):
                out[j, i] = line[-1]
        out /= st.bars.last(C, sel)[:, None]


class EmaDistance(_Smoothed):
    def batch(self, s: SymbolArrays) -> list[np.ndarray]:
        return [s.close / _EMA(s.close, p) - 1.0 for p in self.params.periods]

    def online(self, st: Panel, sel: Selection, now: Now, out: np.ndarray) -> None:
        for i, (p, n) in enumerate(zip(self.params.periods, self.windows, strict=True)):
            closes = st.bars.tail(C, sel, n)
            for j in range(len(sel)):
                out[j, i] = _EMA(closes[j], p)[-1]
        np.divide(st.bars.last(C, sel)[:, None], out, out=out)
        out -= 1.0


class Atr(_Smoothed):
    def batch(self, s: SymbolArrays) -> list[np.ndarray]:
        return [_ATR(s.high, s.low, s.close, p) / s.close for p in self.params.periods]

    def online(self, st: Panel, sel: Selection, now: Now, out: np.ndarray) -> None:
        b = st.bars
        for i, (p, n) in enumerate(zip(self.params.periods, self.windows, strict=True)):
            h, lo, c = b.tail(H, sel, n), b.tail(L, sel, n), b.tail(C, sel, n)
            for j in range(len(sel)):
                out[j, i] = _ATR(h[j], lo[j], c[j], p)[-1]
        out /= b.last(C, sel)[:, None]


class Bollinger(Block):
    def __init__(self, params: BollingerParams) -> None:
        super().__init__(params)
        self.bars = params.period
        self.k2 = 2.0 * params.width

    def batch(self, s: SymbolArrays) -> list[np.ndarray]:
        mean, var, dev = rolling_moments(s.close, self.bars, ddof=0)
        band = self.k2 * np.sqrt(var)
        return [divide(dev, band) + 0.5, band / mean]

    def online(self, st: Panel, sel: Selection, now: Now, out: np.ndarray) -> None:
        mean, var, dev = window_moments(st.bars.tail(C, sel, self.bars), 0)
        band = self.k2 * np.sqrt(var)
        out[:, 0] = safe_divide(dev, band) + 0.5
        out[:, 1] = band / mean


class RealizedVol(Block):
    """``rvol_w`` from the last ``w`` returns; its z-score from a ring of past ``rvol_w``."""

    def __init__(self, params: RealizedVolParams) -> None:
        super().__init__(params)
        self.windows = params.windows
        self.z = params.zscore_window
        self.bars = max(self.windows)
        self._lengths = np.array(self.windows, dtype=np.int64)
        if self.z is not None:
            self.rings = {"rvol": (len(self.windows), self.z)}

    def batch(self, s: SymbolArrays) -> list[np.ndarray]:
        vols = [np.sqrt(rolling_moments(s.r1, w)[1]) for w in self.windows]
        if self.z is None:
            return vols
        zs = []
        for vol in vols:
            _, var, dev = rolling_moments(vol, self.z)
            zs.append(divide(dev, np.sqrt(var)))
        return vols + zs

    def online(self, st: Panel, sel: Selection, now: Now, out: np.ndarray) -> None:
        nw = len(self.windows)
        vols = window_stds(st.bars.tail(R1, sel, self.bars), self._lengths)
        out[:, :nw] = vols
        if self.z is None:
            return
        ring = st.rings["rvol"]
        ring.push(sel, vols.T)
        out[:, nw:] = window_zscores(ring.tails(sel, self.z))

    def load(self, st: Panel, symbol: int, columns: np.ndarray) -> None:
        if self.z is not None:
            st.rings["rvol"].load(symbol, columns[: len(self.windows)])


class VolumeZscore(Block):
    def __init__(self, params: VolumeZscoreParams) -> None:
        super().__init__(params)
        self.bars = params.window

    def batch(self, s: SymbolArrays) -> list[np.ndarray]:
        _, var, dev = rolling_moments(s.logv, self.bars)
        return [divide(dev, np.sqrt(var))]

    def online(self, st: Panel, sel: Selection, now: Now, out: np.ndarray) -> None:
        out[:] = window_zscores(st.bars.tail(LOGV, sel, self.bars)[None])


class VolumeImbalance(Block):
    def __init__(self, params: VolumeImbalanceParams) -> None:
        super().__init__(params)
        self.bars = params.window

    def batch(self, s: SymbolArrays) -> list[np.ndarray]:
        signed = np.sign(s.close - s.open) * s.volume
        return [divide(rolling_sum(signed, self.bars), rolling_sum(s.volume, self.bars))]

    def online(self, st: Panel, sel: Selection, now: Now, out: np.ndarray) -> None:
        b, n = st.bars, self.bars
        vol = b.tail(V, sel, n)
        total = vol.sum(axis=1)
        signed = np.einsum("ij,ij->i", np.sign(b.tail(C, sel, n) - b.tail(OPEN, sel, n)), vol)
        out[:, 0] = safe_divide(signed, total)


def _cycle(period: int) -> tuple[np.ndarray, np.ndarray]:
    angle = 2.0 * np.pi * np.arange(period) / period
    return np.sin(angle), np.cos(angle)


_CYCLES = {"minute_of_hour": 60, "hour_of_day": 24, "day_of_week": 7, "month": 12}
_NOW_FIELD = {"minute_of_hour": "minute", "hour_of_day": "hour", "day_of_week": "dow"}
_MINUTE_US, _HOUR_US, _DAY_US = 60_000_000, 3_600_000_000, 86_400_000_000


def local_fields(ts_us: np.ndarray, zone: ZoneInfo) -> dict[str, np.ndarray]:
    """Local minute, hour, weekday (Monday 0) and month (January 0) of UTC instants.

    Parameters
    ----------
    ts_us : ndarray of int64, shape (n,)
        Microseconds since 1970-01-01 UTC.
    zone : ZoneInfo
        The time zone whose wall clock is wanted.

    Returns
    -------
    dict of str to ndarray of int64, shape (n,)
    """
    utc = pd.DatetimeIndex(ts_us.astype("datetime64[us]")).tz_localize("UTC")
    wall = utc.tz_convert(zone).tz_localize(None).to_numpy().astype("datetime64[us]")
    local = wall.view(np.int64)
    return {
        "minute_of_hour": (local // _MINUTE_US) % 60,
        "hour_of_day": (local // _HOUR_US) % 24,
        "day_of_week": (local // _DAY_US + 3) % 7,  # 1970-01-01 was a Thursday
        "month": wall.astype("datetime64[M]").view(np.int64) % 12,
    }


class Calendar(Block):
    """sin/cos pairs of local calendar fields, read from exact lookup tables."""

    per_symbol = False

    def __init__(self, params: CalendarParams) -> None:
        super().__init__(params)
        self.zone = ZoneInfo(params.timezone)
        self.fields = params.fields
        self.tables = {f: _cycle(_CYCLES[f]) for f in self.fields}

    def batch_all(self, ts_us: np.ndarray) -> list[np.ndarray]:
        """The columns for every row, from the rows' UTC times (n,) in microseconds."""
        local = local_fields(ts_us, self.zone)
        out = []
        for f in self.fields:
            sin, cos = self.tables[f]
            out += [sin[local[f]], cos[local[f]]]
        return out

    def online(self, st: Panel, sel: Selection, now: Now, out: np.ndarray) -> None:
        out[:] = self._row(now)

    def _row(self, now: Now) -> np.ndarray:
        """The block's values at ``now`` (the same for every symbol), shape (len(names),)."""
        row = np.empty(len(self.names))
        for i, f in enumerate(self.fields):
            sin, cos = self.tables[f]
            at = getattr(now, _NOW_FIELD.get(f, "month0"))
            row[2 * i], row[2 * i + 1] = sin[at], cos[at]
        return row


class MarketReturn(Block):
    """The market return is computed by the engine (it needs every symbol at a ts)."""

    def batch(self, s: SymbolArrays) -> list[np.ndarray]:
        return [s.mkt]

    def online(self, st: Panel, sel: Selection, now: Now, out: np.ndarray) -> None:
        out[:, 0] = st.bars.last(MKT, sel)


class MarketBeta(Block):
    def __init__(self, params: MarketBetaParams) -> None:
        super().__init__(params)
        self.bars = params.window

    def batch(self, s: SymbolArrays) -> list[np.ndarray]:
        var_r, var_m, cov = rolling_cov(s.r1, s.mkt, self.bars)
        return [divide(cov, var_m), divide(cov, np.sqrt(var_r * var_m))]

    def online(self, st: Panel, sel: Selection, now: Now, out: np.ndarray) -> None:
        b, n = st.bars, self.bars
        var_r, var_m, cov = window_cov(b.tail(R1, sel, n), b.tail(MKT, sel, n))
        out[:, 0] = safe_divide(cov, var_m)
        out[:, 1] = safe_divide(cov, np.sqrt(var_r * var_m))


_BLOCKS: dict[type[FeatureParams], type[Block]] = {
    LogReturnParams: LogReturn,
    HighLowRangeParams: HighLowRange,
    ClosePositionParams: ClosePosition,
    RsiParams: Rsi,
    MacdParams: Macd,
    EmaDistanceParams: EmaDistance,
    BollingerParams: Bollinger,
    AtrParams: Atr,
    RealizedVolParams: RealizedVol,
    VolumeZscoreParams: VolumeZscore,
    VolumeImbalanceParams: VolumeImbalance,
    CalendarParams: Calendar,
    MarketReturnParams: MarketReturn,
    MarketBetaParams: MarketBeta,
}


def build_blocks(params: tuple[FeatureParams, ...]) -> list[Block]:
    """One block per enabled feature kind, in column order."""
    return [_BLOCKS[type(p)](p) for p in params]
