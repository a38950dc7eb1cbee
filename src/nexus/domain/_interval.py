"""Bar intervals."""

from __future__ import annotations

import enum
from datetime import timedelta

from nexus.errors import UnknownIntervalError

__all__ = ["Interval"]

_ALIASES = {
    "1min": "1m",
    "5min": "5m",
    "15min": "15m",
    "30min": "30m",
    "60m": "1h",
    "60min": "1h",
    "1hour": "1h",
    "d": "1d",
    "day": "1d",
    "daily": "1d",
}


class Interval(enum.StrEnum):
    """The length of a bar.

    Intraday bars are labelled by their UTC open time. A ``1d`` bar is one
    exchange session, labelled by the session date at midnight UTC.

    Examples
    --------
    >>> Interval.parse("5min")
    <Interval.M5: '5m'>
    >>> Interval.M30.timedelta
    datetime.timedelta(seconds=1800)
    >>> Interval.D1.is_intraday
    False
    """

    M1 = "1m"
    M5 = "5m"
    M15 = "15m"
    M30 = "30m"
    H1 = "1h"
    D1 = "1d"

    @classmethod
    def parse(cls, value: str | Interval) -> Interval:
        """Return the interval named by ``value`` (``'1m'``, ``'5min'``, ``'1d'``, ...).

        Raises
        ------
        UnknownIntervalError
            If ``value`` names no supported interval.
        """
        if isinstance(value, Interval):
            return value
        key = str(value).strip().lower()
        key = _ALIASES.get(key, key)
        try:
            return cls(key)
        except ValueError:
            known = ", ".join(i.value for i in cls)
            raise UnknownIntervalError(
                f"interval {value!r} is not supported", fix=f"use one of {known}"
            ) from None

    @property
    def timedelta(self) -> timedelta:
        """The nominal length of one bar (a ``1d`` bar is one session, nominally a day)."""
        return _LENGTHS[self]

    @property
    def seconds(self) -> int:
        """The nominal length of one bar in seconds."""
        return int(self.timedelta.total_seconds())

    @property
    def is_intraday(self) -> bool:
        """True for every interval shorter than a session."""
        return self is not Interval.D1


_LENGTHS = {
    Interval.M1: timedelta(minutes=1),
    Interval.M5: timedelta(minutes=5),
    Interval.M15: timedelta(minutes=15),
    Interval.M30: timedelta(minutes=30),
    Interval.H1: timedelta(hours=1),
    Interval.D1: timedelta(days=1),
}
