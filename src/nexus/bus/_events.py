"""Events that travel on the bus, one topic each."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from nexus.domain import Bar, Interval, Prediction, Recommendation

__all__ = [
    "TOPIC_ALERTS",
    "TOPIC_BARS",
    "TOPIC_MODELS",
    "TOPIC_SIGNALS",
    "AlertRaised",
    "BarsClosed",
    "ModelsChanged",
    "SignalsReady",
]

TOPIC_BARS = "bars"
"""Ingest -> live engine and API: :class:`BarsClosed`."""
TOPIC_SIGNALS = "signals"
"""Live engine -> API: :class:`SignalsReady`."""
TOPIC_MODELS = "models"
"""Live engine -> API: :class:`ModelsChanged` when the champions it serves change."""
TOPIC_ALERTS = "alerts"
"""Anyone -> API: :class:`AlertRaised`."""


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


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalsReady:
    """What the live engine decided for one bar time.

    Published as soon as it is decided; the engine stores the same rows before it
    takes the next bar time. ``timings`` holds each stage's seconds
    (``features``, ``inference.<slot>``, ``decision``) for this bar time.
    """

    interval: str
    ts: datetime
    predictions: tuple[Prediction, ...]
    recommendations: tuple[Recommendation, ...]
    timings: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelsChanged:
    """The champions the live engine now serves: slot -> version (None: no champion)."""

    champions: Mapping[str, str | None]
    at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRaised:
    """Something a person should look at: one alert, as stored, streamed and sent to sinks.

    Attributes
    ----------
    level : str
        ``info``, ``warning`` or ``critical``.
    source : str
        Who raised it: ``monitor``, ``live``, ``registry``, ...
    message : str
        What happened, in one line.
    at : datetime
        When (UTC).
    details : mapping
        JSON-able figures behind it (scores, versions, thresholds).
    kind : str
        What sort of alert (``data_drift``, ``concept_drift``, ``rollback``, ...); may be empty.
    slot : str
        The model slot it concerns; empty when none.
    id : str
        A unique id (32 hex digits), so a store or a webhook receiver can drop repeats.
    """

    level: str
    source: str
    message: str
    at: datetime
    details: Mapping[str, object] = field(default_factory=dict)
    kind: str = ""
    slot: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form (``at`` as ISO 8601)."""
        return {
            "id": self.id,
            "level": self.level,
            "source": self.source,
            "kind": self.kind,
            "slot": self.slot,
            "message": self.message,
            "at": self.at.isoformat(),
            "details": dict(self.details),
        }
