"""An alarm with hysteresis and persistence, so one noisy check never raises or clears it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Alarm"]


@dataclass(slots=True)
class Alarm:
    """Raised after ``persistence`` consecutive checks at or over ``enter``.

    Cleared after ``persistence`` consecutive checks under ``exit`` (``exit <=
    enter``); a value between the two keeps the alarm as it is and resets both
    streaks. A check with no value (too little data) changes nothing.

    Examples
    --------
    >>> alarm = Alarm(enter=0.5, exit=0.2, persistence=2)
    >>> [alarm.update(v) for v in (0.6, 0.3, 0.6, 0.7, 0.4, 0.1, 0.1)]
    [None, None, None, 'raised', None, None, 'cleared']
    >>> alarm.on
    False
    """

    enter: float
    exit: float
    persistence: int
    on: bool = False
    above: int = 0
    below: int = 0

    def update(self, value: float | None) -> str | None:
        """Feed one check's value; return ``"raised"`` or ``"cleared"`` on a change."""
        if value is None or value != value:  # no data: neither evidence of drift nor of calm
            return None
        self.above = self.above + 1 if value >= self.enter else 0
        self.below = self.below + 1 if value < self.exit else 0
        if not self.on and self.above >= self.persistence:
            self.on = True
            return "raised"
        if self.on and self.below >= self.persistence:
            self.on = False
            return "cleared"
        return None

    def state(self) -> dict[str, int | bool]:
        """The streaks and the flag, for storing (see :meth:`restore`)."""
        return {"on": self.on, "above": self.above, "below": self.below}

    def restore(self, state: dict) -> None:
        """Take back a :meth:`state` (a monitor restarted mid-window)."""
        self.on = bool(state.get("on", False))
        self.above = int(state.get("above", 0))
        self.below = int(state.get("below", 0))
