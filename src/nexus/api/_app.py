"""``create_app``: the FastAPI app of Nexus (REST, WebSocket stream, dashboard, metrics)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from prometheus_client import CollectorRegistry

from nexus.api import (
    _routes_market,
    _routes_models,
    _routes_monitor,
    _routes_news,
    _routes_ops,
    _ws,
)
from nexus.api._auth import API_KEY_HEADER
from nexus.api._errors import install_error_handlers
from nexus.api._hub import StreamHub
from nexus.api._jobs import Jobs
from nexus.api._metrics import ApiMetrics, TimingMiddleware
from nexus.api._request_id import REQUEST_ID_HEADER, RequestIdMiddleware
from nexus.api._state import AppState, EngineStatus
from nexus.config import Settings
from nexus.domain import Interval
from nexus.registry import Registry
from nexus.store import Store

__all__ = ["STATIC_DIR", "create_app", "plotly_js"]

STATIC_DIR = Path(__file__).parent / "static"
"""The dashboard's files, served at ``/static`` (``index.html`` also at ``/``)."""

_DESCRIPTION = """\
Live market data, news headlines with their sentiment, point-in-time macro series,
dual-confirmed recommendations and the model registry of Nexus.

Read endpoints are open. `POST` endpoints (promote, rollback, retrain) need an
`X-API-Key` header holding one of the server's `NEXUS_API_KEYS`.
The WebSocket stream is at `/ws/stream?symbols=A,B` (see `docs/api.md`).
"""


def plotly_js() -> Path:
    """The ``plotly.min.js`` that the installed ``plotly`` package ships.

    Examples
    --------
    >>> plotly_js().name
    'plotly.min.js'
    """
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


def create_app(
    *,
    settings: Settings,
    store: Store,
    registry: Registry,
    bus: Any,
    engine_status: EngineStatus | None = None,
    monitor_status: EngineStatus | None = None,
    metrics: CollectorRegistry | None = None,
    interval: Interval | str | None = None,
    heartbeat_s: float = 15.0,
    client_queue: int = 1000,
    retrain_config: Path | str = Path("configs/experiments/default.yaml"),
    manage_bus: bool = False,
) -> FastAPI:
    """Build the API app around the given store, registry and bus.

    Parameters
    ----------
    settings : Settings
        ``api_keys`` guard the POST endpoints, ``cors_origins`` the browsers
        allowed to call, ``home`` holds ``reports/``.
    store : Store
        Bars, predictions and recommendations are read from it (several threads
        at once: FastAPI runs the routes in a thread pool).
    registry : Registry
        Models, promote, rollback and retrain.
    bus : Bus
        The stream hub subscribes to its bars, signals, models and alerts topics.
    engine_status : callable, optional
        The live engine's ``status`` method, reported by ``/api/health`` and
        ``/api/ready``. Without it the app serves stored data and bus events alone.
    monitor_status : callable, optional
        The drift monitor's ``status`` method, reported by ``/api/health``.
        Without it the health check reads the newest stored drift check.
    metrics : CollectorRegistry, optional
        Where the API's Prometheus metrics go and what ``/metrics`` exposes
        (pass the engine's to expose both). Default: a new registry of its own.
    interval : str, optional
        The live bar interval of the stream's snapshot (default: the finest stored).
    heartbeat_s : float
        Seconds between WebSocket heartbeats.
    client_queue : int
        Messages a WebSocket client may fall behind before its oldest is dropped.
    retrain_config : Path
        The experiment config ``POST /api/retrain`` trains (relative to the
        working folder).
    manage_bus : bool
        Start the bus when the app starts and close it when the app stops
        (``await bus.start()`` / ``await bus.close()``), for a process that runs
        the API alone.

    Examples
    --------
    >>> import tempfile
    >>> from nexus.bus import InProcessBus
    >>> from nexus.store import open_store
    >>> home = tempfile.mkdtemp()
    >>> app = create_app(settings=Settings(home=home), store=open_store("duckdb://:memory:"),
    ...                  registry=Registry(home), bus=InProcessBus())
    >>> "/api/models/{slot}/promote" in app.openapi()["paths"]
    True
    >>> app.state.nexus.store.close()
    """
    hub = StreamHub(
        bus, store, interval=interval, client_queue=client_queue, heartbeat_s=heartbeat_s
    )
    api_metrics = ApiMetrics(metrics if metrics is not None else CollectorRegistry(), hub.stats)
    state = AppState(
        settings=settings,
        store=store,
        registry=registry,
        bus=bus,
        hub=hub,
        jobs=Jobs(),
        metrics=api_metrics,
        engine_status=engine_status,
        monitor_status=monitor_status,
        retrain_config=Path(retrain_config),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if manage_bus and hasattr(bus, "start"):
            await bus.start()
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()
            if manage_bus and hasattr(bus, "close"):
                await bus.close()

    # FastAPI whose /docs and /redoc pages load Swagger UI and ReDoc from the installed
    # package, not from a CDN: the docs work offline, like the rest of Nexus
    app = FastAPIOffline(
        title="Nexus API",
        version="1",
        description=_DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.nexus = state
    install_error_handlers(app)
    for module in (_routes_market, _routes_news, _routes_models, _routes_monitor, _routes_ops):
        app.include_router(module.router)
    app.include_router(_routes_models.guarded)
    app.include_router(_ws.router)
    _serve_dashboard(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=[API_KEY_HEADER, REQUEST_ID_HEADER, "Content-Type"],
            expose_headers=[REQUEST_ID_HEADER],
        )
    app.add_middleware(TimingMiddleware, metrics=api_metrics)
    app.add_middleware(RequestIdMiddleware)  # outermost: the id covers every log line
    return app


def _serve_dashboard(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly() -> FileResponse:
        return FileResponse(plotly_js(), media_type="text/javascript")

    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
