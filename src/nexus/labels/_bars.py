"""Bars as sorted numpy arrays, checked once, for every labelling rule.

Internal: :func:`bar_arrays` validates a bar frame and returns a :class:`BarArrays`
sorted by symbol, then time; :func:`label_frame` turns per-row results back into
the label frame every rule returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nexus.domain import Interval, ts_array
from nexus.errors import ConfigError, DataError

__all__ = ["LABEL_COLUMNS", "BarArrays", "bar_arrays", "check_int", "label_frame", "to_utc"]

LABEL_COLUMNS = ("symbol", "ts", "label", "t_touch", "t_end", "ret", "both")
"""Columns of every label frame, in order."""

_NEEDED = ("symbol", "interval", "ts", "open", "high", "low", "close")
_PRICES = ("open", "high", "low", "close")


@dataclass(frozen=True, slots=True)
class BarArrays:
    """One bar frame as arrays sorted by (symbol, ts); every array has shape (n,).

    Attributes
    ----------
    symbols : ndarray of object, shape (s,)
        The distinct symbols, sorted; ``code`` indexes it.
    code : ndarray of int64
        Symbol of each bar.
    ts : ndarray of int64
        Bar open time in microseconds since the epoch (UTC).
    step : ndarray of int64
        The bar's interval in microseconds: a bar is known at ``ts + step``.
    open, high, low, close : ndarray of float64
    after : ndarray of int64
        How many later bars the same symbol has.
    order : ndarray of int64
        Row position of each sorted bar in the caller's frame.
    """

    symbols: np.ndarray
    code: np.ndarray
    ts: np.ndarray
    step: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    after: np.ndarray
    order: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)

    def log_returns(self) -> np.ndarray:
        """One-bar log close-to-close returns, NaN on each symbol's first bar, shape (n,)."""
        out = np.full(len(self), np.nan)
        logc = np.log(self.close)
        out[1:] = logc[1:] - logc[:-1]
        out[self._firsts()] = np.nan
        return out

    def _firsts(self) -> np.ndarray:
        first = np.ones(len(self), dtype=bool)
        first[1:] = self.code[1:] != self.code[:-1]
        return first


def check_int(value: object, name: str, low: int = 1) -> int:
    """``value`` as an int ``>= low``, else a :class:`ConfigError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ConfigError(
            f"{name}={value!r} is not an integer >= {low}", fix=f"pass {name} >= {low}"
        )
    return int(value)


def bar_arrays(bars: pd.DataFrame) -> BarArrays:
    """Check ``bars`` and return its columns as arrays sorted by symbol, then time.

    Parameters
    ----------
    bars : DataFrame, shape (n, >= 7)
        ``symbol``, ``interval``, ``ts``, ``open``, ``high``, ``low``, ``close``
        (the layout of :data:`nexus.domain.BAR_COLUMNS`), in any row order.

    Raises
    ------
    DataError
        If a column is missing, a price is not finite and positive, a timestamp
        is missing or repeats for a symbol, or a symbol mixes intervals.
    """
    _require_columns(bars)
    code, symbols = pd.factorize(bars["symbol"], sort=True)
    if (code < 0).any():
        raise DataError("bars have rows without a symbol", fix="drop or fill them before labelling")
    ts_raw = bars["ts"]
    if ts_raw.isna().any():
        raise DataError("bars have rows without a ts", fix="drop them before labelling")
    ts = ts_array(ts_raw).view(np.int64)
    order = np.lexsort((ts, code))
    code, ts = code[order].astype(np.int64), ts[order]
    _check_unique(code, ts, symbols)
    step = _steps(bars["interval"], order, code, symbols)
    prices = {c: bars[c].to_numpy(dtype=np.float64)[order] for c in _PRICES}
    _check_prices(prices)
    return BarArrays(
        symbols=np.asarray(symbols, dtype=object),
        code=code,
        ts=ts,
        step=step,
        after=_bars_after(code),
        order=order.astype(np.int64),
        **prices,
    )


def _require_columns(bars: pd.DataFrame) -> None:
    missing = [c for c in _NEEDED if c not in bars.columns]
    if missing:
        raise DataError(
            f"bars lack columns {missing}",
            fix=f"pass a bar frame with columns {list(_NEEDED)} (nexus.domain.BAR_COLUMNS)",
        )


def _check_unique(code: np.ndarray, ts: np.ndarray, symbols: pd.Index) -> None:
    dup = np.flatnonzero((code[1:] == code[:-1]) & (ts[1:] == ts[:-1]))
    if len(dup):
        when = pd.Timestamp(int(ts[dup[0]]), unit="us", tz="UTC")
        raise DataError(
            f"bars repeat (symbol, ts) {len(dup)} time(s), first {symbols[code[dup[0]]]} at {when}",
            fix="keep one bar per symbol and ts (drop_duplicates(['symbol', 'ts']))",
        )


def _steps(
    interval: pd.Series, order: np.ndarray, code: np.ndarray, symbols: pd.Index
) -> np.ndarray:
    icode, names = pd.factorize(interval)
    if (icode < 0).any():
        raise DataError("bars have rows without an interval", fix="set the interval column")
    lengths = np.array([Interval.parse(str(n)).seconds * 1_000_000 for n in names], dtype=np.int64)
    icode = icode[order]
    mixed = np.flatnonzero((code[1:] == code[:-1]) & (icode[1:] != icode[:-1]))
    if len(mixed):
        raise DataError(
            f"symbol {symbols[code[mixed[0]]]} mixes bar intervals",
            fix="label one interval at a time (filter the bars on their interval column)",
        )
    return lengths[icode]


def _check_prices(prices: dict[str, np.ndarray]) -> None:
    for name, values in prices.items():
        bad = ~(np.isfinite(values) & (values > 0))
        if bad.any():
            raise DataError(
                f"bars have {int(bad.sum())} {name} price(s) that are missing, infinite or <= 0",
                fix="drop or repair those bars first (nexus.ingest validates and quarantines them)",
            )


def _bars_after(code: np.ndarray) -> np.ndarray:
    n = len(code)
    last = np.ones(n, dtype=bool)
    last[:-1] = code[:-1] != code[1:]
    last_pos = np.flatnonzero(last)
    end_of_symbol = last_pos[np.searchsorted(last_pos, np.arange(n))]
    return (end_of_symbol - np.arange(n)).astype(np.int64)


def to_utc(micros: np.ndarray) -> pd.DatetimeIndex:
    """Microseconds since the epoch as ``datetime64[us, UTC]``."""
    return pd.DatetimeIndex(np.asarray(micros, dtype=np.int64).view("datetime64[us]")).tz_localize(
        "UTC"
    )


def label_frame(
    b: BarArrays,
    rows: np.ndarray,
    label: np.ndarray,
    touch: np.ndarray,
    ret: np.ndarray,
    both: np.ndarray,
) -> pd.DataFrame:
    """The label frame for sorted bar positions ``rows``, one row each.

    Parameters
    ----------
    b : BarArrays
        The sorted bars.
    rows : ndarray of int64, shape (m,)
        Positions of the decision bars ``t`` in ``b``.
    label : ndarray of int8, shape (m,)
        -1, 0 or +1.
    touch : ndarray of int64, shape (m,)
        Positions in ``b`` of the bar that ended each label.
    ret : ndarray of float64, shape (m,)
        Log return from ``close_t`` to the exit price.
    both : ndarray of bool, shape (m,)
        Whether the ending bar touched both barriers.

    Returns
    -------
    DataFrame, shape (m, 7)
        :data:`LABEL_COLUMNS`.
    """
    return pd.DataFrame(
        {
            "symbol": pd.array(b.symbols[b.code[rows]], dtype="str"),
            "ts": to_utc(b.ts[rows]),
            "label": label.astype(np.int8),
            "t_touch": to_utc(b.ts[touch]),
            "t_end": to_utc(b.ts[touch] + b.step[touch]),
            "ret": ret.astype(np.float64),
            "both": both.astype(bool),
        }
    )
