"""Exchange sessions from exchange-calendars, as arrays.

Everything that must agree on when a market is open (the simulator, ingest
validation, resampling, gap counts) asks a :class:`Sessions` object.
"""

from __future__ import annotations

import threading
import warnings
from datetime import date, time
from functools import lru_cache
from zoneinfo import ZoneInfo

import exchange_calendars as xcals
import numpy as np
import pandas as pd
from exchange_calendars import ExchangeCalendar

from nexus.domain._interval import Interval
from nexus.errors import ConfigError

__all__ = ["DEFAULT_CALENDAR", "FOREX_CALENDAR", "ForexCalendar", "Sessions"]

DEFAULT_CALENDAR = "XNYS"
FOREX_CALENDAR = "FX"
_US = np.timedelta64(1, "us")


class ForexCalendar(ExchangeCalendar):
    """Spot FX: sessions run 17:00 to 17:00 New York, Sunday evening to Friday evening.

    A session is labelled by the weekday it closes on; Monday's opens on Sunday
    at 17:00 New York. exchange-calendars' ``24/5`` instead opens Monday 00:00
    UTC, which would put the first hours of every FX week outside any session.
    """

    name = FOREX_CALENDAR
    tz = ZoneInfo("America/New_York")
    open_times = ((None, time(17)),)
    close_times = ((None, time(17)),)

    @property
    def open_offset(self) -> int:
        return -1


# ``warnings.catch_warnings`` is not thread-safe: two threads building calendars at once
# (the API's thread pool beside the live engine) could restore each other's filters.
_BUILDING = threading.Lock()


@lru_cache(maxsize=16)
def _calendar(name: str, start: date, end: date) -> ExchangeCalendar:
    try:
        with _BUILDING, warnings.catch_warnings():
            # exchange-calendars uses pandas APIs that pandas 3 deprecates; not ours to fix
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            if name == FOREX_CALENDAR:
                return ForexCalendar(start=pd.Timestamp(start), end=pd.Timestamp(end))
            return xcals.get_calendar(name, start=pd.Timestamp(start), end=pd.Timestamp(end))
    except xcals.errors.InvalidCalendarName:
        raise ConfigError(
            f"calendar {name!r} is not known to exchange-calendars",
            fix=f"use an ISO MIC such as XNYS, XNAS, XLON, '{FOREX_CALENDAR}' for spot FX, "
            "or '24/7'",
        ) from None


class Sessions:
    """The sessions of one exchange calendar between two dates, inclusive.

    Parameters
    ----------
    calendar : str
        An exchange-calendars name (``"XNYS"``, ``"24/5"``, ...).
    start, end : date
        The first and last dates to cover.

    Attributes
    ----------
    labels : DatetimeIndex, shape (s,)
        Session dates at midnight UTC (the ``ts`` of a ``1d`` bar).
    opens, closes : ndarray of datetime64[us], shape (s,)
        UTC open and close instants (naive, in UTC).
    zone : str
        The exchange's IANA time zone (``"America/New_York"``).

    Examples
    --------
    >>> s = Sessions("XNYS", date(2024, 11, 27), date(2024, 11, 29))
    >>> [str(d.date()) for d in s.labels]    # Thanksgiving is closed
    ['2024-11-27', '2024-11-29']
    >>> s.minutes().tolist()                 # the day after closes at 13:00 ET
    [390, 210]
    """

    def __init__(self, calendar: str, start: date, end: date) -> None:
        self.calendar = calendar
        cal = _calendar(calendar, _year_start(start), _year_end(end))
        self.zone = str(cal.tz)
        schedule = cal.schedule.loc[pd.Timestamp(start) : pd.Timestamp(end)]
        self.labels = pd.DatetimeIndex(schedule.index).tz_localize("UTC")
        self.opens = _naive_utc(schedule["open"])
        self.closes = _naive_utc(schedule["close"])

    def __len__(self) -> int:
        return len(self.labels)

    def minutes(self) -> np.ndarray:
        """Length of each session in minutes, shape (s,)."""
        return ((self.closes - self.opens) // np.timedelta64(1, "m")).astype(np.int64)

    def bars_per_session(self, interval: Interval) -> np.ndarray:
        """How many bars of ``interval`` each session holds, shape (s,).

        The last bar of a session may be shorter than ``interval`` (a ``1h``
        bar from 15:30 to 16:00); no bar spans two sessions.
        """
        if interval is Interval.D1:
            return np.ones(len(self), dtype=np.int64)
        length = (self.closes - self.opens) // _US
        step = interval.seconds * 1_000_000
        return (-(-length // step)).astype(np.int64)

    def bar_starts(self, interval: Interval) -> tuple[np.ndarray, np.ndarray]:
        """Every bar open time in every session.

        Returns
        -------
        ts : ndarray of datetime64[us], shape (b,)
            UTC open time of each bar (session label for ``1d``).
        session : ndarray of int64, shape (b,)
            Index of the session each bar belongs to.
        """
        if interval is Interval.D1:
            ts = self.labels.tz_localize(None).to_numpy().astype("datetime64[us]")
            return ts, np.arange(len(self), dtype=np.int64)
        counts = self.bars_per_session(interval)
        session = np.repeat(np.arange(len(self), dtype=np.int64), counts)
        first = np.cumsum(counts) - counts
        k = np.arange(counts.sum(), dtype=np.int64) - np.repeat(first, counts)
        step = np.timedelta64(interval.seconds * 1_000_000, "us")
        return self.opens[session] + k * step, session

    def locate(self, ts: np.ndarray) -> np.ndarray:
        """Index of the session containing each instant, or -1 outside every session.

        Parameters
        ----------
        ts : ndarray of datetime64, shape (n,)
            UTC instants (naive, in UTC).
        """
        ts = np.asarray(ts).astype("datetime64[us]")
        idx = np.searchsorted(self.opens, ts, side="right") - 1
        valid = idx >= 0
        inside = np.zeros(ts.shape, dtype=bool)
        inside[valid] = ts[valid] < self.closes[idx[valid]]
        return np.where(inside, idx, -1)

    def label_index(self, days: np.ndarray) -> np.ndarray:
        """Index of the session labelled by each day (midnight UTC), or -1 if no session."""
        days = np.asarray(days).astype("datetime64[us]")
        labels = self.labels.tz_localize(None).to_numpy().astype("datetime64[us]")
        idx = np.searchsorted(labels, days)
        idx_c = np.minimum(idx, len(labels) - 1)
        ok = (
            (idx < len(labels)) & (labels[idx_c] == days)
            if len(labels)
            else np.zeros(days.shape, dtype=bool)
        )
        return np.where(ok, idx_c, -1)


def _naive_utc(col: pd.Series) -> np.ndarray:
    values = pd.DatetimeIndex(col)
    if values.tz is not None:
        values = values.tz_convert("UTC").tz_localize(None)
    return values.to_numpy().astype("datetime64[us]")


def _year_start(day: date) -> date:
    return date(day.year - 1, 1, 1)


def _year_end(day: date) -> date:
    return date(day.year + 1, 12, 31)
