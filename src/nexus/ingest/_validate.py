"""Validation of bars before anything is stored.

Each rule is a small function that marks the rows it rejects. A row is
rejected with the first rule it fails, in this order:

==================  ==========================================================
reason              rule
==================  ==========================================================
missing_value       a price, the volume or the time is missing
non_positive_price  a price is zero, negative or infinite
negative_volume     the volume is negative or infinite
ohlc_inconsistent   high below open/close/low, or low above open/close
out_of_session      an intraday bar outside the exchange session or off the
                    bar grid; a daily bar on a date with no session
duplicate           the same (symbol, interval, ts) earlier in the input
out_of_order        a time earlier than a time before it in the input
==================  ==========================================================

Rows that pass are stored. Among them, a close-to-close return (open-to-close
for the first intraday bar after a gap, so overnight gaps do not count) whose robust
z-score (median and MAD over a calendar block of roughly 250-400 bars, and
only in blocks of at least 30 returns) exceeds
``spike_z`` is *flagged*: stored, and recorded in the quarantine table with
disposition ``flagged``. Gaps (missing bars inside the covered sessions) are
counted and reported, never filled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nexus.config import FrozenConfig
from nexus.domain import DEFAULT_CALENDAR, Interval, Sessions, ts_array
from nexus.store import adjust_bars

__all__ = ["RULES", "ValidationConfig", "ValidationResult", "count_missing_bars", "validate_bars"]

RULES = (
    "missing_value",
    "non_positive_price",
    "negative_volume",
    "ohlc_inconsistent",
    "out_of_session",
    "duplicate",
    "out_of_order",
)

_PRICES = ["open", "high", "low", "close"]
# calendar block (in days since the epoch) over which spike statistics are taken
_BLOCK_DAYS = {
    Interval.M1: 1,
    Interval.M5: 7,
    Interval.M15: 14,
    Interval.M30: 28,
    Interval.H1: 56,
    Interval.D1: 364,
}
_DAY_US = 86_400 * 1_000_000
_SPIKE_MIN_RETURNS = 30  # fewer returns in a block say too little about what is normal


class ValidationConfig(FrozenConfig):
    """Thresholds of the validation rules.

    Parameters
    ----------
    spike_z : float
        Robust z-score above which a return is flagged as a spike.
    check_sessions : bool
        Reject bars outside exchange sessions (turn off for feeds with no calendar).
    """

    spike_z: float = 12.0
    check_sessions: bool = True


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """What validation made of one frame of bars.

    Attributes
    ----------
    good : DataFrame
        Bars to store (``BAR_COLUMNS``), in input order.
    rejected : DataFrame
        Rejected bars with ``reason`` and ``detail`` columns added.
    flagged : DataFrame
        Stored bars that look suspicious, with ``reason`` and ``detail``.
    """

    good: pd.DataFrame
    rejected: pd.DataFrame
    flagged: pd.DataFrame


def validate_bars(
    bars: pd.DataFrame,
    *,
    calendars: Mapping[str, str] | None = None,
    actions: pd.DataFrame | None = None,
    config: ValidationConfig | None = None,
) -> ValidationResult:
    """Split ``bars`` into good, rejected and flagged rows.

    Parameters
    ----------
    bars : DataFrame, shape (n, 9)
        ``BAR_COLUMNS``; may hold several symbols and intervals, any order.
    calendars : mapping, optional
        Exchange calendar per symbol; symbols not in it use ``XNYS``.
    actions : DataFrame, optional
        Corporate actions (``ACTION_COLUMNS``) known for these symbols, so a
        split or dividend is not mistaken for a spike.
    config : ValidationConfig, optional
        Rule thresholds; the defaults when omitted.

    Returns
    -------
    ValidationResult

    Examples
    --------
    >>> import pandas as pd
    >>> bars = pd.DataFrame({"symbol": "A", "interval": "1d",
    ...     "ts": pd.to_datetime(["2025-01-02", "2025-01-03", "2025-01-04"], utc=True),
    ...     "open": [10.0, 10.0, 10.0], "high": [11.0, 9.0, 11.0], "low": [9.0, 9.5, 9.0],
    ...     "close": [10.5, 9.8, 10.0], "volume": [100.0, 100.0, 100.0], "source": "x"})
    >>> result = validate_bars(bars)
    >>> result.rejected[["reason"]].to_dict("list")   # Jan 4 2025 is a Saturday
    {'reason': ['ohlc_inconsistent', 'out_of_session']}
    """
    config = config or ValidationConfig()
    frame = bars.reset_index(drop=True)
    frame["_series"] = frame.groupby(["symbol", "interval"], sort=False).ngroup().to_numpy()
    reason = np.full(len(frame), "", dtype=object)
    detail = np.full(len(frame), "", dtype=object)
    for rule in _row_rules(config):
        bad, text = rule(frame, calendars or {})
        new = bad & (reason == "")
        reason[new] = rule.__name__.removeprefix("_rule_")
        detail[new] = text[new] if isinstance(text, np.ndarray) else text
    ok = reason == ""
    flagged = _flag_spikes(frame.loc[ok], actions, config.spike_z).drop(columns="_series")
    frame = frame.drop(columns="_series")
    rejected = frame.loc[~ok].assign(reason=reason[~ok], detail=detail[~ok])
    good = frame.loc[ok].reset_index(drop=True)
    return ValidationResult(good=good, rejected=rejected.reset_index(drop=True), flagged=flagged)


def _row_rules(config: ValidationConfig) -> list[Callable]:
    rules = [_rule_missing_value, _rule_non_positive_price, _rule_negative_volume]
    rules.append(_rule_ohlc_inconsistent)
    if config.check_sessions:
        rules.append(_rule_out_of_session)
    return [*rules, _rule_duplicate, _rule_out_of_order]


def _rule_missing_value(frame: pd.DataFrame, _: Mapping) -> tuple[np.ndarray, str]:
    bad = frame[[*_PRICES, "volume"]].isna().any(axis=1).to_numpy() | frame["ts"].isna().to_numpy()
    return bad, "a price, the volume or the timestamp is missing"


def _rule_non_positive_price(frame: pd.DataFrame, _: Mapping) -> tuple[np.ndarray, str]:
    prices = frame[_PRICES].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        bad = ((prices <= 0) | np.isinf(prices)).any(axis=1)
    return bad, "prices must be positive and finite"


def _rule_negative_volume(frame: pd.DataFrame, _: Mapping) -> tuple[np.ndarray, str]:
    vol = frame["volume"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        bad = (vol < 0) | np.isinf(vol)
    return bad, "volume must be zero or positive and finite"


def _rule_ohlc_inconsistent(frame: pd.DataFrame, _: Mapping) -> tuple[np.ndarray, str]:
    o, h, low, c = (frame[col].to_numpy(dtype="float64") for col in _PRICES)
    with np.errstate(invalid="ignore"):
        bad = (h < np.maximum(o, c)) | (low > np.minimum(o, c)) | (h < low)
    return bad, "high must be >= open, close and low; low must be <= open and close"


def _rule_out_of_session(frame: pd.DataFrame, calendars: Mapping) -> tuple[np.ndarray, np.ndarray]:
    bad = np.zeros(len(frame), dtype=bool)
    text = np.full(len(frame), "", dtype=object)
    valid_ts = frame["ts"].notna().to_numpy()
    if not valid_ts.any():
        return bad, text
    all_ts = ts_array(frame["ts"].where(frame["ts"].notna(), pd.Timestamp(0, tz="UTC")))
    for (calendar, interval), rows in _groups(frame, calendars, valid_ts).items():
        ts = all_ts[rows]
        sessions = _sessions_for(calendar, ts)
        bad[rows], text[rows] = _session_check(sessions, Interval.parse(interval), ts)
    return bad, text


def _groups(frame: pd.DataFrame, calendars: Mapping, valid: np.ndarray) -> dict:
    """Row indices per (calendar, interval), computed on the few distinct keys."""
    out: dict[tuple[str, str], list[np.ndarray]] = {}
    series = frame["_series"].to_numpy()
    firsts = frame.drop_duplicates("_series")
    rows = np.flatnonzero(valid)
    by_series = pd.Series(rows).groupby(series[rows]).indices
    for code, symbol, interval in firsts[["_series", "symbol", "interval"]].itertuples(index=False):
        if code in by_series:
            key = (calendars.get(symbol, DEFAULT_CALENDAR), interval)
            out.setdefault(key, []).append(rows[by_series[code]])
    return {key: np.concatenate(parts) for key, parts in out.items()}


def _sessions_for(calendar: str, ts: np.ndarray) -> Sessions:
    days = ts.astype("datetime64[D]")
    start = pd.Timestamp(days.min()).date()
    end = pd.Timestamp(days.max()).date()
    return Sessions(calendar, start - pd.Timedelta(days=1), end + pd.Timedelta(days=1))


def _session_check(sessions: Sessions, interval: Interval, ts: np.ndarray):
    if interval is Interval.D1:
        midnight = ts.astype("datetime64[D]").astype("datetime64[us]") == ts
        bad = (sessions.label_index(ts) < 0) | ~midnight
        return bad, np.where(bad, f"no {sessions.calendar} session on this date", "")
    idx = sessions.locate(ts)
    step = interval.seconds * 1_000_000
    offset = (ts - sessions.opens[np.maximum(idx, 0)]).astype("int64")
    off_grid = (idx >= 0) & (offset % step != 0)
    outside = idx < 0
    text = np.where(outside, f"outside {sessions.calendar} trading hours", "")
    text = np.where(off_grid, f"not on the {interval.value} bar grid of the session", text)
    return outside | off_grid, text


def _rule_duplicate(frame: pd.DataFrame, _: Mapping) -> tuple[np.ndarray, str]:
    keys = pd.DataFrame({"s": frame["_series"], "t": frame["ts"].astype("int64")})
    bad = keys.duplicated(keep="first").to_numpy()
    return bad, "the same symbol, interval and time appear earlier in the input"


def _rule_out_of_order(frame: pd.DataFrame, _: Mapping) -> tuple[np.ndarray, str]:
    ts = frame["ts"].astype("int64")
    previous_max = ts.groupby(frame["_series"]).cummax()
    running = previous_max.groupby(frame["_series"]).shift(1)
    bad = (ts < running).to_numpy()
    return bad, "earlier than a bar before it in the input"


def _flag_spikes(good: pd.DataFrame, actions: pd.DataFrame | None, spike_z: float) -> pd.DataFrame:
    if len(good) < 3:
        return good.iloc[0:0].assign(reason=pd.Series(dtype=str), detail=pd.Series(dtype=str))
    order = good.sort_values(["_series", "ts"], kind="stable")
    closes = order
    if actions is not None and len(actions):
        acts = actions.assign(prev_close=np.nan)
        closes = _adjust_with_batch_prev_close(order, acts)
    ret = _returns(order, closes)
    block = order["_series"].to_numpy() * 1_000_000 + _block_ids(order)
    med = ret.groupby(block).transform("median")
    mad = (ret - med).abs().groupby(block).transform("median")
    enough = ret.groupby(block).transform("count") >= _SPIKE_MIN_RETURNS
    z = (ret - med) / (1.4826 * mad)
    hit = (z.abs() > spike_z) & (mad > 0) & enough
    flagged = order.loc[hit[hit].index]
    text = [
        f"close-to-close return z-score {v:+.1f} exceeds {spike_z:g}" for v in z[hit[hit].index]
    ]
    return flagged.assign(reason="spike", detail=text).reset_index(drop=True)


def _returns(order: pd.DataFrame, prices: pd.DataFrame) -> pd.Series:
    """Close-to-close log returns; across a gap in intraday bars (a night, a hole in the
    data) the bar's own open-to-close return, so an overnight gap is not taken for a spike."""
    series = order["_series"].to_numpy()
    logc = pd.Series(np.log(prices["close"].to_numpy()), index=order.index)
    ret = logc.groupby(series).diff()
    step = ts_array(order["ts"]).astype("int64")
    gap = np.diff(step, prepend=step[:1])
    step_us = _per_series(order, lambda i: i.seconds * 1_000_000 if i.is_intraday else 0)
    nominal = step_us[series]
    broken = (gap != nominal) & (nominal > 0) & ret.notna().to_numpy()
    intrabar = np.log(prices["close"].to_numpy() / prices["open"].to_numpy())
    return ret.where(~broken, pd.Series(intrabar, index=order.index))


def _adjust_with_batch_prev_close(order: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
    cut = pd.to_datetime(actions["ex_date"]).dt.tz_localize("UTC")
    prev = []
    for sym, when in zip(actions["symbol"], cut, strict=True):
        before = order[(order["symbol"] == sym) & (order["ts"] < when)]
        prev.append(before["close"].iloc[-1] if len(before) else np.nan)
    return adjust_bars(order, actions.assign(prev_close=prev), "all").set_index(order.index)


def _block_ids(order: pd.DataFrame) -> np.ndarray:
    days = ts_array(order["ts"]).astype("int64") // _DAY_US
    span = _per_series(order, _BLOCK_DAYS.__getitem__)
    return days // span[order["_series"].to_numpy()]


def _per_series(order: pd.DataFrame, value_of: Callable[[Interval], int]) -> np.ndarray:
    """``value_of(interval)`` for each series code, as an array indexed by the code."""
    firsts = order.drop_duplicates("_series")
    out = np.zeros(int(order["_series"].max()) + 1, dtype=np.int64)
    for code, interval in firsts[["_series", "interval"]].itertuples(index=False):
        out[code] = value_of(Interval.parse(interval))
    return out


def count_missing_bars(
    symbol_calendar: str, interval: Interval, first: pd.Timestamp, last: pd.Timestamp, n_bars: int
) -> int:
    """Bars the sessions between ``first`` and ``last`` should hold but the store lacks.

    Parameters
    ----------
    symbol_calendar : str
        The symbol's exchange calendar.
    interval : Interval
        The bar interval of the series.
    first, last : Timestamp
        The stored range (UTC bar open times), inclusive.
    n_bars : int
        How many bars are stored in that range.
    """
    sessions = Sessions(symbol_calendar, first.date(), last.date())
    starts, _ = sessions.bar_starts(interval)
    lo = np.datetime64(first.tz_convert("UTC").tz_localize(None), "us")
    hi = np.datetime64(last.tz_convert("UTC").tz_localize(None), "us")
    expected = int(((starts >= lo) & (starts <= hi)).sum())
    return max(0, expected - int(n_bars))
