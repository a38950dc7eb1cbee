"""The nightly schedule: after every session's close, half days and holidays included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nexus.errors import ConfigError
from nexus.training._schedule import SessionCloseTrigger, crontab_line


def fires(trigger: SessionCloseTrigger, start: datetime, n: int) -> list[str]:
    out, previous = [], None
    now = start
    for _ in range(n):
        nxt = trigger.get_next_fire_time(previous, now)
        out.append(nxt.isoformat())
        previous = now = nxt
    return out


def test_fires_after_each_close_skipping_holidays_and_weekends() -> None:
    trigger = SessionCloseTrigger("XNYS", timedelta(minutes=30))
    got = fires(trigger, datetime(2024, 12, 23, 12, tzinfo=UTC), 4)
    assert got == [
        "2024-12-23T21:30:00+00:00",  # Monday, 16:00 New York + 30 min
        "2024-12-24T18:30:00+00:00",  # Christmas Eve closes at 13:00
        "2024-12-26T21:30:00+00:00",  # Christmas closed
        "2024-12-27T21:30:00+00:00",
    ]
    friday = trigger.get_next_fire_time(None, datetime(2024, 12, 27, 22, tzinfo=UTC))
    assert friday.isoformat() == "2024-12-30T21:30:00+00:00"  # over the weekend


def test_follows_daylight_saving_and_other_exchanges() -> None:
    nyse = SessionCloseTrigger("XNYS", timedelta(0))
    # New York moves to summer time on 2024-03-10: the close moves from 21:00 to 20:00 UTC
    assert fires(nyse, datetime(2024, 3, 8, 12, tzinfo=UTC), 2) == [
        "2024-03-08T21:00:00+00:00",
        "2024-03-11T20:00:00+00:00",
    ]
    london = SessionCloseTrigger("XLON", timedelta(minutes=45))
    assert london.get_next_fire_time(None, datetime(2024, 7, 1, tzinfo=UTC)).isoformat() == (
        "2024-07-01T16:15:00+00:00"  # 16:30 BST + 45 min
    )
    # a run that just fired is not fired again at the same instant
    fired = datetime(2024, 7, 1, 16, 15, tzinfo=UTC)
    assert london.get_next_fire_time(fired, fired) > fired


def test_crontab_line_is_the_regular_close_in_the_exchange_zone() -> None:
    assert crontab_line("XNYS", timedelta(minutes=30), "nexus retrain") == (
        "CRON_TZ=America/New_York\n30 16 * * 1-5 nexus retrain"
    )
    assert crontab_line("XLON", timedelta(hours=1, minutes=5), "x") == (
        "CRON_TZ=Europe/London\n35 17 * * 1-5 x"
    )


def test_bad_settings_are_named() -> None:
    with pytest.raises(ConfigError, match="'XNYZ' is not known"):
        SessionCloseTrigger("XNYZ")
    with pytest.raises(ConfigError, match="negative"):
        SessionCloseTrigger("XNYS", timedelta(minutes=-5))
