"""Bars per year, from the bar interval and the exchange calendar."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from nexus.domain import DEFAULT_CALENDAR, Interval, Sessions
from nexus.errors import ConfigError

__all__ = ["infer_interval", "periods_per_year"]

_DAY_US = 86_400 * 1_000_000


def periods_per_year(
    ts: pd.DatetimeIndex, interval: str | Interval | None = None, calendar: str = DEFAULT_CALENDAR
) -> float:
    """Average number of bars per year that ``calendar`` holds over the years ``ts`` spans.

    The count covers whole calendar years (January 1 of the first year to
    December 31 of the last), so a short backtest inside one year gets that
    year's figure.

    Parameters
    ----------
    ts : DatetimeIndex, shape (T,)
        The bar times (UTC).
    interval : str or Interval, optional
        The bar length; inferred from the spacing of ``ts`` when omitted.
    calendar : str
        An exchange-calendars name (``"XNYS"``, ``"24/7"``, ...).

    Returns
    -------
    float

    Examples
    --------
    >>> days = pd.date_range("2024-01-02", periods=5, freq="B", tz="UTC")
    >>> periods_per_year(days)  # XNYS had 252 sessions in 2024
    252.0
    >>> periods_per_year(days, "1h")  # 6.5-hour sessions: 7 bars (half days: 4)
    1755.0
    """
    interval = infer_interval(ts) if interval is None else Interval.parse(interval)
    first, last = ts.min(), ts.max()
    sessions = Sessions(calendar, date(first.year, 1, 1), date(last.year, 12, 31))
    return float(sessions.bars_per_session(interval).sum() / (last.year - first.year + 1))


def infer_interval(ts: pd.DatetimeIndex) -> Interval:
    """The interval whose length is the most common spacing of ``ts`` (a day or more: ``1d``).

    Raises
    ------
    ConfigError
        Fewer than two timestamps, or a spacing that matches no interval.
    """
    stamps = np.unique(pd.DatetimeIndex(ts).as_unit("us").asi8)
    if len(stamps) < 2:
        raise ConfigError(
            "cannot infer the bar interval from fewer than 2 timestamps",
            fix="pass periods_per_year or interval in the BacktestConfig",
        )
    gaps, counts = np.unique(np.diff(stamps), return_counts=True)
    step = int(gaps[np.argmax(counts)])
    if step >= _DAY_US:
        return Interval.D1
    for interval in Interval:
        if interval.seconds * 1_000_000 == step:
            return interval
    raise ConfigError(
        f"the bars are spaced {pd.Timedelta(step, unit='us')} apart, which is no Nexus interval",
        fix="pass periods_per_year (bars per year) in the BacktestConfig",
    )
