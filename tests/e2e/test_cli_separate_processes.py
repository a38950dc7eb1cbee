"""Seed 004's deployment: feed, engine and API as three ``nexus`` processes.

They share a PostgreSQL store and a Redis bus and nothing else: ``nexus ingest sim
--live`` stores bars and publishes them, ``nexus live`` scores them and publishes
recommendations, ``nexus serve`` streams both to a WebSocket client and serves the
stored rows over REST. The test reads only what a user would see: the processes'
output, the API and the stream.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pandas as pd
import pytest
from websockets.asyncio.client import connect

from .conftest import Nexus

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

MARKET = ("--symbols", "3", "--sessions", "4")
SYMBOLS = ["SIM00", "SIM01", "SIM02"]
LIVE_BARS = 4
EXPERIMENT = """\
name: separate-processes
data: {interval: 1m}
labels: {kind: triple_barrier, horizon: 10}
dataset: {lookback: 20, stride: 10}
splits: {n_folds: 1, test_size: 0.2}
models:
  - {model: lstm, params: {max_epochs: 1, hidden_size: 8}}
  - {model: transformer, params: {max_epochs: 1}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> tuple[int, str, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, out, err


def _wait_for_line(proc: subprocess.Popen, text: str, timeout: float = 120) -> str:
    """Read ``proc``'s stderr until a line holds ``text``; fail with what it said if it exits."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        if text in line:
            return line
    raise AssertionError(f"never printed {text!r}; said: {''.join(seen)}")


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"nexus serve exited: {proc.communicate()}")
        try:
            return httpx.get(f"{url}/api/health", timeout=5).raise_for_status().json()
        except httpx.HTTPError:
            time.sleep(0.3)
    raise AssertionError("nexus serve never answered /api/health")


@pytest.fixture
def nexus(tmp_path: Path, pg_url: str, redis_url: str, redis_bus_prefix: str) -> Nexus:
    """The ``nexus`` command on a shared PostgreSQL store and Redis bus."""
    nx = Nexus(tmp_path / "home")
    nx.env.update(
        NEXUS_STORE_URL=pg_url, NEXUS_BUS_URL=redis_url, NEXUS_BUS_PREFIX=redis_bus_prefix
    )
    return nx


def _champions(nexus: Nexus, tmp_path: Path) -> dict[str, str]:
    """Train both slots on the stored history and promote them, as a user would."""
    config = tmp_path / "experiment.yaml"
    config.write_text(EXPERIMENT)
    trained = nexus("train", "--config", str(config), "--json")
    assert trained.code == 0, trained.stderr
    versions = {m["slot"]: Path(m["artifact"]).name for m in trained.json()["models"]}
    for slot, version in versions.items():
        promoted = nexus("models", "promote", slot, version)
        assert promoted.code == 0, promoted.stderr
    return versions


async def _stream(ws_url: str, feed: Callable[[], None], count: int) -> list[dict]:
    """Every message after the snapshot until ``count`` bar times have their recommendations."""
    got: list[dict] = []
    async with connect(f"{ws_url}/ws/stream?symbols=SIM00,SIM02") as ws:
        assert json.loads(await ws.recv())["type"] == "snapshot"
        feeder = asyncio.create_task(asyncio.to_thread(feed))
        async with asyncio.timeout(120):
            while len({m["ts"] for m in got if m["type"] == "recommendation"}) < count:
                got.append(json.loads(await ws.recv()))
        await feeder
    return got


# a monitor that alerts on any gap in mean confidence (no chance allowance, one check): the
# way to see an alert cross from its own process to the API's clients on a calm market
TOUCHY_MONITOR = """\
every_seconds: 0.5
confidence_tolerance: 0.000001
chance_sd: 0
min_predictions: 1
persistence: 1
concept_minutes: 0
rollback: false
"""


async def _first_alert(ws_url: str, start: Callable[[], None]) -> dict:
    """Listen on the stream, call ``start``, and return the first alert that arrives."""
    async with connect(f"{ws_url}/ws/stream?symbols=SIM00") as ws:
        assert json.loads(await ws.recv())["type"] == "snapshot"
        start()
        async with asyncio.timeout(120):
            while (message := json.loads(await ws.recv()))["type"] != "alert":
                pass
    return message["data"]


def _times(messages: list[dict], kind: str) -> set[str]:
    return {pd.Timestamp(m["ts"]).isoformat() for m in messages if m["type"] == kind}


def test_feed_engine_and_api_meet_only_at_the_store_and_the_bus(
    nexus: Nexus, tmp_path: Path
) -> None:
    history = nexus("ingest", "sim", *MARKET)
    assert history.code == 0, history.stderr
    versions = _champions(nexus, tmp_path)

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    api = nexus.popen("serve", "--port", str(port))
    engine = nexus.popen("live", "--json", "--max-bars", str(LIVE_BARS))
    feed_result = {}

    def feed() -> None:
        speed = ("--speed", "100000", "--max-bars", str(LIVE_BARS))
        feed_result["run"] = nexus("ingest", "sim", *MARKET, "--live", *speed, "--json")

    try:
        health = _wait_ready(url, api)
        assert health["components"]["bus"]["status"] == "ok"
        history_bars = httpx.get(f"{url}/api/bars/SIM00?limit=1").json()["bars"]
        assert "running" in _wait_for_line(engine, "live engine:")
        got = asyncio.run(_stream(url.replace("http://", "ws://"), feed, LIVE_BARS))
        engine_code, engine_out, engine_err = _stop(engine)  # it stops by itself after LIVE_BARS
    finally:
        api_code, _, api_err = _stop(api)
        if engine.poll() is None:
            _stop(engine)

    run = feed_result["run"]
    assert run.code == 0, run.stderr
    assert engine_code == 0, engine_err
    assert api_code == 0, api_err
    assert "Traceback" not in engine_err + api_err

    # the API process streamed the feed's bars and the engine's recommendations
    live_times = _times(got, "bar")
    assert len(live_times) == LIVE_BARS
    assert _times(got, "recommendation") == live_times
    newest = pd.Timestamp(history_bars[-1]["ts"])
    assert all(pd.Timestamp(ts) > newest for ts in live_times)  # new bars, after the history

    # the engine process scored every bar time the feed process published, one JSON line each
    lines = [json.loads(line) for line in engine_out.splitlines()]
    assert {pd.Timestamp(x["ts"]).isoformat() for x in lines} == live_times
    assert all(sum(x["actions"].values()) == len(SYMBOLS) for x in lines)
    assert all(x["timings"]["inference.lstm"] > 0 for x in lines)

    # only the client's symbols, each with both champions' predictions and its reasons
    for message in (m for m in got if m["type"] == "recommendation"):
        assert sorted(r["symbol"] for r in message["data"]) == ["SIM00", "SIM02"]
        for rec in message["data"]:
            assert rec["action"] in ("BUY", "SELL", "HOLD")
            assert {p["model"]: p["version"] for p in rec["predictions"]} == versions
            assert rec["reasons"]

    # a new API process serves what the engine process stored in PostgreSQL, and a drift
    # monitor process, started while a client listens, reaches that client through Redis
    api2 = nexus.popen("serve", "--port", str(port))
    monitor_config = tmp_path / "monitor.yaml"
    monitor_config.write_text(TOUCHY_MONITOR)
    monitor: list[subprocess.Popen] = []
    try:
        _wait_ready(url, api2)
        stored = httpx.get(f"{url}/api/recommendations?symbol=SIM00&limit=100").json()

        def start_monitor() -> None:
            monitor.append(nexus.popen("monitor", "--config", str(monitor_config), "--json"))

        alert = asyncio.run(_first_alert(url.replace("http://", "ws://"), start_monitor))
        deadline = time.monotonic() + 60  # streamed first; stored with the check right after
        while alert["id"] not in {a["id"] for a in httpx.get(f"{url}/api/alerts").json()}:
            assert time.monotonic() < deadline, "the streamed alert was never stored"
            time.sleep(0.2)
        drift = httpx.get(f"{url}/api/drift").json()
        health = httpx.get(f"{url}/api/health").json()["components"]["monitor"]
    finally:
        _stop(api2)
        monitor_code, _, monitor_err = _stop(monitor[0]) if monitor else (None, "", "")
    assert live_times <= {pd.Timestamp(r["ts"]).isoformat() for r in stored}
    assert monitor_code == 0, monitor_err
    assert alert["source"] == "monitor"
    assert alert["kind"] == "confidence"
    assert {d["slot"] for d in drift} == {"lstm", "transformer"}
    assert {d["version"] for d in drift} == set(versions.values())
    assert health["status"] == "ok"  # the API reads the newest stored check
