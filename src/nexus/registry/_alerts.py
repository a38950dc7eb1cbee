"""Alerts: a corrupt or missing artifact was refused. Sent to a sink and kept in a journal.

The sink is any callable taking an :class:`Alert`; the default writes a
structured warning log record (logger ``nexus.registry``, the alert's fields
under ``extra["alert"]``). Every alert is also appended to
``NEXUS_HOME/models/alerts.jsonl``, one JSON object a line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from nexus.registry._atomic import append_line

__all__ = ["Alert", "AlertSink", "log_alert", "read_alerts", "write_alert"]

_log = logging.getLogger("nexus.registry")


@dataclass(frozen=True, slots=True)
class Alert:
    """A registry fault: which version, during what, and what is wrong.

    Attributes
    ----------
    time : str
        When (UTC, ISO 8601).
    slot, version : str
        The artifact (``version`` may be empty when a slot has none to use).
    operation : str
        ``load``, ``promote`` or ``rollback``.
    problem : str
        What is wrong, in one line.
    champion : str or None
        The slot's champion, which stays in place.
    """

    time: str
    slot: str
    version: str
    operation: str
    problem: str
    champion: str | None

    @classmethod
    def now(cls, **fields: str | None) -> Alert:
        """An alert stamped with the current UTC time."""
        return cls(time=datetime.now(UTC).isoformat(), **fields)

    def to_dict(self) -> dict:
        """A JSON-ready form."""
        return asdict(self)


AlertSink = Callable[[Alert], None]
"""Where alerts go; issue 7 plugs in e-mail, webhooks and Prometheus here."""


def log_alert(alert: Alert) -> None:
    """The default sink: one structured ``WARNING`` record on the ``nexus.registry`` logger."""
    _log.warning(
        "model %s/%s refused during %s: %s (champion %s stays)",
        alert.slot,
        alert.version,
        alert.operation,
        alert.problem,
        alert.champion,
        extra={"alert": alert.to_dict()},
    )


def write_alert(path: Path, alert: Alert) -> None:
    """Append ``alert`` to the journal at ``path``."""
    append_line(path, json.dumps(alert.to_dict(), sort_keys=True))


def read_alerts(path: Path) -> list[Alert]:
    """The alerts in the journal at ``path``, oldest first.

    A line that does not parse (the tail of a write cut short by a crash) is skipped.
    """
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            out.append(Alert(**json.loads(line)))
        except (ValueError, TypeError):
            continue
    return out
