"""An alarm with hysteresis and persistence, so one noisy check never raises or clears it."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["Alarm"]


@dataclass(slots=True)
class Alarm:
    """Raised after ``persistence`` consecutive checks at or over ``enter``, spanning ``hold``.

    Cleared after ``persistence`` consecutive checks under ``exit`` (``exit <=
    enter``), spanning ``hold`` too; a value between the two keeps the alarm as it
    is and resets both streaks. A check with no value (too little data) changes
    nothing. ``hold`` is in seconds of bar time between the first and the last
    check of the streak (give each check's bar time to :meth:`update`): a figure
    measured on a long rolling window is the same figure for many checks in a row,
    so a streak of checks alone says little until it spans a window of new data.

    Examples
    --------
    >>> alarm = Alarm(enter=0.5, exit=0.2, persistence=2)
    >>> [alarm.update(v) for v in (0.6, 0.3, 0.6, 0.7, 0.4, 0.1, 0.1)]
    [None, None, None, 'raised', None, None, 'cleared']
    >>> held = Alarm(enter=0.5, exit=0.2, persistence=2, hold=600)
    >>> t = pd.Timestamp("2025-01-02 15:00", tz="UTC")
    >>> [held.update(0.9, t + pd.Timedelta(minutes=m)) for m in (0, 5, 10)]
    [None, None, 'raised']
    """

    enter: float
    exit: float
    persistence: int
    hold: float = 0.0
    on: bool = False
    above: int = 0
    below: int = 0
    above_since: pd.Timestamp | None = None
    below_since: pd.Timestamp | None = None

    def update(self, value: float | None, at: pd.Timestamp | None = None) -> str | None:
        """Feed one check's value (and its bar time); return ``"raised"`` or ``"cleared"``."""
        if value is None or value != value:  # no data: neither evidence of drift nor of calm
            return None
        if value >= self.enter:
            self.above, self.above_since = self.above + 1, self.above_since or at
        else:
            self.above, self.above_since = 0, None
        if value < self.exit:
            self.below, self.below_since = self.below + 1, self.below_since or at
        else:
            self.below, self.below_since = 0, None
        if not self.on and self._held(self.above, self.above_since, at):
            self.on = True
            return "raised"
        if self.on and self._held(self.below, self.below_since, at):
            self.on = False
            return "cleared"
        return None

    def _held(self, streak: int, since: pd.Timestamp | None, at: pd.Timestamp | None) -> bool:
        if streak < self.persistence:
            return False
        if not self.hold:
            return True
        return since is not None and at is not None and (at - since).total_seconds() >= self.hold

    def state(self) -> dict[str, object]:
        """The streaks and the flag, for storing (see :meth:`restore`)."""
        return {
            "on": self.on,
            "above": self.above,
            "below": self.below,
            "above_since": None if self.above_since is None else self.above_since.isoformat(),
            "below_since": None if self.below_since is None else self.below_since.isoformat(),
        }

    def restore(self, state: dict) -> None:
        """Take back a :meth:`state` (a monitor restarted mid-window)."""
        self.on = bool(state.get("on", False))
        self.above = int(state.get("above", 0))
        self.below = int(state.get("below", 0))
        self.above_since = _stamp(state.get("above_since"))
        self.below_since = _stamp(state.get("below_since"))


def _stamp(value: object) -> pd.Timestamp | None:
    return None if not value else pd.Timestamp(value)
