"""The samples: what each is, where it comes from and what its timestamps mean.

Every sample is a frame an installed package ships (no network), indexed by a
naive ``DatetimeIndex`` with columns ``Open, High, Low, Close, Volume`` (plus
``Adj Close`` for the ``arch`` series, which is ignored). Findings from
inspecting the data (backtesting 0.6.6, arch 8.0):

``GOOG``
    ``backtesting.test.GOOG``: Google (now Alphabet) shares, then traded as
    GOOG, daily, 2004-08-19 to 2013-03-01, 2,148 rows. Index: session dates (naive, no
    time); all 2,148 are XNYS sessions and no XNYS session in the range is
    missing. Prices are raw: the first open is 100.00 (the IPO-day open), and
    Google's splits (2014, 2022) and first dividend (2024) come after the range.
``EURUSD``
    ``backtesting.test.EURUSD``: hourly EUR/USD, 2017-04-19 09:00 to
    2018-02-07 15:00, 5,000 bars. Index: naive timestamps that are **UTC bar
    open times**: every week's first bar is Sunday 21:00 while New York is on
    daylight time and 22:00 after 2017-11-05 (the US, not the EU, change
    date), that is 17:00 New York, the FX week's open; the last bar is
    Friday 20:00 / 21:00, the hour ending at the 17:00 New York close.
    ``Volume`` is the vendor's (tick) volume. The calendar is Nexus's ``FX``
    (17:00 to 17:00 New York, Sunday to Friday), so the Sunday-evening bars
    fall inside a session; two Friday 17:00 New York bars (2017-10-06 and
    2017-10-20) lie after the FX close and are quarantined.
``SPX``
    ``arch.data.sp500.load()``: the S&P 500 index (Yahoo ``^GSPC``) daily,
    1999-01-04 to 2018-12-31, 5,031 rows, exactly the XNYS sessions of the
    range. ``Adj Close`` equals ``Close`` (an index pays no dividends).
``NASDAQ``
    ``arch.data.nasdaq.load()``: the NASDAQ **Composite** index (Yahoo
    ``^IXIC``; not the Nasdaq-100 ``NDX``) daily, same range and sessions as
    ``SPX``, 5,031 rows. ``Volume`` is 0 on 2015-05-12 and 2018-01-09.

Daily index values are dates; they become the session date at midnight UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from nexus.domain import FOREX_CALENDAR, Interval

__all__ = ["SAMPLES", "Sample"]


@dataclass(frozen=True)
class Sample:
    """One shipped data set.

    Attributes
    ----------
    name : str
        The sample's name, also the symbol it is stored under.
    description : str
        What it is.
    interval : Interval
        Its bar length.
    calendar, kind : str
        Recorded in the ``symbols`` frame.
    origin : str
        The package attribute or function it is loaded from.
    load : callable
        ``() -> DataFrame``, the package's frame, shape (n, >= 5).
    """

    name: str
    description: str
    interval: Interval
    calendar: str
    kind: str
    origin: str
    load: Callable[[], pd.DataFrame]


def _goog() -> pd.DataFrame:
    from backtesting.test import GOOG

    return GOOG.copy()


def _eurusd() -> pd.DataFrame:
    from backtesting.test import EURUSD

    return EURUSD.copy()


def _sp500() -> pd.DataFrame:
    from arch.data import sp500

    return sp500.load()


def _nasdaq() -> pd.DataFrame:
    from arch.data import nasdaq

    return nasdaq.load()


SAMPLES: dict[str, Sample] = {
    s.name: s
    for s in (
        Sample(
            "GOOG",
            "Google (now Alphabet) shares, daily, 2004-08-19 to 2013-03-01, raw prices",
            Interval.D1,
            "XNYS",
            "equity",
            "backtesting.test.GOOG",
            _goog,
        ),
        Sample(
            "EURUSD",
            "EUR/USD spot, hourly, 2017-04-19 to 2018-02-07, UTC bar-open times",
            Interval.H1,
            FOREX_CALENDAR,
            "fx",
            "backtesting.test.EURUSD",
            _eurusd,
        ),
        Sample(
            "SPX",
            "S&P 500 index (Yahoo ^GSPC), daily, 1999-01-04 to 2018-12-31",
            Interval.D1,
            "XNYS",
            "index",
            "arch.data.sp500.load()",
            _sp500,
        ),
        Sample(
            "NASDAQ",
            "NASDAQ Composite index (Yahoo ^IXIC), daily, 1999-01-04 to 2018-12-31",
            Interval.D1,
            "XNYS",
            "index",
            "arch.data.nasdaq.load()",
            _nasdaq,
        ),
    )
}
"""The samples by name, in the order they are fetched."""
