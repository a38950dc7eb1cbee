"""Long bar and signal frames -> aligned (time x symbol) arrays, with input checks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nexus.errors import AlignmentError, DataError

__all__ = ["PROBA_COLUMNS", "Panel", "align_probabilities", "align_signals", "bars_panel"]

_BAR_NEEDS = ("symbol", "ts", "open", "close", "volume")
PROBA_COLUMNS = ("p_down", "p_neutral", "p_up")
_SHOWN = 5


@dataclass(frozen=True)
class Panel:
    """Bars as arrays over the union of their timestamps.

    Attributes
    ----------
    ts : DatetimeIndex, shape (T,)
        Every bar time, UTC, sorted.
    symbols : Index, shape (N,)
        Every symbol, sorted.
    open, close, volume : ndarray, shape (T, N)
        NaN where a symbol has no bar.
    valid : ndarray of bool, shape (T, N)
        Where a symbol has a bar.
    stamps, rows : ndarray of int64, shape (n,)
        Each input bar's time (microseconds) and row, in the input order.
    """

    ts: pd.DatetimeIndex
    symbols: pd.Index
    open: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    valid: np.ndarray
    stamps: np.ndarray
    rows: np.ndarray

    def locate(self, frame: pd.DataFrame, what: str) -> tuple[np.ndarray, np.ndarray]:
        """Row and column of each (symbol, ts) of ``frame``; raises if one is not a bar."""
        _need(frame, ("symbol", "ts"), what)
        codes, names = pd.factorize(frame["symbol"])
        known = self.symbols.get_indexer(pd.Index(names).astype(str))
        col = known[codes]
        if (known < 0).any():
            unknown = pd.Index(names).astype(str)[known < 0]
            raise AlignmentError(
                f"{what} name {len(unknown)} symbols that have no bars: {_show(unknown)}",
                fix=f"pass bars for them or drop them; the bars hold {_show(self.symbols)}",
            )
        stamps = _int_ts(frame["ts"], what)
        if np.array_equal(stamps, self.stamps):  # laid out like the bars: reuse their rows
            row = self.rows
        else:
            bar_ts = self.ts.asi8
            row = np.minimum(np.searchsorted(bar_ts, stamps), len(bar_ts) - 1)
            row = np.where(bar_ts[row] == stamps, row, 0)
        found = (self.ts.asi8[row] == stamps) & self.valid[row, col]
        if not found.all():
            missing = frame.loc[~found, ["symbol", "ts"]]
            raise AlignmentError(
                f"{what} have {len(missing)} rows at timestamps where the symbol has no bar, "
                f"first {missing.iloc[0]['symbol']} at {pd.Timestamp(missing.iloc[0]['ts'])}",
                fix="give one row per (symbol, ts) of the bars, e.g. by joining on them first",
            )
        key = row * len(self.symbols) + col
        if np.bincount(key, minlength=self.valid.size).max() > 1:
            raise AlignmentError(
                f"{what} hold duplicate (symbol, ts) rows",
                fix="keep one row per symbol and bar (drop_duplicates on symbol, ts)",
            )
        return row, col

    def scatter(self, row: np.ndarray, col: np.ndarray, values: np.ndarray) -> np.ndarray:
        """A (T, N, ...) array of NaN with ``values`` at (row, col), carried forward in time."""
        out = np.full((len(self.ts), len(self.symbols), *values.shape[1:]), np.nan)
        out[row, col] = values
        return _ffill(out)


def bars_panel(bars: pd.DataFrame) -> Panel:
    """Check a long bar frame and lay it out as (T, N) arrays.

    Parameters
    ----------
    bars : DataFrame, shape (n, >= 5)
        Columns ``symbol, ts, open, close, volume`` at least (Nexus' bar
        layout, :data:`nexus.domain.BAR_COLUMNS`, has them).

    Returns
    -------
    Panel

    Raises
    ------
    DataError
        Missing columns, duplicate bars, non-positive or missing prices.
    """
    _need(bars, _BAR_NEEDS, "bars")
    if len(bars) < 2:
        raise DataError("bars hold fewer than 2 rows", fix="pass at least two bars per symbol")
    codes, symbols = _sorted_codes(bars["symbol"], str)
    stamps = _int_ts(bars["ts"], "bars")
    row, uniq = _time_codes(stamps)
    shape = (len(uniq), len(symbols))
    grid = _grid_layout(row, codes, shape)
    if grid is not None:  # every symbol at every time, in time- or symbol-major order
        valid = np.ones(shape, dtype=bool)
    else:
        valid = np.zeros(shape, dtype=bool)
        valid[row, codes] = True
        if valid.sum() != len(bars):
            raise DataError(
                "bars hold duplicate (symbol, ts) rows",
                fix="keep one bar per symbol and timestamp (drop_duplicates on symbol, ts)",
            )
    arrays = {}
    for name in ("open", "close", "volume"):
        values = bars[name].to_numpy(dtype=np.float64)
        _check_prices(values, name)
        if grid is not None:
            arrays[name] = np.ascontiguousarray(grid(values))
        else:
            arrays[name] = np.full(shape, np.nan)
            arrays[name][row, codes] = values
    ts = pd.DatetimeIndex(uniq.astype("datetime64[us]")).tz_localize("UTC")
    return Panel(ts, pd.Index(symbols), valid=valid, stamps=stamps, rows=row, **arrays)


def _grid_layout(row: np.ndarray, codes: np.ndarray, shape: tuple[int, int]):
    """A reshape that lays the rows out as (T, N), when they form the full grid in order."""
    n_t, n_s = shape
    if len(row) != n_t * n_s:
        return None
    if np.array_equal(row * n_s + codes, np.arange(len(row))):
        return lambda values: values.reshape(n_t, n_s)
    if np.array_equal(codes * n_t + row, np.arange(len(row))):
        return lambda values: values.reshape(n_s, n_t).T
    return None


def _time_codes(stamps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row of each timestamp among the sorted distinct ones; O(n) when already sorted."""
    step = np.diff(stamps)
    if (step >= 0).all():
        new = np.r_[True, step != 0]
        return np.cumsum(new) - 1, stamps[new]
    return _sorted_codes(stamps, None)


def _sorted_codes(
    values: np.ndarray | pd.Series, kind: type | None
) -> tuple[np.ndarray, np.ndarray]:
    """Codes into the sorted distinct values (hash factorize, then sort only the distinct)."""
    codes, uniq = pd.factorize(values)
    uniq = np.asarray(uniq if kind is None else pd.Index(uniq).astype(kind))
    order = np.argsort(uniq, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[codes], uniq[order]


def align_signals(panel: Panel, signals: pd.DataFrame) -> np.ndarray:
    """Signals as a (T, N) array, carried forward to later bars until the next signal.

    Parameters
    ----------
    panel : Panel
        The bars.
    signals : DataFrame, shape (m, 3)
        Columns ``symbol, ts, signal``; ``signal`` in [-1, 1].

    Returns
    -------
    ndarray, shape (T, N)
        NaN before a symbol's first signal.
    """
    _need(signals, ("symbol", "ts", "signal"), "signals")
    values = signals["signal"].to_numpy(dtype=np.float64)
    _check_range(values, "signals column 'signal'", -1.0, 1.0)
    row, col = panel.locate(signals, "signals")
    return panel.scatter(row, col, values)


def align_probabilities(panel: Panel, proba: pd.DataFrame) -> np.ndarray:
    """Probabilities as a (T, N, 3) array (DOWN, NEUTRAL, UP), carried forward.

    Parameters
    ----------
    panel : Panel
        The bars.
    proba : DataFrame, shape (m, 5)
        Columns ``symbol, ts, p_down, p_neutral, p_up``; each row sums to 1.

    Returns
    -------
    ndarray, shape (T, N, 3)
    """
    _need(proba, ("symbol", "ts", *PROBA_COLUMNS), "probabilities")
    values = proba.loc[:, list(PROBA_COLUMNS)].to_numpy(dtype=np.float64)
    _check_range(values, "probabilities", 0.0, 1.0)
    off = np.abs(values.sum(axis=1) - 1.0) > 1e-6
    if off.any():
        raise AlignmentError(
            f"probabilities have {int(off.sum())} rows whose p_down + p_neutral + p_up "
            f"is not 1 (first sums to {values[off][0].sum():.6g})",
            fix="pass calibrated class probabilities (a model's predict_proba)",
        )
    row, col = panel.locate(proba, "probabilities")
    return panel.scatter(row, col, values)


def _need(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"{what} is a {type(frame).__name__}, not a DataFrame",
            fix=f"pass a long DataFrame with columns {list(columns)}",
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{what} lack columns {missing}", fix=f"pass a long frame with columns {list(columns)}"
        )


def _int_ts(values: pd.Series, what: str) -> np.ndarray:
    """UTC timestamps as int64 microseconds (naive values are taken as UTC)."""
    try:
        stamps = pd.DatetimeIndex(pd.to_datetime(values, utc=True)).as_unit("us")
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"{what} column 'ts' is not a timestamp column ({exc})",
            fix="pass UTC datetimes, e.g. pd.to_datetime(ts, utc=True)",
        ) from None
    if stamps.hasnans:
        raise DataError(f"{what} column 'ts' has missing values", fix="drop rows without a time")
    return stamps.asi8


def _check_prices(values: np.ndarray, name: str) -> None:
    bad = ~np.isfinite(values) | (values < 0) | ((values == 0) & (name != "volume"))
    if bad.any():
        raise DataError(
            f"bars column {name!r} has {int(bad.sum())} missing, negative or zero values",
            fix="clean the bars first (nexus ingest quarantines such rows)",
        )


def _check_range(values: np.ndarray, what: str, low: float, high: float) -> None:
    if np.isnan(values).any():
        raise AlignmentError(
            f"{what} hold {int(np.isnan(values).sum())} NaN values",
            fix="drop those rows (a missing row keeps the previous signal) or fill them",
        )
    outside = (values < low) | (values > high)
    if outside.any():
        raise AlignmentError(
            f"{what} hold {int(outside.sum())} values outside [{low:g}, {high:g}], "
            f"e.g. {values[outside][0]:g}",
            fix=f"scale or clip them into [{low:g}, {high:g}]",
        )


def _show(values) -> str:
    values = [str(v) for v in values]
    more = f" and {len(values) - _SHOWN} more" if len(values) > _SHOWN else ""
    return ", ".join(values[:_SHOWN]) + more


def _ffill(values: np.ndarray) -> np.ndarray:
    """Carry the last non-NaN value forward along axis 0 (per column)."""
    flat = values.reshape(values.shape[0], -1)
    has = ~np.isnan(flat)
    idx = np.where(has, np.arange(flat.shape[0])[:, None], 0)
    np.maximum.accumulate(idx, axis=0, out=idx)
    return flat[idx, np.arange(flat.shape[1])].reshape(values.shape)  # row 0 may be NaN
