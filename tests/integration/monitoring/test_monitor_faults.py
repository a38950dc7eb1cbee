"""The drift monitor's faults: an old model, a restart, a corrupt previous, a store that goes away.

Whatever it meets, the monitor logs, retries, keeps running, and never rolls back
on missing data.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

import psycopg
import pytest

from nexus.bus import TOPIC_ALERTS, InProcessBus
from nexus.ingest import Ingestor
from nexus.monitoring import REFERENCE_FILE, DriftMonitor, MonitorConfig
from nexus.registry import Registry
from nexus.registry._manifest import write_manifest
from nexus.sources.simulator import RegimeShift, SimulatorSource
from nexus.store import DuckDBStore, PostgresStore
from tests._drift_world import (
    HISTORY,
    SLOT,
    market,
    stream,
    train_pair,
)

TRIPLED = RegimeShift(session=HISTORY, vol_scale=3.0)


def _registry(world: Path) -> Registry:
    return Registry(world / "home", slots=(SLOT,))


def test_a_model_without_a_reference_is_never_rolled_back(
    world: Path, caplog: pytest.LogCaptureFixture
) -> None:
    registry = _registry(world)
    champion = registry.champion(SLOT)
    folder = registry.path(SLOT, champion)
    (folder / REFERENCE_FILE).unlink()  # as a model saved before references were
    (folder / "manifest.json").unlink()
    write_manifest(folder)
    assert registry.verify(SLOT, champion).ok
    with (
        caplog.at_level(logging.WARNING, logger="nexus.monitoring"),
        DuckDBStore(world / "nexus.duckdb") as store,
    ):
        run = stream(store, registry, TRIPLED, 60)  # a judged model rolls back at bar 53
    assert {c.status for cs in run.checks for c in cs} == {"no_reference"}
    assert run.action("rollback") == []
    assert registry.champion(SLOT) == champion
    told = [a for a in run.alerts if a.kind == "no_reference"]
    assert len(told) == 1  # said once, not every bar
    assert "retrain it" in told[0].message.lower()
    assert any("no drift reference" in r.getMessage() for r in caplog.records)


def test_a_restarted_monitor_carries_on_where_it_stopped(world: Path, tmp_path: Path) -> None:
    shutil.copytree(world, tmp_path / "again")
    with DuckDBStore(world / "nexus.duckdb") as store:
        straight = stream(store, _registry(world), TRIPLED, 60, after_rollback=1)
    alarm = straight.first("data_drift raised")
    assert alarm is not None
    assert straight.action("rollback")

    def restart(bar: int, monitor: DriftMonitor) -> DriftMonitor | None:
        if bar == alarm - 1:  # one check short of the alarm: mid-streak
            return DriftMonitor(monitor.store, monitor.registry, config=monitor.config)
        return None

    with DuckDBStore(tmp_path / "again" / "nexus.duckdb") as store:
        restarted = stream(
            store, _registry(tmp_path / "again"), TRIPLED, 60, after_rollback=1, between=restart
        )
    assert restarted.first("data_drift raised") == alarm
    assert restarted.action("rollback") == straight.action("rollback")
    assert [e for _, e in restarted.raised()] == [e for _, e in straight.raised()]


def test_a_corrupt_previous_champion_is_never_rolled_back_to(world: Path) -> None:
    registry = _registry(world)
    older, newer = registry.versions(SLOT)
    with (registry.path(SLOT, older) / "model.onnx").open("ab") as f:
        f.write(b"bit rot")
    before = registry.config_path.read_bytes()
    with DuckDBStore(world / "nexus.duckdb") as store:
        run = stream(store, registry, TRIPLED, 62)
    refused = run.action("rollback refused")
    assert len(refused) == 1  # tried once, then held back by the cooldown
    assert run.action("cooldown")
    assert run.action("cooldown")[0] > refused[0]
    assert registry.champion(SLOT) == newer
    assert registry.config_path.read_bytes() == before
    alert = next(a for a in run.alerts if a.kind == "rollback_refused")
    assert alert.level == "critical"
    assert "corrupt" in alert.message


def _block(pg_admin: str, database: str, blocked: bool) -> None:
    """Refuse (or allow again) every connection to ``database``, dropping the open ones."""
    with psycopg.connect(pg_admin, autocommit=True) as con:
        allow = "false" if blocked else "true"
        con.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS {allow}')
        if blocked:
            con.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (database,),
            )


def test_a_store_briefly_unreachable_is_logged_and_retried_without_a_decision(
    pg_server: str, pg_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = pg_url.rpartition("/")[2]
    with PostgresStore(pg_url) as store:
        registry = train_pair(store, tmp_path / "home")
        before = registry.config_path.read_bytes()
        bus = InProcessBus()
        alerts = bus.subscribe(TOPIC_ALERTS)
        config = MonitorConfig(retry_seconds=1, max_retry_seconds=3)
        monitor = DriftMonitor(store, registry, bus=bus, config=config)
        source = SimulatorSource(market(TRIPLED))
        ingestor = Ingestor(store)
        assert monitor.step() == config.every_seconds
        _block(pg_server, database, True)
        try:
            with caplog.at_level(logging.WARNING, logger="nexus.monitoring"):
                delays = [monitor.step() for _ in range(3)]
        finally:
            _block(pg_server, database, False)
        assert delays == [1, 2, 3]  # doubling, capped
        assert monitor.state == "retrying"
        assert monitor.failures == 3
        assert sum("check failed" in r.getMessage() for r in caplog.records) == 3
        asyncio.run(ingestor.run_live(source, max_batches=1))  # the store answers again
        assert monitor.step() == config.every_seconds
        assert monitor.state == "running"
        assert registry.config_path.read_bytes() == before  # no decision on missing data
        kinds = []
        while alerts.pending():
            kinds.append(alerts._queue.get_nowait().kind)
        assert kinds == ["monitor_error", "monitor_recovered"]  # the fault said once
        stored = store.read_alerts()
        assert list(stored["kind"]) == ["monitor_error", "monitor_recovered"]
        assert len(store.read_drift(SLOT)) == 2
