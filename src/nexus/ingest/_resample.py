"""Session-aware resampling of bars (1m -> 5m -> 30m -> 1d).

A coarser bar collects the finer bars that open inside it *within one
session*: bar ``k`` of a session opens at ``session_open + k * interval`` and
the last bar of a session ends at the close, so it may be shorter (a ``1h``
bar from 15:30 to 16:00, or the last bar of a half day). No bar spans two
sessions. A ``1d`` bar is the whole session, labelled by its date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nexus.domain import DEFAULT_CALENDAR, Interval, Sessions, bars_frame, ts_array
from nexus.errors import ConfigError, DataError

__all__ = ["resample_bars"]


def resample_bars(
    bars: pd.DataFrame,
    to: Interval | str,
    *,
    calendar: str = DEFAULT_CALENDAR,
    edges: str = "keep",
) -> pd.DataFrame:
    """Aggregate ``bars`` to the coarser interval ``to``.

    Parameters
    ----------
    bars : DataFrame, shape (n, 9)
        Bars of one intraday interval (``BAR_COLUMNS``), any symbols, any order.
    to : Interval or str
        The target interval; must be coarser than the input's.
    calendar : str
        The exchange calendar whose sessions bound the bars.
    edges : {"keep", "drop"}
        What to do with a symbol's first and last coarse bar when the input
        starts after its bucket opens or ends before its bucket closes: keep
        them (partial), or drop them, as the ingest stage does, since a stored
        bar is never rewritten and a partial one would stay wrong.

    Returns
    -------
    DataFrame, shape (m, 9)
        Open of the first bar, highest high, lowest low, close of the last bar
        and summed volume per (symbol, session, bucket); sorted by symbol then ts.

    Raises
    ------
    ConfigError
        If ``to`` is not coarser than the input interval.
    DataError
        If an input bar lies outside every session (validate before resampling).

    Examples
    --------
    >>> import pandas as pd
    >>> ts = pd.date_range("2025-01-02 14:30", periods=10, freq="min", tz="UTC")
    >>> one = pd.DataFrame({"symbol": "A", "interval": "1m", "ts": ts,
    ...     "open": range(10), "high": range(1, 11), "low": range(10),
    ...     "close": range(1, 11), "volume": 1.0, "source": "x"})
    >>> five = resample_bars(one, "5m")
    >>> five[["open", "high", "low", "close", "volume"]].to_numpy().tolist()
    [[0.0, 5.0, 0.0, 5.0, 5.0], [5.0, 10.0, 5.0, 10.0, 5.0]]
    """
    target = Interval.parse(to)
    if bars.empty:
        return bars_frame(bars)
    source_interval = _single_interval(bars)
    if not source_interval.is_intraday or source_interval.seconds >= target.seconds:
        raise ConfigError(
            f"cannot resample {source_interval.value} bars to {target.value}",
            fix="resample only to a coarser interval (1m -> 5m -> 30m -> 1d)",
        )
    frame = bars.sort_values(["symbol", "ts"], kind="stable").reset_index(drop=True)
    ts = ts_array(frame["ts"])
    sessions = Sessions(calendar, pd.Timestamp(ts.min()).date(), pd.Timestamp(ts.max()).date())
    label, start, end = _buckets(ts, sessions, target)
    out, first, last = _aggregate(frame, label, target)
    if edges == "drop":
        step = np.timedelta64(source_interval.seconds * 1_000_000, "us")
        out = out.loc[_complete_edges(frame, ts, start, end, step, first, last)]
    return out.reset_index(drop=True)


def _single_interval(bars: pd.DataFrame) -> Interval:
    intervals = bars["interval"].unique()
    if len(intervals) != 1:
        raise DataError(
            f"bars of several intervals {sorted(map(str, intervals))} cannot be resampled together",
            fix="resample one interval at a time",
        )
    return Interval.parse(intervals[0])


def _buckets(
    ts: np.ndarray, sessions: Sessions, target: Interval
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Label, open and close of the coarse bucket of each fine bar, shape (n,) each."""
    idx = sessions.locate(ts)
    if (idx < 0).any():
        first = pd.Timestamp(ts[np.flatnonzero(idx < 0)[0]])
        raise DataError(
            f"bar at {first} is outside every {sessions.calendar} session",
            fix="ingest (and so validate) the bars before resampling them",
        )
    opens, closes = sessions.opens[idx], sessions.closes[idx]
    if target is Interval.D1:
        labels = sessions.labels.tz_localize(None).to_numpy().astype("datetime64[us]")[idx]
        return labels, opens, closes
    step = np.timedelta64(target.seconds * 1_000_000, "us")
    start = opens + ((ts - opens) // step) * step
    return start, start, np.minimum(start + step, closes)


def _complete_edges(frame, ts, start, end, step, first, last) -> np.ndarray:
    """False for a symbol's first coarse bar if the input starts inside it, and for its
    last if the input stops inside it."""
    keep = np.ones(len(first), dtype=bool)
    symbol = frame["symbol"].to_numpy()
    opens_first = np.r_[True, symbol[first[1:]] != symbol[first[:-1]]]
    closes_last = np.r_[symbol[last[1:]] != symbol[last[:-1]], True]
    keep &= ~(opens_first & (ts[first] > start[first]))
    keep &= ~(closes_last & (ts[last] + step < end[last]))
    return keep


def _aggregate(
    frame: pd.DataFrame, label: np.ndarray, target: Interval
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Coarse bars, and the row of the first and last fine bar of each."""
    symbol_code = pd.factorize(frame["symbol"])[0]
    new_group = np.ones(len(frame), dtype=bool)
    new_group[1:] = (symbol_code[1:] != symbol_code[:-1]) | (label[1:] != label[:-1])
    starts = np.flatnonzero(new_group)
    ends = np.append(starts[1:], len(frame)) - 1
    out = pd.DataFrame(
        {
            "symbol": frame["symbol"].to_numpy()[starts],
            "interval": target.value,
            "ts": pd.to_datetime(label[starts]).tz_localize("UTC"),
            "open": frame["open"].to_numpy()[starts],
            "high": np.maximum.reduceat(frame["high"].to_numpy(), starts),
            "low": np.minimum.reduceat(frame["low"].to_numpy(), starts),
            "close": frame["close"].to_numpy()[ends],
            "volume": np.add.reduceat(frame["volume"].to_numpy(dtype="float64"), starts),
            "source": frame["source"].to_numpy()[starts],
        }
    )
    return bars_frame(out), starts, ends
