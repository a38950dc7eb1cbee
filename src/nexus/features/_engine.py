"""The batch engine: bars in any order -> sorted arrays -> one (features, bars) matrix.

Shared by :meth:`FeaturePipeline.transform` and :meth:`OnlineFeatures.warm`, so the
online state is seeded by exactly the computation it must agree with.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nexus.domain import ts_array
from nexus.errors import DataError
from nexus.features._blocks import (
    BAR_ROWS,
    MKT,
    R1,
    Block,
    Calendar,
    MarketBeta,
    MarketReturn,
    SymbolArrays,
    build_blocks,
)
from nexus.features._context import FeatureContext, close_offset_us, context_columns
from nexus.features._spec import FeatureSpec

__all__ = [
    "OHLCV",
    "Computed",
    "Plan",
    "SortedBars",
    "check_columns",
    "compute",
    "sort_bars",
    "to_frame",
]

PRICE_COLUMNS = ("open", "high", "low", "close")
OHLCV = (*PRICE_COLUMNS, "volume")
NEEDED = ("symbol", "ts", *OHLCV)
_VALID = "pass bars that passed nexus.ingest validation (finite prices > 0, finite volume >= 0)"


class Plan:
    """A spec compiled for computing: blocks, column positions, warm-ups, lags, buffer sizes.

    Parameters
    ----------
    spec : FeatureSpec
        The features to compute.
    """

    def __init__(self, spec: FeatureSpec) -> None:
        self.spec = spec
        self.blocks: list[Block] = build_blocks(spec.features.enabled())
        self.names = spec.names()
        self.warmups = np.array([w for _, w in spec.outputs()], dtype=np.int64)
        self.slices: list[slice] = []
        j = 0
        for block in self.blocks:
            self.slices.append(slice(j, j + len(block.names)))
            j += len(block.names)
        self.n_base = j
        index = {name: i for i, name in enumerate(self.names)}
        lagged = spec.lagged()
        self.lag_bases = tuple(index[name] for name, _ in lagged)
        self.lags = tuple(
            (row, k, index[f"{name}_lag{k}"]) for row, (name, ks) in enumerate(lagged) for k in ks
        )
        self.max_lag = max((k for _, k, _ in self.lags), default=0)
        self.needs_market = any(isinstance(b, MarketReturn | MarketBeta) for b in self.blocks)
        self.calendar = next((b for b in self.blocks if isinstance(b, Calendar)), None)
        self.bar_window = max([2, *(b.bars for b in self.blocks)])
        self.rings = {name: shape for b in self.blocks for name, shape in b.rings.items()}
        width = len(spec.context_names())
        self.context = slice(len(self.names) - width, len(self.names)) if width else None

    @property
    def warmup(self) -> int:
        """The longest warm-up of any column, in bars."""
        return int(self.warmups.max())


@dataclass(frozen=True, slots=True)
class SortedBars:
    """Bars sorted by symbol then ts, as arrays.

    Symbol ``symbols[i]`` owns rows ``bounds[i]:bounds[i + 1]``; ``symbol_col`` and
    ``ts_col`` are the input's columns in this order (for the output frame).
    """

    symbols: tuple[str, ...]
    bounds: np.ndarray
    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    symbol_col: pd.api.extensions.ExtensionArray | np.ndarray
    ts_col: pd.api.extensions.ExtensionArray | np.ndarray
    interval: str | None

    def __len__(self) -> int:
        return len(self.ts)

    def segments(self) -> zip:
        """``(symbol, start, stop)`` for every symbol."""
        return zip(self.symbols, self.bounds[:-1].tolist(), self.bounds[1:].tolist(), strict=True)


def check_columns(frame: pd.DataFrame, what: str) -> None:
    """Raise :class:`DataError` naming the bar columns ``frame`` lacks."""
    missing = [c for c in NEEDED if c not in frame.columns]
    if missing:
        raise DataError(
            f"{what} lacks columns {missing}",
            fix=f"pass a bar frame with columns {list(NEEDED)} (nexus.domain.BAR_COLUMNS)",
        )


def _interval(frame: pd.DataFrame, what: str) -> str | None:
    if "interval" not in frame.columns or len(frame) == 0:
        return None
    col = frame["interval"]
    first = str(col.iloc[0])
    if (col != first).any():
        raise DataError(
            f"{what} mixes intervals {sorted(map(str, col.unique()))}",
            fix="compute features for one interval at a time (filter on the interval column)",
        )
    return first


def _check_keys(codes: np.ndarray, ts: np.ndarray, what: str) -> None:
    missing = int((codes < 0).sum() + (ts == np.iinfo(np.int64).min).sum())
    if missing:
        raise DataError(
            f"{what} has {missing} bars without a symbol or a ts",
            fix="drop rows whose symbol or ts is missing",
        )


def _order(codes: np.ndarray, ts: np.ndarray) -> np.ndarray | None:
    """The permutation that sorts rows by (symbol, ts), or None when already sorted."""
    if len(ts) < 2:
        return None
    step = codes[1:] - codes[:-1]
    if np.all((step > 0) | ((step == 0) & (ts[1:] > ts[:-1]))):
        return None
    return np.lexsort((ts, codes))


def _check_values(bars: SortedBars, what: str) -> None:
    for col in (*PRICE_COLUMNS, "volume"):
        x = getattr(bars, col)
        ok = (x >= 0) & (x < np.inf) if col == "volume" else (x > 0) & (x < np.inf)
        if not ok.all():
            i = int(np.argmin(ok))
            raise DataError(
                f"{what}: bar {_where(bars, i)} has {col}={float(x[i])!r}",
                fix=_VALID,
            )


def _where(bars: SortedBars, i: int) -> str:
    seg = int(np.searchsorted(bars.bounds, i, side="right")) - 1
    return f"{bars.symbols[seg]} at {pd.Timestamp(bars.ts[i], unit='us', tz='UTC')}"


def _check_unique(bars: SortedBars, what: str) -> None:
    if len(bars) < 2:
        return
    dup = np.flatnonzero(bars.ts[1:] == bars.ts[:-1])
    starts = set(bars.bounds[1:-1].tolist())
    dup = [i for i in dup.tolist() if i + 1 not in starts]
    if dup:
        raise DataError(
            f"{what} has two bars for {_where(bars, dup[0])}",
            fix="drop duplicate (symbol, ts) rows; the store never returns them",
        )


def sort_bars(frame: pd.DataFrame, what: str = "bars") -> SortedBars:
    """Validate a bar frame and return its arrays sorted by symbol then ts.

    Parameters
    ----------
    frame : DataFrame, shape (n, >= 7)
        ``symbol, ts, open, high, low, close, volume`` (``interval`` checked if present),
        rows in any order.
    what : str
        How error messages name the frame.

    Raises
    ------
    DataError
        On a missing column, mixed intervals, a duplicate (symbol, ts), or a
        non-finite or non-positive price or a negative volume.
    """
    check_columns(frame, what)
    interval = _interval(frame, what)
    codes, uniques = pd.factorize(frame["symbol"], sort=True)
    ts = ts_array(frame["ts"]).view(np.int64)
    _check_keys(codes, ts, what)
    order = _order(codes, ts)
    take = (lambda x: x) if order is None else (lambda x: x[order])
    symbol_col, ts_col = frame["symbol"].array, frame["ts"].array
    if order is not None:
        symbol_col, ts_col = symbol_col.take(order), ts_col.take(order)
    counts = np.bincount(codes, minlength=len(uniques))
    bars = SortedBars(
        symbols=tuple(str(s) for s in uniques),
        bounds=np.concatenate([[0], np.cumsum(counts)]),
        ts=take(ts),
        symbol_col=symbol_col,
        ts_col=ts_col,
        interval=interval,
        **{c: take(frame[c].to_numpy(dtype=np.float64)) for c in (*PRICE_COLUMNS, "volume")},
    )
    _check_unique(bars, what)
    _check_values(bars, what)
    return bars


@dataclass(frozen=True, slots=True)
class Computed:
    """The batch result: features (F, n) and the per-bar series that seed online buffers."""

    features: np.ndarray
    series: np.ndarray  # (BAR_ROWS, n): open, high, low, close, volume, logc, logv, r1, mkt


def market_return(r1: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Mean of the finite ``r1`` of the rows at each ts (``codes``: the ts of each row), shape (n,).

    Rows are summed in row order (symbol order within a ts) from 0.0, exactly as
    the online mode sums them, so both modes give the same bits.
    """
    valid = np.isfinite(r1)
    sums = np.bincount(codes, weights=np.where(valid, r1, 0.0))
    counts = np.bincount(codes, weights=valid.astype(np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        per_ts = sums / counts
    return per_ts[codes]


def _series(bars: SortedBars) -> np.ndarray:
    n = len(bars)
    out = np.empty((BAR_ROWS, n))
    out[:5] = bars.open, bars.high, bars.low, bars.close, bars.volume
    logc = np.log(bars.close, out=out[5])
    np.log1p(bars.volume, out=out[6])
    r1 = out[R1]
    r1[0:1] = np.nan
    np.subtract(logc[1:], logc[:-1], out=r1[1:])
    r1[bars.bounds[:-1]] = np.nan
    out[MKT] = np.nan
    return out


def _global_columns(
    plan: Plan,
    bars: SortedBars,
    series: np.ndarray,
    market_from: int | None,
    features: np.ndarray,
) -> None:
    if not (plan.needs_market or plan.calendar):
        return
    codes, uniq = pd.factorize(bars.ts)
    if plan.needs_market:
        mkt = market_return(series[R1], codes)
        if market_from is not None:
            mkt[bars.ts <= market_from] = np.nan
        series[MKT] = mkt
    if plan.calendar is not None:
        j = plan.slices[plan.blocks.index(plan.calendar)].start
        for i, col in enumerate(plan.calendar.batch_all(uniq)):
            features[j + i] = col[codes]


def _per_symbol(plan: Plan, bars: SortedBars, series: np.ndarray, features: np.ndarray) -> None:
    blocks = [(b, s) for b, s in zip(plan.blocks, plan.slices, strict=True) if b.per_symbol]
    for _, a, z in bars.segments():
        arrays = SymbolArrays(*series[:, a:z])
        for block, cols in blocks:
            for j, col in zip(range(cols.start, cols.stop), block.batch(arrays), strict=True):
                features[j, a:z] = col


def _mask_and_lag(plan: Plan, bars: SortedBars, features: np.ndarray) -> None:
    warm = plan.warmups.tolist()
    for _, a, z in bars.segments():
        for j in range(plan.n_base):
            if warm[j]:
                features[j, a : min(z, a + warm[j])] = np.nan
        for row, k, j in plan.lags:
            base = plan.lag_bases[row]
            features[j, a : min(z, a + k)] = np.nan
            features[j, a + k : z] = features[base, a : max(a, z - k)]


def compute(
    plan: Plan,
    bars: SortedBars,
    market_from: int | None = None,
    context: FeatureContext | None = None,
) -> Computed:
    """Every feature column of every bar, NaN before each column's warm-up.

    Parameters
    ----------
    plan : Plan
        The compiled spec.
    bars : SortedBars
        The bars, from :func:`sort_bars`.
    market_from : int, optional
        Treat the market return as unknown at ts ``<= market_from`` (microseconds):
        ``warm`` uses it where a truncated history cannot know every symbol's return.
    context : FeatureContext, optional
        The news and macro vintages; needed when the spec has those columns.

    Returns
    -------
    Computed
        ``features`` of shape (F, n) in ``plan.names`` order.
    """
    series = _series(bars)
    features = np.empty((len(plan.names), len(bars)))
    _global_columns(plan, bars, series, market_from, features)
    _per_symbol(plan, bars, series, features)
    _mask_and_lag(plan, bars, features)
    if plan.context is not None:
        _context_columns(plan, bars, context or FeatureContext(), features)
    return Computed(features=features, series=series)


def _context_columns(
    plan: Plan, bars: SortedBars, context: FeatureContext, features: np.ndarray
) -> None:
    context.check(plan.spec, "the feature pipeline")
    offset = close_offset_us(bars.interval, plan.spec, "bars")
    symbols = np.repeat(np.array(bars.symbols, dtype=object), np.diff(bars.bounds))
    features[plan.context] = context_columns(plan.spec, symbols, bars.ts + offset, context).T


def to_frame(
    names: tuple[str, ...],
    symbol_col: object,
    ts_col: object,
    values: np.ndarray,
) -> pd.DataFrame:
    """``symbol, ts`` and one float64 column per name from ``values`` (n, F), without copying."""
    frame = pd.DataFrame(values, columns=list(names), copy=False)
    frame.insert(0, "ts", ts_col)
    frame.insert(0, "symbol", symbol_col)
    return frame
