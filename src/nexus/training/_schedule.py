"""When the nightly job runs: after each trading session's close, exchange-calendar aware.

:class:`SessionCloseTrigger` is an APScheduler trigger that fires ``offset`` after
the close of every session of an exchange calendar: half days (the day after
Thanksgiving closes at 13:00 in New York) and holidays included, which a cron line
cannot express. :func:`crontab_line` prints the nearest cron equivalent for users
who prefer cron: the regular close plus the offset, Monday to Friday, in the
exchange's time zone; the job itself finds out whether there is anything new.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pandas as pd
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger

from nexus.domain import Sessions
from nexus.errors import ConfigError

__all__ = ["SessionCloseTrigger", "crontab_line", "run_schedule"]

_LOOKAHEAD = timedelta(days=21)
"""How far ahead to look for the next session (longer than any exchange holiday run)."""


class SessionCloseTrigger(BaseTrigger):
    """Fire ``offset`` after the close of every session of ``calendar``.

    Parameters
    ----------
    calendar : str
        An exchange-calendars name (``"XNYS"``, ``"XLON"``, ``"FX"``, ...).
    offset : timedelta
        Delay after the close (non-negative): time for the last bars to arrive.

    Examples
    --------
    >>> from datetime import datetime, timedelta, timezone
    >>> trigger = SessionCloseTrigger("XNYS", timedelta(minutes=30))
    >>> now = datetime(2024, 11, 28, 12, tzinfo=timezone.utc)  # Thanksgiving: closed
    >>> trigger.get_next_fire_time(None, now).isoformat()      # Friday's half day
    '2024-11-29T18:30:00+00:00'
    """

    def __init__(self, calendar: str, offset: timedelta = timedelta(minutes=30)) -> None:
        if offset < timedelta(0):
            raise ConfigError(
                f"schedule offset {offset} is negative", fix="give a delay after the close"
            )
        Sessions(calendar, date.today(), date.today())  # names an unknown calendar now
        self.calendar = calendar
        self.offset = offset

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """The first session close + offset strictly after ``previous_fire_time`` and ``now``."""
        after = max(t for t in (previous_fire_time, now) if t is not None)
        after_utc = after.astimezone(UTC)
        day = after_utc.date() - timedelta(days=1)
        while True:
            sessions = Sessions(self.calendar, day, day + _LOOKAHEAD)
            fires = pd.to_datetime(sessions.closes).tz_localize("UTC") + self.offset
            later = fires[fires > pd.Timestamp(after_utc)]
            if len(later):
                return later[0].to_pydatetime()
            day += _LOOKAHEAD

    def __str__(self) -> str:
        return f"session close of {self.calendar} + {self.offset}"


def crontab_line(calendar: str, offset: timedelta, command: str) -> str:
    """The cron equivalent of :class:`SessionCloseTrigger` (regular close, Monday to Friday).

    Examples
    --------
    >>> print(crontab_line("XNYS", timedelta(minutes=30), "nexus retrain"))
    CRON_TZ=America/New_York
    30 16 * * 1-5 nexus retrain
    """
    zone, close = _regular_close(calendar)
    fire = datetime.combine(date(2000, 1, 3), close) + offset
    return f"CRON_TZ={zone}\n{fire.minute} {fire.hour} * * 1-5 {command}"


def _regular_close(calendar: str) -> tuple[str, time]:
    """The exchange's time zone and its most common local close time over the last year."""
    today = date.today()
    sessions = Sessions(calendar, today - timedelta(days=365), today)
    closes = pd.to_datetime(sessions.closes).tz_localize("UTC").tz_convert(sessions.zone)
    times, counts = np.unique(closes.strftime("%H:%M").to_numpy(), return_counts=True)
    hour, minute = map(int, times[counts.argmax()].split(":"))
    return sessions.zone, time(hour, minute)


def run_schedule(
    job: Callable[[], object],
    trigger: SessionCloseTrigger,
    *,
    on_start: Callable[[datetime | None], None] | None = None,
) -> None:
    """Run ``job`` at every fire time of ``trigger`` until interrupted (blocking).

    One run at a time (``max_instances=1``); a run missed while the machine slept
    is run once when it wakes (``coalesce``), within a day.
    """
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(
        job, trigger, max_instances=1, coalesce=True, misfire_grace_time=86_400, id="retrain"
    )
    if on_start is not None:
        on_start(trigger.get_next_fire_time(None, datetime.now(UTC)))
    scheduler.start()
