"""The monitoring routes: stored alerts, drift checks, the monitor's health, over REST and SDK."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from nexus.api import BackgroundServer
from nexus.bus import AlertRaised
from nexus.client import Client
from nexus.errors import ConfigError
from nexus.monitoring import alerts_rows
from nexus.store import DuckDBStore, WriteBatch
from tests.integration.api.conftest import build

AT = pd.Timestamp("2025-01-03 21:00", tz="UTC")


def _alert(i: int, level: str, slot: str) -> AlertRaised:
    return AlertRaised(
        level=level,
        source="monitor",
        kind="data_drift" if level != "critical" else "rollback",
        slot=slot,
        message=f"alert {i}",
        at=(AT + pd.Timedelta(minutes=i)).to_pydatetime(),
        details={"drifted": 0.6, "bar_ts": "2025-01-03T20:59:00+00:00"},
        id=f"a{i}",
    )


def _check(slot: str, version: str, minute: int, status: str) -> dict:
    features = {f"f{k}": {"psi": k / 10, "ks": 0.1, "n": 120, "drifting": k > 6} for k in range(8)}
    return {
        "at": AT + pd.Timedelta(minutes=minute),
        "slot": slot,
        "version": version,
        "bar_ts": None if status == "no_reference" else AT,
        "status": status,
        "data_score": float("nan") if status == "no_reference" else 0.4,
        "drifted": 0.25,
        "confidence": 0.5,
        "confidence_ref": 0.55,
        "accuracy": float("nan"),
        "accuracy_ref": 0.5,
        "macro_f1": float("nan"),
        "macro_f1_ref": 0.4,
        "n_window": 120,
        "n_resolved": 0,
        "details": json.dumps({"features": features, "events": ["data_drift raised"],
                               "action": "", "alarms": {}}),
    }  # fmt: skip


@pytest.fixture
def monitored(tmp_path: Path, home: Path):
    store = DuckDBStore(tmp_path / "nexus.duckdb")
    world = build(store, home)
    champion = world.registry.champion("lstm")
    raised = (("info", "lstm"), ("warning", "lstm"), ("critical", "gru"))
    alerts = alerts_rows([_alert(i, level, slot) for i, (level, slot) in enumerate(raised)])
    checks = [_check("lstm", champion, m, s) for m, s in ((0, "ok"), (5, "drift"))]
    checks.append(_check("transformer", world.registry.champion("transformer"), 1, "no_reference"))
    store.write(WriteBatch(alerts=alerts, drift=pd.DataFrame(checks)))
    with BackgroundServer(world.app) as server, Client(server.url) as client:
        yield client, world, champion
    store.close()


def test_alerts_newest_first_with_filters(monitored) -> None:
    client, _, _ = monitored
    assert [a.id for a in client.alerts()] == ["a2", "a1", "a0"]
    assert [a.id for a in client.alerts(limit=2)] == ["a2", "a1"]
    assert [a.id for a in client.alerts(level="critical")] == ["a2"]
    assert [a.id for a in client.alerts(slot="lstm")] == ["a1", "a0"]
    assert [a.id for a in client.alerts(since=AT + pd.Timedelta(minutes=1))] == ["a2", "a1"]
    first = client.alerts(limit=1)[0]
    assert first.details == {"drifted": 0.6, "bar_ts": "2025-01-03T20:59:00+00:00"}
    assert first.kind == "rollback"
    with pytest.raises(ConfigError):
        client.alerts(level="loud")


def test_drift_latest_per_slot_and_history(monitored) -> None:
    client, _, champion = monitored
    latest = {d.slot: d for d in client.drift()}
    assert set(latest) == {"lstm", "transformer"}
    assert latest["lstm"].status == "drift"
    assert latest["lstm"].version == champion
    assert [f.name for f in latest["lstm"].features][:2] == ["f7", "f6"]  # highest PSI first
    assert latest["lstm"].events == ["data_drift raised"]
    assert latest["transformer"].status == "no_reference"
    assert latest["transformer"].bar_ts is None
    assert latest["transformer"].data_score is None  # NaN is null on the wire
    history = client.drift_history("lstm")
    assert [d.status for d in history] == ["ok", "drift"]
    assert all(len(d.features) == 5 for d in history)
    assert client.drift_history("nope") == []


def test_models_badge_and_health_read_the_stored_checks(monitored) -> None:
    client, _, _ = monitored
    badges = {s.slot: s.drift for s in client.models().slots}
    assert badges == {"lstm": "drift", "transformer": "no_reference"}
    monitor = client.health().components["monitor"]
    assert monitor.status == "ok"
    assert monitor.info["slots"] == {"lstm": "drift", "transformer": "no_reference"}


def test_health_reports_a_running_monitor_and_one_that_retries(tmp_path: Path, home: Path):
    store = DuckDBStore(tmp_path / "nexus.duckdb")
    states = iter([
        {"state": "running", "problem": "", "failures": 0, "slots": {"lstm": {"status": "ok"}}},
        {"state": "retrying", "problem": "StoreUnavailableError: gone", "failures": 2, "slots": {}},
    ])  # fmt: skip
    world = build(store, home, monitor_status=lambda: next(states))
    with BackgroundServer(world.app) as server, Client(server.url) as client:
        running = client.health()
        assert running.components["monitor"].status == "ok"
        assert running.components["monitor"].info["slots"] == {"lstm": "ok"}
        retrying = client.health()
        assert retrying.status == "degraded"
        assert retrying.components["monitor"].status == "error"
        assert "gone" in retrying.components["monitor"].detail
    store.close()
