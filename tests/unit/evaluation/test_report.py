"""The report's time axis skips the hours markets are closed."""

from __future__ import annotations

import pandas as pd

from nexus.evaluation._report import _closed_periods


def test_intraday_axes_skip_nights_and_weekends_daily_axes_do_not() -> None:
    days = pd.bdate_range("2024-01-08", periods=5, tz="UTC")
    minutes = pd.DatetimeIndex(
        [d + pd.Timedelta(hours=14, minutes=30) + pd.Timedelta(minutes=5 * k)
         for d in days for k in range(78)]
    )  # fmt: skip
    breaks = _closed_periods(minutes)
    assert len(breaks) == 4  # between the five sessions
    first = breaks[0]["bounds"]
    assert first[0] == pd.Timestamp("2024-01-08 20:55", tz="UTC") + pd.Timedelta(minutes=5)
    assert first[1] == pd.Timestamp("2024-01-09 14:30", tz="UTC")
    assert _closed_periods(pd.bdate_range("2024-01-01", periods=300, tz="UTC")) == []
    assert _closed_periods(minutes[:2]) == []
