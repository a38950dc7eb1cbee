"""``nexus monitor`` (the drift monitor on its own) and ``nexus alerts`` (the stored alerts)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from nexus.cli._app import app, settings_of
from nexus.cli._output import emit_json, emit_json_line, records, stderr, stdout
from nexus.cli._runtime import run_until_stopped, stop_on_signals
from nexus.config import Settings
from nexus.store import open_store

__all__ = ["alerts", "monitor", "monitor_config"]

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def monitor_config(path: Path | None, **overrides):
    """The monitor config from ``path`` (or the defaults), with the given fields replaced."""
    from nexus.monitoring import MonitorConfig

    base = MonitorConfig.from_yaml(path) if path is not None else MonitorConfig()
    changes = {k: v for k, v in overrides.items() if v is not None}
    return MonitorConfig(**{**base.model_dump(), **changes}) if changes else base


@app.command("monitor")
def monitor(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Option(help="Monitor config YAML (configs/monitor/default.yaml).")
    ] = None,
    once: Annotated[
        bool, typer.Option("--once", help="Check once, print what was found, and exit.")
    ] = False,
    every: Annotated[
        float | None, typer.Option(help="Seconds between looks for new bars.", min=0.1)
    ] = None,
    window: Annotated[
        float | None, typer.Option(help="Rolling live window, minutes of bar time.", min=1)
    ] = None,
    no_rollback: Annotated[
        bool, typer.Option("--no-rollback", help="Alert only; never roll back.")
    ] = False,
    slot: Annotated[
        list[str] | None, typer.Option(help="Watch this slot (repeat; default: every champion).")
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve Prometheus /metrics on this port (e.g. 9101).", min=1, max=65535),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Watch the champions for data and concept drift; alert, and roll back when severe.

    Runs beside the API and the live engine (``nexus up`` runs one inside).
    Between processes, point every one at the same NEXUS_STORE_URL=postgresql://...
    and NEXUS_BUS_URL=redis://... so alerts reach the dashboard; with DuckDB (one
    process) use ``nexus up`` or ``--once`` while nothing else holds the store.
    """
    settings = settings_of(ctx)
    chosen = monitor_config(
        config, every_seconds=every, window_minutes=window, rollback=False if no_rollback else None
    )
    with open_store(settings) as store:
        if once:
            _once(settings, store, chosen, slot, as_json)
            return
        asyncio.run(_serve(settings, store, chosen, slot, metrics_port, as_json))
    stderr.print("nexus monitor: stopped")


def _monitor(settings: Settings, store, config, slots, bus=None, registry=None, metrics=None):
    from nexus.monitoring import DriftMonitor, MonitorMetrics, sinks_from_settings
    from nexus.registry import Registry

    metrics = metrics if metrics is not None else MonitorMetrics()

    def delivered(sink: str, ok: bool) -> None:
        if not ok:
            metrics.sink_failures.labels(sink=sink).inc()

    return DriftMonitor(
        store,
        registry if registry is not None else Registry.from_settings(settings),
        bus=bus,
        config=config,
        sinks=sinks_from_settings(settings, on_result=delivered),
        metrics=metrics,
        slots=slots or None,
    )


def _once(settings: Settings, store, config, slots, as_json: bool) -> None:
    drift = _monitor(settings, store, config, slots)
    try:
        checks = drift.check()
    finally:
        drift.notifier.close()
    found = [c.to_dict() for c in checks]
    if as_json:
        emit_json({"checks": found, "watching": {s: w.version for s, w in drift.watches.items()}})
        return
    if not drift.watches:
        stdout.print("no champion to watch (nexus models list; nexus up trains first ones)")
        return
    if not found:
        stdout.print("no new bars since the last stored check; nothing to judge")
        return
    stdout.print(_checks_table(found))


def _checks_table(found: list[dict]) -> Table:
    table = Table(title="drift checks")
    for column in ("slot", "version", "status", "drifting", "top PSI", "confidence", "accuracy"):
        table.add_column(column)
    for c in found:
        top = c["top_features"][0] if c["top_features"] else None
        table.add_row(
            c["slot"],
            c["version"],
            c["status"] + (f" ({c['action']})" if c["action"] else ""),
            _pct(c["drifted"]),
            f"{top['name']} {top['psi']:.2f}" if top else "-",
            _pair(c["confidence"], c["confidence_ref"]),
            _pair(c["accuracy"], c["accuracy_ref"]),
        )
    return table


def _pct(value) -> str:
    return "-" if value is None else f"{value:.0%}"


def _pair(live, ref) -> str:
    if ref is None:
        return "-"
    return f"{'-' if live is None else f'{live:.3f}'} (ref {ref:.3f})"


async def _serve(settings: Settings, store, config, slots, metrics_port, as_json: bool) -> None:
    from prometheus_client import start_http_server

    from nexus.bus import open_bus

    stop = asyncio.Event()
    stop_on_signals(stop)
    async with open_bus(settings.bus_url, prefix=settings.bus_prefix) as bus:
        drift = _monitor(settings, store, config, slots, bus=bus)
        if metrics_port is not None:
            start_http_server(metrics_port, registry=drift.metrics.registry)
            stderr.print(f"metrics: http://127.0.0.1:{metrics_port}/metrics")
        stderr.print(
            f"drift monitor: watching every {config.every_seconds:g} s over a "
            f"{config.window_minutes:g}-minute window (Ctrl-C stops)"
        )
        printer = _print_checks(drift, stop, as_json)
        await run_until_stopped(stop, None, drift.run(stop), printer)


async def _print_checks(drift, stop: asyncio.Event, as_json: bool) -> None:
    """Print each slot's newest check as it comes (and those made just before a stop)."""
    shown: dict[str, object] = {}
    while True:
        stopping = stop.is_set()
        for slot, check in list(drift.last.items()):
            if shown.get(slot) is check:
                continue
            shown[slot] = check
            found = check.to_dict()
            if as_json:
                emit_json_line(found)
            else:
                stdout.print(
                    f"{found['bar_ts'] or '-'} {slot}/{found['version']}: {found['status']}"
                    f"{' (' + found['action'] + ')' if found['action'] else ''} "
                    f"drifting {_pct(found['drifted'])}, confidence "
                    f"{_pair(found['confidence'], found['confidence_ref'])}, accuracy "
                    f"{_pair(found['accuracy'], found['accuracy_ref'])}"
                )
        if stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.5)


@app.command("alerts")
def alerts(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="The newest this many.", min=1)] = 20,
    level: Annotated[str | None, typer.Option(help="info, warning or critical.")] = None,
    slot: Annotated[str | None, typer.Option(help="Of this slot only.")] = None,
    hours: Annotated[
        float | None, typer.Option(help="Only the last this many hours.", min=0)
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The stored alerts (drift, rollbacks, monitor faults), newest last."""
    from nexus.errors import ConfigError

    if level is not None and level not in ("info", "warning", "critical"):
        raise ConfigError(f"--level {level!r} is not a level", fix="use info, warning or critical")
    settings = settings_of(ctx)
    start = datetime.now(UTC) - timedelta(hours=hours) if hours is not None else None
    with open_store(settings) as store:
        found = store.read_alerts(start=start, level=level, slot=slot, limit=limit)
    if as_json:
        emit_json(records(found))
        return
    if found.empty:
        stdout.print("no alerts")
        return
    table = Table(title=f"alerts (newest {limit})")
    for column in ("at", "level", "source", "kind", "slot", "message"):
        table.add_column(column)
    for row in found.itertuples():
        table.add_row(
            f"{row.at:%Y-%m-%d %H:%M:%S}",
            row.level,
            row.source,
            row.kind,
            row.slot,
            escape(row.message),
        )
    stdout.print(table)
