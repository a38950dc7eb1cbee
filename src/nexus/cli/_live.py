"""``nexus up`` (all in one process), ``nexus serve`` (the API), ``nexus live`` (the engine)."""

from __future__ import annotations

import asyncio
import contextlib
import math
from pathlib import Path
from typing import Annotated

import typer

from nexus.cli._app import app, settings_of
from nexus.cli._output import batch_progress, emit_json_line, stderr, stdout
from nexus.cli._runtime import (
    recorded_market,
    run_until_stopped,
    server,
    settle_for_serving,
    stop_on_signals,
)
from nexus.config import Settings
from nexus.store import Store, open_store

__all__ = ["live", "serve", "up"]

HostOpt = Annotated[str, typer.Option(help="Address to listen on.")]
PortOpt = Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)]
_INTERVAL = "1m"


@app.command("up")
def up(
    ctx: typer.Context,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    symbols: Annotated[int, typer.Option(help="Simulated symbols, if the store is empty.")] = 20,
    sessions: Annotated[
        int, typer.Option(help="Sessions of simulated history, if the store is empty.")
    ] = 20,
    speed: Annotated[
        float, typer.Option(help="Live feed speed: simulated seconds per real second.")
    ] = 60.0,
    config: Annotated[
        Path, typer.Option(help="Experiment for the first champions, if the registry is empty.")
    ] = Path("configs/experiments/live.yaml"),
    monitor: Annotated[
        bool, typer.Option(help="Run the drift monitor (alerts, automatic rollback).")
    ] = True,
    monitor_config: Annotated[
        Path | None, typer.Option(help="Drift monitor config YAML (default settings if unset).")
    ] = None,
) -> None:
    """Run Nexus whole: data, champions, the live simulated feed, the engine, the API.

    Simulates history if the store has none, trains and validates first champions
    (a short run with a progress bar) if the registry has none, then streams new
    simulated bars through the live engine and serves the dashboard and API.
    The drift monitor watches the champions and rolls back on severe drift
    (``--no-monitor`` leaves it out). Ctrl-C stops it cleanly; a second
    ``nexus up`` resumes where this one stopped.
    """
    from nexus.cli._monitor import monitor_config as read_monitor_config
    from nexus.registry import Registry
    from nexus.training import ExperimentConfig

    settings = settings_of(ctx)
    registry = Registry.from_settings(settings)
    slots = settings.model_slots[:2]
    missing = [s for s in slots if registry.champion(s) is None]
    # read the experiment first: a wrong --config fails at once, not after the simulation
    experiment = ExperimentConfig.from_yaml(config) if missing else None
    watch = read_monitor_config(monitor_config) if monitor else None
    with open_store(settings) as store:
        market = _ensure_data(store, symbols, sessions)
        _ensure_champions(store, registry, slots, missing, experiment, config)
        feed = (market, speed)
        asyncio.run(_up(settings, store, registry, slots, feed, host, port, watch))
    stderr.print("nexus up: stopped; store closed, everything flushed")


def _ensure_data(store: Store, symbols: int, sessions: int):
    from nexus.ingest import Ingestor
    from nexus.sources.simulator import SimulatorConfig, SimulatorSource

    market = recorded_market(store, _INTERVAL)
    if market is not None:
        stderr.print(
            f"store: continuing the simulated market it holds ({market.symbols} symbols, "
            f"seed {market.seed})"
        )
        return market
    market = SimulatorConfig(symbols=symbols, sessions=sessions, interval=_INTERVAL)
    stderr.print(f"store: empty; simulating {symbols} symbols x {sessions} sessions of 1m bars")
    with batch_progress("simulating history", quiet=False) as on_batch:
        Ingestor(store, on_batch=on_batch).run(SimulatorSource(market))
    return market


def _ensure_champions(store: Store, registry, slots, missing, experiment, config) -> None:
    from nexus.cli._train import _progress
    from nexus.training import bootstrap_champions

    if not missing:
        stderr.print(f"models: champions {', '.join(f'{s} {registry.champion(s)}' for s in slots)}")
        return
    stderr.print(f"models: no champion for {', '.join(missing)}; a short training run ({config})")
    with _progress(quiet=False) as progress:
        report = bootstrap_champions(store, experiment, registry, slots, progress=progress)
    for entry in report.slots if report else []:
        stderr.print(f"  {entry['slot']}: {entry['action']} {entry.get('challenger', '')}")
        if entry.get("reason"):
            stderr.print(f"    {entry['reason']}")


async def _up(settings, store, registry, slots, feed, host, port, watch) -> None:
    from nexus.api import create_app
    from nexus.bus import open_bus
    from nexus.cli._monitor import _monitor as drift_monitor
    from nexus.ingest import IngestMetrics, Ingestor
    from nexus.live import LiveEngine, LiveMetrics
    from nexus.monitoring import MonitorMetrics
    from nexus.sources.simulator import SimulatorSource

    market, speed = feed
    stop = asyncio.Event()
    stop_on_signals(stop)
    metrics = LiveMetrics()
    async with open_bus(settings.bus_url, prefix=settings.bus_prefix) as bus:
        engine = LiveEngine(store, registry, bus, slots=slots, metrics=metrics)
        await engine.start()
        drift = None
        if watch is not None:
            drift = drift_monitor(
                settings, store, watch, slots, bus, registry, MonitorMetrics(metrics.registry)
            )
        settle_for_serving()
        app = _app(create_app, settings, store, registry, bus, engine, metrics, drift)
        web = server(app, host, port)
        ingestor = Ingestor(store, bus=bus, metrics=IngestMetrics(metrics.registry))
        stream = ingestor.run_live(SimulatorSource(market, speed=speed), stop=stop)
        stdout.print(
            f"Nexus is up: dashboard http://{host}:{port}/  (API docs /docs; Ctrl-C stops)"
        )
        jobs = [engine.run(stop), stream] + ([drift.run(stop)] if drift is not None else [])
        await run_until_stopped(stop, web, *jobs)


def _app(create_app, settings, store, registry, bus, engine, metrics, drift=None):
    return create_app(
        settings=settings,
        store=store,
        registry=registry,
        bus=bus,
        engine_status=engine.status if engine is not None else None,
        monitor_status=drift.status if drift is not None else None,
        metrics=metrics.registry if metrics is not None else None,
        interval=engine.interval if engine is not None else None,
    )


@app.command("serve")
def serve(ctx: typer.Context, host: HostOpt = "127.0.0.1", port: PortOpt = 8000) -> None:
    """Serve the API, WebSocket stream and dashboard on their own.

    Live data comes over the bus from a separate ``nexus live`` engine and
    ``nexus ingest ... --live`` feed: set NEXUS_BUS_URL=redis://... and a shared
    NEXUS_STORE_URL=postgresql://... for all three (DuckDB has one process).
    """
    from nexus.api import create_app
    from nexus.bus import open_bus
    from nexus.registry import Registry

    settings = settings_of(ctx)
    registry = Registry.from_settings(settings)

    async def main(store: Store) -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        async with open_bus(settings.bus_url, prefix=settings.bus_prefix) as bus:
            web = server(_app(create_app, settings, store, registry, bus, None, None), host, port)
            settle_for_serving()
            stdout.print(f"serving http://{host}:{port}/  (API docs /docs; Ctrl-C stops)")
            await run_until_stopped(stop, web)

    with open_store(settings) as store:
        asyncio.run(main(store))


@app.command("live")
def live(
    ctx: typer.Context,
    max_bars: Annotated[
        int | None, typer.Option(help="Stop after this many bar times (default: run on).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON line per bar time on stdout.")
    ] = False,
) -> None:
    """Run the live engine on its own: new bars from the bus in, recommendations out.

    Needs champions (``nexus up`` or ``nexus retrain``) and a feed on the same bus
    (``nexus ingest sim --live`` with the same NEXUS_BUS_URL).
    """
    from nexus.registry import Registry

    settings = settings_of(ctx)
    registry = Registry.from_settings(settings)
    with open_store(settings) as store:
        asyncio.run(_live(settings, store, registry, max_bars, as_json))


async def _live(settings: Settings, store, registry, max_bars, as_json: bool) -> None:
    from nexus.bus import TOPIC_SIGNALS, open_bus
    from nexus.live import LiveEngine

    stop = asyncio.Event()
    stop_on_signals(stop)
    async with open_bus(settings.bus_url, prefix=settings.bus_prefix) as bus:
        engine = LiveEngine(store, registry, bus, slots=settings.model_slots[:2])
        signals = bus.subscribe(TOPIC_SIGNALS)
        await engine.start()
        settle_for_serving()
        status = engine.status()
        stderr.print(f"live engine: {status['state']} {status['problem']}".rstrip())
        printer = _print_signals(signals, stop, max_bars or math.inf, as_json)
        await run_until_stopped(stop, None, engine.run(stop), printer)


async def _print_signals(signals, stop: asyncio.Event, limit: float, as_json: bool) -> None:
    seen = 0
    with contextlib.closing(signals):
        while seen < limit and not stop.is_set():
            event = await signals.get()
            seen += 1
            counts = {}
            for rec in event.recommendations:
                counts[str(rec.action)] = counts.get(str(rec.action), 0) + 1
            if as_json:
                emit_json_line(
                    {"ts": event.ts.isoformat(), "actions": counts, "timings": event.timings}
                )
                continue
            ms = sum(event.timings.values()) * 1e3
            stdout.print(f"{event.ts:%Y-%m-%d %H:%M} {event.interval}: {counts}  ({ms:.1f} ms)")
    stop.set()
