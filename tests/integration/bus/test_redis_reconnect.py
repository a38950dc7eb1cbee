"""RedisBus rides out a Redis restart: it logs, reconnects with backoff and carries on.

The test runs its own throwaway ``redis-server`` on a free port (the shared
test server is never stopped).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from nexus.bus import TOPIC_BARS, RedisBus
from tests.integration.bus._publisher import bars_event


class _Server:
    """A private redis-server that can be stopped and started again on the same port."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not on PATH; install it: apt-get install redis-server")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.args = [
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        try:
            deadline = time.monotonic() + 5
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=5)
            self.process = None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[_Server]:
    srv = _Server(tmp_path)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


async def _until(predicate, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def test_bus_reconnects_after_redis_restarts(
    server: _Server, caplog: pytest.LogCaptureFixture
) -> None:
    async def run() -> tuple[list, list, dict]:
        bus = RedisBus(server.url, prefix="restart", backoff_initial=0.02, backoff_max=0.2)
        async with bus:
            sub = bus.subscribe(TOPIC_BARS)
            bus.publish(TOPIC_BARS, bars_event(0))
            before = [await asyncio.wait_for(sub.get(), 5)]

            server.stop()
            await _until(lambda: not bus.status()["connected"])
            bus.publish(TOPIC_BARS, bars_event(1))  # waits in the outgoing queue; never blocks
            await asyncio.sleep(0.3)  # a few failed attempts
            assert bus.status()["pending"] == 1

            await asyncio.to_thread(server.start)
            await _until(lambda: bus.status()["connected"])
            bus.publish(TOPIC_BARS, bars_event(2))
            after = []
            while not after or after[-1] != bars_event(2):
                after.append(await asyncio.wait_for(sub.get(), 5))
            return before, after, bus.status()

    with caplog.at_level(logging.INFO, logger="nexus.bus"):
        before, after, status = asyncio.run(run())
    assert before == [bars_event(0)]
    # event 1 was sent after the restart; whether it arrives depends on which of the
    # reader and the writer reconnected first (pub/sub keeps nothing for absent subscribers)
    assert after in ([bars_event(2)], [bars_event(1), bars_event(2)])
    assert status["pending"] == 0
    assert status["sent"] == 3
    assert status["reconnects"] == 2  # the writer and the reader
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("lost its Redis subscription" in m for m in messages)
    assert any("cannot publish" in m for m in messages)
    assert any("subscribed to Redis" in m and "again" in m for m in messages)


def test_close_while_redis_is_away_gives_up_after_the_flush_timeout(
    server: _Server, caplog: pytest.LogCaptureFixture
) -> None:
    async def run() -> tuple[float, dict, set]:
        bus = RedisBus(server.url, prefix="away", flush_timeout=0.3, backoff_initial=0.02)
        await bus.start()
        server.stop()
        for i in range(3):
            bus.publish(TOPIC_BARS, bars_event(i))
        await _until(lambda: not bus.status()["connected"])
        started = time.monotonic()
        await bus.close()
        return time.monotonic() - started, bus.status(), asyncio.all_tasks()

    with caplog.at_level(logging.WARNING, logger="nexus.bus"):
        took, status, tasks = asyncio.run(run())
    assert 0.25 < took < 2
    assert status["state"] == "closed"
    assert status["pending"] == 3
    assert len(tasks) == 1  # only run() itself: the writer and reader are gone
    assert any("closed with 3 messages not sent" in r.getMessage() for r in caplog.records)
