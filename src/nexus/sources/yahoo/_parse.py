"""Turning yfinance's ``Ticker.history`` frame into raw bars and corporate actions.

The frame (yfinance 1.7, ``auto_adjust=False, actions=True``), as built by
``yfinance.scrapers.history.PriceHistory.history``:

- index: ``DatetimeIndex`` in the exchange's time zone (``America/New_York``
  for US listings), named ``Date`` for daily bars (each value is midnight
  local time of the session date) and ``Datetime`` for intraday bars (each
  value is the bar's open time);
- columns ``Open, High, Low, Close, Adj Close, Volume, Dividends, Stock Splits``
  and, for funds (``MUTUALFUND``, ``ETF``), ``Capital Gains``. ``Dividends``
  and ``Stock Splits`` are 0 on bars without an event; an event sits on the
  bar of its ex-date (for intraday bars, the first bar of that day).

Yahoo's ``Open, High, Low, Close`` are split-adjusted even with
``auto_adjust=False``, its ``Volume`` is split-adjusted the other way, and
its dividends are split-adjusted too. Nexus stores raw values, so a bar (and
a dividend) is multiplied back by the product of the split ratios of every
split whose ex-date is *after* its date (the volume divided by it). A split
ratio is new shares per old share (``Stock Splits`` = 2.0 for a 2-for-1).
``Adj Close`` (dividend-adjusted) and ``Capital Gains`` are not used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nexus.domain import Interval, actions_frame, bars_frame
from nexus.errors import SourceError
from nexus.sources._base import rejects_frame

__all__ = ["SOURCE", "Parsed", "parse_history", "split_factors"]

SOURCE = "yahoo"
_PRICES = ["Open", "High", "Low", "Close"]
_REQUIRED = [*_PRICES, "Volume"]


@dataclass(frozen=True)
class Parsed:
    """Bars ``(m, 9)``, corporate actions ``(a, 6)`` and rejects ``(r, 6)`` of one symbol."""

    bars: pd.DataFrame
    actions: pd.DataFrame
    rejects: pd.DataFrame


def _check(frame: pd.DataFrame, symbol: str) -> pd.DatetimeIndex:
    missing = [c for c in _REQUIRED if c not in frame.columns]
    index = frame.index
    if missing or not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise SourceError(
            f"yfinance returned a frame for {symbol} that Nexus cannot read: columns "
            f"{list(frame.columns)}, index {type(index).__name__} tz={getattr(index, 'tz', None)}",
            fix="expected a time-zone-aware DatetimeIndex and Open, High, Low, Close, Volume; "
            "install the yfinance version pinned in pyproject.toml",
        )
    return index


def _events(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.zeros(len(frame))
    values = frame[column].to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isfinite(values) & (values > 0), values, 0.0)


def _unadjust(values: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """``values * factor``, rounded to 1e-6 where a split was undone (float noise)."""
    return np.where(factor == 1.0, values, np.round(values * factor, 6))


def split_factors(dates: np.ndarray, ratios: np.ndarray) -> np.ndarray:
    """For each row, the product of the split ratios on later dates.

    Parameters
    ----------
    dates : ndarray of datetime64, shape (n,)
        Each row's local session date.
    ratios : ndarray of float, shape (n,)
        The split ratio on the row, 0 where none.

    Returns
    -------
    ndarray of float, shape (n,)

    Examples
    --------
    >>> d = np.array(["2024-01-02", "2024-01-03", "2024-01-04"], dtype="datetime64[D]")
    >>> split_factors(d, np.array([0.0, 2.0, 0.0])).tolist()
    [2.0, 1.0, 1.0]
    """
    has = ratios > 0
    if not has.any():
        return np.ones(len(dates))
    per_date = pd.Series(ratios[has]).groupby(dates[has]).prod()
    cut = per_date.index.to_numpy()
    tail = np.append(np.cumprod(per_date.to_numpy()[::-1])[::-1], 1.0)
    return tail[np.searchsorted(cut, dates, side="right")]


def _actions(
    symbol: str,
    dates: pd.DatetimeIndex,
    splits: np.ndarray,
    dividends: np.ndarray,
    factor: np.ndarray,
) -> pd.DataFrame:
    s, d = splits > 0, dividends > 0
    frame = pd.DataFrame(
        {
            "symbol": symbol,
            "ex_date": np.concatenate([dates[s], dates[d]]),
            "kind": ["split"] * int(s.sum()) + ["dividend"] * int(d.sum()),
            "ratio": np.concatenate([splits[s], np.ones(int(d.sum()))]),
            "amount": np.concatenate([np.zeros(int(s.sum())), _unadjust(dividends, factor)[d]]),
            "source": SOURCE,
        }
    )
    return actions_frame(frame.sort_values(["ex_date", "kind"], kind="stable"))


def _rejects(
    frame: pd.DataFrame, symbol: str, interval: Interval, ts: pd.Series, bad: np.ndarray
) -> pd.DataFrame:
    sub = frame.loc[bad]
    records = sub.reset_index(names="index").astype(object).to_dict("records")
    payloads = [
        json.dumps({k: None if pd.isna(v) else v for k, v in r.items()}, default=str)
        for r in records
    ]
    return rejects_frame(
        {
            "symbol": symbol,
            "interval": interval.value,
            "ts": ts[bad].to_list(),
            "reason": "missing_column_value",
            "detail": "Yahoo returned no price (NaN) for an open, high, low or close",
            "payload": payloads,
        }
    )


def parse_history(frame: pd.DataFrame, symbol: str, interval: Interval) -> Parsed:
    """Turn one ``Ticker.history`` frame into raw bars, corporate actions and rejects.

    Parameters
    ----------
    frame : DataFrame, shape (n, 8 or 9)
        yfinance's output (see the module docstring).
    symbol : str
        The symbol to store it under.
    interval : Interval
        The interval requested.

    Returns
    -------
    Parsed

    Raises
    ------
    SourceError
        If the frame is not shaped like yfinance's.
    """
    index = _check(frame, symbol)
    local_dates = index.tz_localize(None).normalize()
    splits, dividends = _events(frame, "Stock Splits"), _events(frame, "Dividends")
    factor = split_factors(local_dates.to_numpy(), splits)
    if interval is Interval.D1:
        ts = pd.Series(local_dates.tz_localize("UTC"))
    else:
        ts = pd.Series(index.tz_convert("UTC"))
    ts = ts.astype("datetime64[us, UTC]")
    prices = _unadjust(frame[_PRICES].to_numpy(dtype="float64", na_value=np.nan), factor[:, None])
    volume = frame["Volume"].to_numpy(dtype="float64", na_value=np.nan)
    volume = np.where(factor == 1.0, volume, np.round(volume / factor))
    bars = pd.DataFrame(prices, columns=["open", "high", "low", "close"])
    bars = bars.assign(symbol=symbol, interval=interval.value, ts=ts, volume=volume, source=SOURCE)
    bad = ~np.isfinite(prices).all(axis=1)
    return Parsed(
        bars=bars_frame(bars.loc[~bad]),
        actions=_actions(symbol, local_dates, splits, dividends, factor),
        rejects=_rejects(frame, symbol, interval, ts, bad),
    )
