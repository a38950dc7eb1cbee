from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from nexus.domain import Bar, Interval, Sessions
from nexus.errors import ConfigError, UnknownIntervalError


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1m", Interval.M1), ("5min", Interval.M5), ("60m", Interval.H1), ("D", Interval.D1)],
)
def test_interval_parse(text: str, expected: Interval) -> None:
    assert Interval.parse(text) is expected


def test_unknown_interval_names_the_fix() -> None:
    with pytest.raises(UnknownIntervalError, match=r"'7m' is not supported; use one of 1m, 5m"):
        Interval.parse("7m")


def test_bar_frame_round_trip() -> None:
    bar = Bar(
        symbol="X",
        interval=Interval.M5,
        ts=datetime(2025, 1, 2, 14, 30, tzinfo=UTC),
        open=1.0,
        high=2.0,
        low=0.5,
        close=1.5,
        volume=3.0,
        source="t",
    )
    frame = bar.to_frame()
    assert str(frame["ts"].dtype) == "datetime64[us, UTC]"
    assert Bar.from_frame(frame) == [bar]


def test_sessions_know_holidays_and_half_days() -> None:
    s = Sessions("XNYS", date(2025, 7, 1), date(2025, 7, 7))
    assert [d.day for d in s.labels] == [1, 2, 3, 7]  # 4 July closed, weekend
    assert s.minutes().tolist() == [390, 390, 210, 390]  # 3 July closes at 13:00 ET
    assert s.bars_per_session(Interval.H1).tolist() == [7, 7, 4, 7]


def test_unknown_calendar() -> None:
    with pytest.raises(ConfigError, match="calendar 'NOPE'"):
        Sessions("NOPE", date(2025, 1, 1), date(2025, 1, 2))


def test_fx_week_opens_sunday_17h_new_york() -> None:
    s = Sessions("FX", date(2017, 11, 3), date(2017, 11, 6))
    assert [d.day for d in s.labels] == [3, 6]
    # Friday 3 Nov closes 17:00 EDT = 21:00 UTC; Monday 6 Nov opens Sunday 17:00 EST = 22:00 UTC
    assert str(s.closes[0]) == "2017-11-03T21:00:00.000000"
    assert str(s.opens[1]) == "2017-11-05T22:00:00.000000"
