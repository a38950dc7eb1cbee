"""Raising an alert: the bus (WebSocket clients), the sinks, the metrics, then the store."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import pandas as pd

from nexus.bus import TOPIC_ALERTS, AlertRaised
from nexus.domain import ALERT_COLUMNS

__all__ = ["Notifier", "alerts_rows"]

log = logging.getLogger("nexus.monitoring")

_KEEP = 10_000  # alerts held for the store while it is unreachable


def alerts_rows(alerts: Sequence[AlertRaised]) -> pd.DataFrame:
    """Alerts as a frame of ``ALERT_COLUMNS`` (details as JSON text), for the store."""
    rows = [
        {
            "id": a.id,
            "at": a.at,
            "level": a.level,
            "source": a.source,
            "kind": a.kind,
            "slot": a.slot,
            "message": a.message,
            "details": json.dumps(dict(a.details), default=str),
        }
        for a in alerts
    ]
    return pd.DataFrame(rows, columns=list(ALERT_COLUMNS))


class Notifier:
    """Sends each alert at once to the bus and the sinks; holds it for the next store write.

    The store write is the caller's (it goes with the check rows, in one
    transaction); alerts whose write failed stay held and go with the next one.

    Parameters
    ----------
    bus : Bus or None
        Where :data:`~nexus.bus.TOPIC_ALERTS` events go (the API streams them).
    sinks : sequence of AlertSink
        Each gets every alert (``send`` never raises).
    metrics : MonitorMetrics or None
    source : str
        The ``source`` of the alerts raised here.
    """

    def __init__(self, bus=None, sinks: Sequence = (), metrics=None, *, source="monitor") -> None:
        self.bus = bus
        self.sinks = tuple(sinks)
        self.metrics = metrics
        self.source = source
        self._held: list[AlertRaised] = []

    def raise_(
        self,
        level: str,
        kind: str,
        message: str,
        *,
        slot: str = "",
        details: Mapping[str, object] | None = None,
    ) -> AlertRaised:
        """Raise one alert now; return it."""
        alert = AlertRaised(
            level=level,
            source=self.source,
            message=message,
            at=datetime.now(UTC),
            details=dict(details or {}),
            kind=kind,
            slot=slot,
        )
        if self.bus is not None:
            try:
                self.bus.publish(TOPIC_ALERTS, alert)
            except Exception as exc:  # a bus down must not stop the sinks or the store
                log.warning("alert %s not published on the bus: %s", alert.id, exc)
        for sink in self.sinks:
            sink.send(alert)
        if self.metrics is not None:
            self.metrics.alerts.labels(level=level, kind=kind).inc()
        self._held = [*self._held, alert][-_KEEP:]
        return alert

    def held(self) -> pd.DataFrame:
        """The alerts not stored yet, as a frame for :class:`~nexus.store.WriteBatch`."""
        return alerts_rows(self._held)

    def stored(self, count: int) -> None:
        """The first ``count`` held alerts were written."""
        self._held = self._held[count:]

    def close(self, timeout: float = 5.0) -> None:
        """Flush and stop every sink."""
        for sink in self.sinks:
            try:
                sink.close(timeout)
            except Exception as exc:  # closing one sink must not keep the others open
                log.warning("alert sink %r did not close cleanly: %s", sink, exc)
