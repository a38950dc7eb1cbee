"""Events that travel on the bus."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from nexus.domain import Bar, Interval

__all__ = ["TOPIC_BARS", "BarsClosed"]

TOPIC_BARS = "bars"


@dataclass(frozen=True, slots=True, kw_only=True)
class BarsClosed:
    """New bars of one interval that closed and were stored, all with the same ``ts``."""

    interval: Interval
    ts: datetime
    bars: tuple[Bar, ...]

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols that have a new bar."""
        return tuple(b.symbol for b in self.bars)
