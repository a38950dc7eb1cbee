"""The long-running pieces the live commands share: signals, the HTTP server, the feed."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import signal
import sys
from collections.abc import Awaitable, Iterator

import uvicorn

from nexus.errors import ConfigError
from nexus.sources.simulator import SimulatorConfig
from nexus.store import Store

__all__ = [
    "Server",
    "recorded_market",
    "run_until_stopped",
    "server",
    "settle_for_serving",
    "stop_on_signals",
]


class Server(uvicorn.Server):
    """uvicorn's server, leaving SIGINT/SIGTERM to the command that runs it.

    ``nexus up`` stops the feed, the engine and the server together on Ctrl-C;
    uvicorn's own handlers would stop only the server and re-raise the signal.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def stop_on_signals(stop: asyncio.Event) -> None:
    """Set ``stop`` on SIGINT or SIGTERM (call inside the running loop)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)


def settle_for_serving() -> None:
    """Tune this process once its warm state (models, windows) is built, before it serves.

    ``gc.freeze()`` moves the warmed-up heap out of the collector's reach, so no
    collection pauses to scan it again; a 0.5 ms GIL switch interval (Python's
    default is 5 ms) lets the event loop take the GIL back from a worker thread
    (inference, a store write) within a millisecond when a client waits on it.
    """
    gc.freeze()
    sys.setswitchinterval(0.0005)


def server(app, host: str, port: int) -> Server:
    """A uvicorn server for ``app`` on ``host:port`` (quiet access log)."""
    return Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="on",
            ws="websockets-sansio",
            ws_per_message_deflate=False,
        )
    )


async def run_until_stopped(stop: asyncio.Event, web: Server | None, *jobs: Awaitable) -> None:
    """Run ``jobs`` (and ``web``) until ``stop`` is set or one of them ends, then stop all.

    A job that fails stops the others and its exception propagates.
    """
    tasks = [asyncio.ensure_future(j) for j in jobs]
    if web is not None:
        tasks.append(asyncio.ensure_future(web.serve()))
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([*tasks, waiter], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.set()
        if web is not None:
            web.should_exit = True
        done = await asyncio.gather(*tasks, return_exceptions=True)
        waiter.cancel()
    for outcome in done:
        if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
            raise outcome


def recorded_market(store: Store, interval: str) -> SimulatorConfig | None:
    """The simulator config of the newest successful simulated ingest of ``interval``, if any.

    A second ``nexus up`` continues the market the first one stored (same seed,
    same symbols), whatever options it is given.
    """
    log = store.ingest_log()
    if log.empty:
        return None
    log = log.loc[(log["source"] == "simulator") & (log["status"] == "ok")]
    for params in log.sort_values("started_at", ascending=False)["params"]:
        fields = json.loads(params) if isinstance(params, str) else dict(params)
        if fields.get("interval") != interval:
            continue
        fields = {k: v for k, v in fields.items() if k not in ("config_id", "speed")}
        try:
            return SimulatorConfig(**fields)
        except (ValueError, ConfigError):
            continue
    return None
