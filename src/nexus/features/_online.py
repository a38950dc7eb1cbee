"""The online mode: one bar time at a time, from bounded per-symbol buffers."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from nexus.domain import ts_array
from nexus.errors import DataError
from nexus.features._blocks import BAR_ROWS, LOGC, LOGV, MKT, R1, Now, Panel
from nexus.features._context import FeatureContext, OnlineContext, close_offset_us
from nexus.features._engine import (
    OHLCV,
    Plan,
    SortedBars,
    check_columns,
    compute,
    sort_bars,
    to_frame,
)
from nexus.features._windows import Rings, Selection, compile_kernels

__all__ = ["OnlineFeatures"]

_NO_CALENDAR = Now(0, 0, 0, 0)
# one comparison checks every column: prices > 0 and volume >= 0 (-0.0 and 0.0 pass, as
# does nothing negative: the smallest subnormal is the first value below 0.0)
_LOWEST = np.array([0.0, 0.0, 0.0, 0.0, -5e-324])


def _epoch_us(col: pd.Series) -> np.ndarray:
    """A ts column as int64 microseconds since 1970 UTC (naive values are UTC), shape (m,)."""
    arr = col.array
    if isinstance(arr, pd.arrays.DatetimeArray):
        return arr.as_unit("us").asi8
    return ts_array(col).view(np.int64)


def _ts_us(ts: object) -> int:
    """Microseconds since 1970 UTC of an int (already us), datetime64, Timestamp or datetime.

    Naive times are taken as UTC.
    """
    if isinstance(ts, int | np.integer):
        return int(ts)
    if isinstance(ts, np.datetime64):
        return int(ts.astype("datetime64[us]").astype(np.int64))
    return int(pd.Timestamp(ts).as_unit("us").value // 1000)


class OnlineFeatures:
    """Features of the newest bar of each symbol, equal to the batch values within 1e-9.

    Made by :meth:`FeaturePipeline.online`. Each symbol keeps a ring of its last
    ``buffer_bars`` bars (and a few derived series); every call recomputes each
    feature of the new bar from those buffers with the batch formula (TA-Lib on
    the last ``warm-up + 1`` closes for the smoothed indicators). The symbols'
    buffers are stacked, so a call computes each feature for all its symbols at
    once, as arrays (TA-Lib alone runs once per symbol). Nothing here touches
    pandas except the DataFrame in and out of :meth:`update`.

    Parameters
    ----------
    plan : Plan
        The compiled feature spec.

    Examples
    --------
    >>> from nexus.features import FeaturePipeline
    >>> from nexus.sources.simulator import SimulatorConfig, simulate
    >>> bars = simulate(SimulatorConfig(symbols=2, sessions=3, interval="5m")).bars
    >>> pipe = FeaturePipeline()
    >>> history, last = bars[bars.ts < bars.ts.max()], bars[bars.ts == bars.ts.max()]
    >>> online = pipe.online().warm(history)
    >>> row = online.update(last)
    >>> row.shape == (2, 2 + len(pipe.names))
    True
    """

    def __init__(self, plan: Plan) -> None:
        self._plan = plan
        self._index: dict[str, int] = {}
        self._panel = self._new_panel(0)
        self._last_selection: tuple[list[str], Selection] | None = None
        self._interval: str | None = None
        self._context = OnlineContext(plan.spec) if plan.context is not None else None
        self._offset: int | None = None  # label -> context time, once the interval is known
        self._blocks = list(zip(plan.blocks, plan.slices, strict=True))
        self._lag_bases = np.array(plan.lag_bases, dtype=np.intp)
        self._lag_rows, self._lag_ks, self._lag_cols = (
            (np.array(column, dtype=np.intp).reshape(-1) for column in zip(*plan.lags, strict=True))
            if plan.lags
            else (np.empty(0, dtype=np.intp),) * 3
        )

    @property
    def names(self) -> tuple[str, ...]:
        """Feature column names, in column order."""
        return self._plan.names

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols with state, sorted."""
        return tuple(sorted(self._index))

    @property
    def buffer_bars(self) -> int:
        """Bars of history each symbol keeps."""
        return self._plan.bar_window

    def _new_panel(self, symbols: int) -> Panel:
        plan = self._plan
        panel = Panel(plan.bar_window, plan.rings, symbols)
        if plan.lags:
            panel.rings["lags"] = Rings(len(plan.lag_bases), plan.max_lag + 1, symbols)
        return panel

    # ------------------------------------------------------------------ warm

    def warm(
        self,
        history: pd.DataFrame,
        *,
        news: pd.DataFrame | None = None,
        macro: pd.DataFrame | None = None,
    ) -> OnlineFeatures:
        """Rebuild every symbol's state from stored bars (replacing any earlier state).

        Parameters
        ----------
        history : DataFrame, shape (n, >= 7)
            A bar frame, any order, for example ``store.last_bars(symbols, interval,
            pipeline.warmup)``. With at least ``pipeline.warmup`` bars of a symbol,
            its next update equals the batch value over its full history. A symbol
            with fewer bars than the longest symbol is taken as complete (a new
            listing); the market return is treated as unknown at or before the
            first bar of the longest symbols, which may be truncated.
        news, macro : DataFrame, optional
            Stored news (from at least ``spec.news.history`` before the newest bar's
            close) and the vintages of the spec's macro series: needed when the spec
            has news or macro features, as for :meth:`FeaturePipeline.transform`.
            Items that arrive later go in with :meth:`add_context`.

        Returns
        -------
        OnlineFeatures
            ``self``.
        """
        self.warm_tail(history, 0, news=news, macro=macro)
        return self

    def warm_tail(
        self,
        history: pd.DataFrame,
        rows: int,
        *,
        news: pd.DataFrame | None = None,
        macro: pd.DataFrame | None = None,
    ) -> dict[str, np.ndarray]:
        """:meth:`warm`, and return each symbol's last ``rows`` feature rows of the history.

        The live engine's windows need these rows; taking them from the warm-up's
        own computation saves computing every feature of the history twice.

        Parameters
        ----------
        history : DataFrame, shape (n, >= 7)
            As for :meth:`warm`.
        rows : int
            Trailing rows wanted per symbol (0 for none).
        news, macro : DataFrame, optional
            As for :meth:`warm`.

        Returns
        -------
        dict of str to ndarray, shape (<= rows, F)
            Per symbol, its newest feature rows, oldest first, in column order.
        """
        compile_kernels()  # here, not on the first live bar
        bars = sort_bars(history, "warm-up history")
        context = FeatureContext(news, macro)
        self._index = {str(s): i for i, s in enumerate(bars.symbols)}
        self._panel = self._new_panel(len(self._index))
        self._last_selection = None
        self._interval = bars.interval
        self._offset = None
        if self._context is not None:
            asof = None
            if len(bars):
                self._offset = close_offset_us(bars.interval, self._plan.spec, "warm-up bars")
                asof = int(bars.ts.max()) + self._offset
            self._context.warm(context, asof)
        if not len(bars):
            return {}
        computed = compute(self._plan, bars, market_from=_market_from(bars), context=context)
        tails = {}
        for i, (symbol, a, z) in enumerate(bars.segments()):
            self._seed(i, bars, computed.features, computed.series, a, z)
            if rows > 0:
                tails[str(symbol)] = computed.features[:, max(a, z - rows) : z].T
        return tails

    def _seed(
        self, i: int, bars: SortedBars, features: np.ndarray, series: np.ndarray, a: int, z: int
    ) -> None:
        st = self._panel
        keep = max(a, z - self._plan.bar_window)
        st.bars.load(i, series[:, keep:z])
        for block, cols in self._blocks:
            block.load(st, i, features[cols, a:z])
        if self._plan.lags:
            st.rings["lags"].load(i, features[self._lag_bases, a:z])
        st.count[i] = z - a
        st.last_ts[i] = int(bars.ts[z - 1])

    def add_context(
        self, *, news: pd.DataFrame | None = None, macro: pd.DataFrame | None = None
    ) -> None:
        """Take news items and macro vintages that arrived since the warm-up (each once).

        An item counts from its ``available_at`` (a vintage from its
        ``realtime_start``) on, so passing one early leaks nothing; one that arrives
        late counts from the next update. Ignored when the spec has no such features.
        """
        if self._context is not None:
            self._context.add(news, macro)

    # ------------------------------------------------------------------ update

    def update(self, bars_at_ts: pd.DataFrame) -> pd.DataFrame:
        """Features of the bars of one timestamp (one row per symbol).

        Parameters
        ----------
        bars_at_ts : DataFrame, shape (m, >= 7)
            Bar frame rows that all share one ``ts``; pass every symbol's bar of
            that time in one call (the market return is their mean).

        Returns
        -------
        DataFrame, shape (m, 2 + F)
            ``symbol, ts`` and the feature columns, sorted by symbol, as
            :meth:`FeaturePipeline.transform` would give for these bars.

        Raises
        ------
        DataError
            On more than one ts, a repeated symbol, an interval other than the
            warm-up's, a bar not newer than the symbol's last, or a bad value.
        """
        check_columns(bars_at_ts, "online bars")
        symbols = [str(s) for s in bars_at_ts["symbol"].tolist()]
        ts_col = bars_at_ts["ts"].array
        ts = _epoch_us(bars_at_ts["ts"])
        self._check_frame(bars_at_ts, ts)
        ohlcv = np.column_stack([bars_at_ts[c].to_numpy(dtype=np.float64) for c in OHLCV])
        values = self.update_arrays(int(ts[0]) if len(ts) else 0, symbols, ohlcv)
        order = np.array(sorted(range(len(symbols)), key=symbols.__getitem__), dtype=np.intp)
        symbol_col = bars_at_ts["symbol"].array.take(order)
        return to_frame(self.names, symbol_col, ts_col.take(order), values[order])

    def _check_frame(self, frame: pd.DataFrame, ts: np.ndarray) -> None:
        if len(ts) and (ts != ts[0]).any():
            raise DataError(
                f"online bars hold {len(np.unique(ts))} timestamps",
                fix="pass the bars of one timestamp, one row per symbol",
            )
        if "interval" not in frame.columns or not len(frame):
            return
        intervals = set(map(str, frame["interval"].tolist()))
        known = {self._interval} if self._interval is not None else intervals
        if len(intervals | known) > 1:
            raise DataError(
                f"online bars are {sorted(intervals)} bars but the state holds "
                f"{self._interval!r} bars",
                fix="use one OnlineFeatures per interval",
            )
        self._interval = intervals.pop()

    def update_arrays(
        self, ts: int | np.datetime64 | datetime, symbols: Sequence[str], ohlcv: np.ndarray
    ) -> np.ndarray:
        """The hot path of :meth:`update`: numpy in, numpy out, no pandas.

        Parameters
        ----------
        ts : int, datetime64 or datetime
            The bar time (bar open, UTC); an int is microseconds since 1970.
        symbols : sequence of str, length m
            Distinct symbols.
        ohlcv : ndarray of float64, shape (m, 5)
            ``open, high, low, close, volume`` per symbol.

        Returns
        -------
        ndarray of float64, shape (m, F)
            Feature rows in the order of ``symbols``.
        """
        ts_us = _ts_us(ts)
        rows = np.asarray(ohlcv, dtype=np.float64).reshape(len(symbols), 5)
        if not len(symbols):
            return np.empty((0, len(self.names)))
        names = [str(s) for s in symbols]
        order = np.array(sorted(range(len(names)), key=names.__getitem__), dtype=np.intp)
        last = self._last_selection
        if last is not None and last[0] == names:  # the same symbols as the last call
            sel = last[1]
            self._check_bars(ts_us, names, rows, order, sel.index, distinct=True)
        else:
            index = self._index
            known = np.fromiter((index.get(s, -1) for s in names), dtype=np.intp, count=len(names))
            self._check_bars(ts_us, names, rows, order, known)
            sel = self._select(names, known)
            self._last_selection = (names, sel)
        self._push(sel, ts_us, rows, order)
        now = Now.at(ts_us, self._plan.calendar.zone) if self._plan.calendar else _NO_CALENDAR
        out = self._features(sel, now)
        if self._context is not None:
            if self._offset is None:
                self._offset = close_offset_us(self._interval, self._plan.spec, "online bars")
            out[:, self._plan.context] = self._context.at(ts_us + self._offset, names)
        return out

    def _check_bars(
        self,
        ts_us: int,
        symbols: list[str],
        rows: np.ndarray,
        order: np.ndarray,
        known: np.ndarray,
        *,
        distinct: bool = False,
    ) -> None:
        if not distinct and len(set(symbols)) < len(symbols):
            ordered = [symbols[i] for i in order.tolist()]
            twice = next(a for a, b in itertools.pairwise(ordered) if a == b)
            raise DataError(f"online bars repeat symbol {twice!r}", fix="pass one row each")
        if distinct:  # every symbol known
            stale = self._panel.last_ts[known] >= ts_us
        else:
            seen = known >= 0
            stale = np.zeros(len(symbols), dtype=bool)
            stale[seen] = self._panel.last_ts[known[seen]] >= ts_us
        ok = ((rows > _LOWEST) & (rows < np.inf)).all(axis=1)
        bad = stale | ~ok
        if not bad.any():
            return
        i = int(np.argmax(bad))
        symbol = symbols[i]
        if stale[i]:
            raise DataError(
                f"online bar {symbol} at {_stamp(ts_us)} is not newer than its last bar "
                f"at {_stamp(int(self._panel.last_ts[known[i]]))}",
                fix="feed each symbol's bars once, in time order",
            )
        col = int(np.argmin((rows[i] > _LOWEST) & (rows[i] < np.inf)))
        raise DataError(
            f"online bar {symbol} at {_stamp(ts_us)} has {OHLCV[col]}={rows[i, col].item()!r}",
            fix="pass bars that passed nexus.ingest validation (finite prices > 0, "
            "finite volume >= 0)",
        )

    def _select(self, symbols: list[str], known: np.ndarray) -> Selection:
        """The state rows of ``symbols`` (``known``: their rows, -1 if new); adds new rows."""
        index = self._index
        if (known < 0).any():
            for s in symbols:
                if s not in index:
                    index[s] = len(index)
            self._panel.resize(len(index))
            known = np.fromiter((index[s] for s in symbols), dtype=np.intp, count=len(symbols))
        return Selection.of(known, len(index))

    def _push(self, sel: Selection, ts_us: int, rows: np.ndarray, order: np.ndarray) -> None:
        """Append the bars (m, 5) with their logs, returns and the market return."""
        st = self._panel
        values = np.empty((BAR_ROWS, len(sel)))
        values[:5] = rows.T
        logc = np.log(rows[:, 3], out=values[LOGC])
        np.log1p(rows[:, 4], out=values[LOGV])
        count = sel.take(st.count)
        r1 = np.subtract(logc, st.bars.last(LOGC, sel), out=values[R1])
        r1[count == 0] = np.nan
        values[MKT] = _mean_return(r1[order])
        st.bars.push(sel, values)
        if sel.every:
            st.count += 1
            st.last_ts[:] = ts_us
        else:
            st.count[sel.index] += 1
            st.last_ts[sel.index] = ts_us

    def _features(self, sel: Selection, now: Now) -> np.ndarray:
        plan, st = self._plan, self._panel
        out = np.empty((len(sel), len(self.names)))
        with np.errstate(divide="ignore", invalid="ignore"):  # once, not per feature
            for block, cols in self._blocks:
                block.online(st, sel, now, out[:, cols])
        count = sel.take(st.count)
        if (count <= plan.warmup).any():
            out[plan.warmups[None, :] >= count[:, None]] = np.nan
        if plan.lags:
            ring = st.rings["lags"]
            ring.push(sel, out[:, self._lag_bases].T)
            out[:, self._lag_cols] = ring.back(self._lag_rows, sel, self._lag_ks).T
        return out


def _mean_return(r1: np.ndarray) -> float:
    """The market return of one ts: finite returns summed in symbol order, as in batch.

    ``r1`` holds the symbols' returns in symbol order, shape (m,).
    """
    total, count = 0.0, 0
    for x in r1.tolist():  # one addition after another, as batch's bincount adds
        if math.isfinite(x):
            total += x
            count += 1
    return total / count if count else math.nan


def _market_from(bars: SortedBars) -> int | None:
    """The last ts at which a truncated history may miss a symbol's return (see ``warm``)."""
    lengths = np.diff(bars.bounds)
    longest = lengths == lengths.max()
    firsts = bars.ts[bars.bounds[:-1]]
    return int(firsts[longest].max())


def _stamp(ts_us: int) -> str:
    return str(pd.Timestamp(ts_us, unit="us", tz="UTC"))
