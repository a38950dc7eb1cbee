"""``nexus up`` as a user runs it: first run builds everything, Ctrl-C, second run resumes."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from nexus.store import DuckDBStore

pytestmark = pytest.mark.slow

EXPERIMENT = """\
name: up-test
data: {interval: 1m}
labels: {kind: triple_barrier, horizon: 15}
dataset: {lookback: 30, stride: 10}
splits: {n_folds: 1, test_size: 0.2}
models:
  - {model: lstm, params: {max_epochs: 1}}
  - {model: transformer, params: {max_epochs: 1}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _engine(url: str) -> dict | None:
    try:
        return httpx.get(f"{url}/api/health", timeout=5).json()["components"]["engine"]["info"]
    except (httpx.HTTPError, KeyError, ValueError):
        return None


def _stop(proc: subprocess.Popen) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, err


def _run_up(nexus, config: Path, port: int) -> subprocess.Popen:
    return nexus.popen(
        "up", "--symbols", "3", "--sessions", "10", "--speed", "600",
        "--port", str(port), "--config", str(config),
    )  # fmt: skip


def test_up_builds_serves_stops_cleanly_and_resumes(nexus, tmp_path: Path):
    config = tmp_path / "up.yaml"
    config.write_text(EXPERIMENT)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"

    first = _run_up(nexus, config, port)
    try:
        info = _wait_for(
            lambda: (e := _engine(url)) and e["processed"] >= 3 and e, 600, "first bars scored"
        )
        assert info["state"] == "running"
        assert {c["slot"] for c in info["champions"]} == {"lstm", "transformer"}
        assert all(0.34 <= c["threshold"] <= 0.9 for c in info["champions"])
        latest = httpx.get(f"{url}/api/recommendations/latest").json()
        assert {r["symbol"] for r in latest} == {"SIM00", "SIM01", "SIM02"}
        assert httpx.get(f"{url}/").status_code == 200
        metrics = httpx.get(f"{url}/metrics").text  # ingest shares the API's registry
        assert 'nexus_ingest_bars_total{interval="1m",source="simulator"}' in metrics
        assert 'nexus_ingest_lag_seconds{interval="1m",source="simulator"}' in metrics
        # the drift monitor runs inside: it checks both champions and reports its health
        drift = _wait_for(
            lambda: len(d := httpx.get(f"{url}/api/drift").json()) == 2 and d, 120, "drift checks"
        )
        assert {d["slot"] for d in drift} == {"lstm", "transformer"}
        assert all(d["status"] in ("ok", "warning", "drift", "severe") for d in drift)
        monitor = httpx.get(f"{url}/api/health").json()["components"]["monitor"]
        assert monitor["status"] == "ok"
        assert monitor["info"]["state"] == "running"
        assert "nexus_monitor_champion{" in httpx.get(f"{url}/metrics").text
    finally:
        code, err = _stop(first)
    assert code == 0, err
    assert "no champion for lstm, transformer" in err
    assert "bootstrap" in err or "promote" in err
    assert "stopped; store closed" in err

    with DuckDBStore(nexus.home / "nexus.duckdb") as store:
        bars = store.read_bars(["SIM00", "SIM01", "SIM02"], "1m")
        recs = store.read_recommendations(interval="1m")
    assert not bars.duplicated(["symbol", "ts"]).any()
    stopped_at = bars["ts"].max()
    assert len(recs) >= 9

    second = _run_up(nexus, config, port)
    try:
        info = _wait_for(
            lambda: (e := _engine(url)) and e["processed"] >= 2 and e, 300, "resumed bars scored"
        )
        assert info["last_ts"] > stopped_at.isoformat()
    finally:
        code, err = _stop(second)
    assert code == 0, err
    assert "continuing the simulated market it holds (3 symbols" in err
    assert "short training run" not in err  # champions were kept
    with DuckDBStore(nexus.home / "nexus.duckdb") as store:
        bars = store.read_bars(["SIM00", "SIM01", "SIM02"], "1m")
    assert not bars.duplicated(["symbol", "ts"]).any()
    assert bars["ts"].max() > stopped_at


def test_a_missing_experiment_fails_at_once_and_writes_nothing(nexus, tmp_path: Path):
    result = nexus("up", "--config", str(tmp_path / "nope.yaml"), "--port", str(_free_port()))
    assert result.code != 0
    assert "nope.yaml does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (nexus.home / "nexus.duckdb").exists()  # it failed before simulating anything
