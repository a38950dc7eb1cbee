"""``nexus monitor`` and ``nexus alerts`` as a user runs them, on a store with a champion."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import httpx
import pytest

from nexus.store import DuckDBStore
from tests._drift_world import train_pair


@pytest.fixture
def trained(nexus) -> Path:
    """NEXUS_HOME with the simulated history and a LightGBM champion (and previous)."""
    nexus.home.mkdir(parents=True)
    with DuckDBStore(nexus.home / "nexus.duckdb") as store:
        train_pair(store, nexus.home)
    return nexus.home


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_monitor_once_checks_the_champion_and_alerts_lists_what_it_stored(nexus, trained):
    result = nexus("monitor", "--once", "--json")
    assert result.code == 0, result.stderr
    found = result.json()
    assert set(found["watching"]) == {"lightgbm"}
    (check,) = found["checks"]
    assert check["slot"] == "lightgbm"
    assert check["status"] in ("ok", "warning", "drift", "severe")
    assert check["accuracy_ref"] is not None
    assert len(check["top_features"]) == 5
    again = nexus("monitor", "--once")  # no new bar since: nothing to judge, said plainly
    assert again.code == 0
    assert "no new bars since the last stored check" in again.stdout
    with DuckDBStore(nexus.home / "nexus.duckdb") as store:
        assert len(store.read_drift("lightgbm")) == 1
    listed = nexus("alerts", "--json")
    assert listed.code == 0
    assert isinstance(listed.json(), list)


def test_monitor_and_alerts_refuse_bad_input_in_one_line(nexus, trained, tmp_path: Path):
    bad = tmp_path / "monitor.yaml"
    bad.write_text("psi_enter: 0.1\npsi_exit: 0.3\n")
    result = nexus("monitor", "--once", "--config", str(bad))
    assert result.code == 1
    assert "psi_exit=0.3 is above psi_enter=0.1" in result.stderr
    assert "Traceback" not in result.stderr
    unknown = tmp_path / "typo.yaml"
    unknown.write_text("window_minute: 30\n")
    result = nexus("monitor", "--once", "--config", str(unknown))
    assert result.code == 1
    assert "window_minute" in result.stderr
    result = nexus("alerts", "--level", "loud")
    assert result.code == 1
    assert "--level 'loud' is not a level" in result.stderr


def test_monitor_runs_on_its_own_serves_metrics_and_stops_on_ctrl_c(nexus, trained):
    port = _free_port()
    proc = nexus.popen("monitor", "--every", "0.5", "--metrics-port", str(port), "--json")
    try:
        deadline, text = time.monotonic() + 120, ""
        while time.monotonic() < deadline and "nexus_drift_status{" not in text:
            time.sleep(0.5)
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            except httpx.HTTPError:
                continue
        assert 'nexus_drift_status{slot="lightgbm"}' in text
        assert 'nexus_monitor_champion{slot="lightgbm"' in text
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert '"slot": "lightgbm"' in out or '"slot":"lightgbm"' in out
    assert "nexus monitor: stopped" in err
