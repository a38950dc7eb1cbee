"""What every route reaches: the app's store, registry, bus, hub, jobs and settings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request, WebSocket

from nexus.api._hub import StreamHub
from nexus.api._jobs import Jobs
from nexus.api._metrics import ApiMetrics
from nexus.config import Settings
from nexus.registry import Registry
from nexus.store import Store

__all__ = ["AppState", "EngineStatus", "state_of", "ws_state_of"]

EngineStatus = Callable[[], Mapping[str, Any]]
"""Returns the live engine's ``status()`` dict (``state``, ``champions``, ``last_ts``, ...)."""


@dataclass(slots=True)
class AppState:
    """The app's collaborators, kept on ``app.state.nexus``."""

    settings: Settings
    store: Store
    registry: Registry
    bus: Any
    hub: StreamHub
    jobs: Jobs
    metrics: ApiMetrics
    engine_status: EngineStatus | None
    retrain_config: Path
    monitor_status: EngineStatus | None = None

    @property
    def reports_dir(self) -> Path:
        """``NEXUS_HOME/reports``: the only folder ``/reports/<name>`` serves from."""
        return self.settings.home / "reports"


def state_of(request: Request) -> AppState:
    """The :class:`AppState` of the app serving ``request`` (a FastAPI dependency)."""
    return request.app.state.nexus


def ws_state_of(websocket: WebSocket) -> AppState:
    """The :class:`AppState` of the app serving ``websocket``."""
    return websocket.app.state.nexus
