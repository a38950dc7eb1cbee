"""A real second process publishes through Redis; this process receives every event in order."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from nexus.bus import TOPIC_BARS, RedisBus
from tests.integration.bus._publisher import bars_event

ROOT = Path(__file__).resolve().parents[3]
COUNT = 200


def test_events_published_by_another_process_all_arrive_in_order(
    redis_url: str, redis_bus_prefix: str
) -> None:
    async def run() -> tuple[list, str, dict]:
        async with RedisBus(redis_url, prefix=redis_bus_prefix) as bus:
            sub = bus.subscribe(TOPIC_BARS, maxsize=COUNT)
            other = bus.subscribe("signals")
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.integration.bus._publisher",
                redis_url,
                redis_bus_prefix,
                str(COUNT),
                cwd=ROOT,
                env={**os.environ, "PYTHONWARNINGS": "error"},
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            async with asyncio.timeout(30):
                output, _ = await process.communicate()
                assert process.returncode == 0, output.decode()
                got = [await sub.get() for _ in range(COUNT)]
            await asyncio.sleep(0.05)
            assert sub.pending() == other.pending() == 0
            return got, output.decode(), bus.status()

    got, output, status = asyncio.run(run())
    assert output.strip() == f"published {COUNT}"
    assert got == [bars_event(i) for i in range(COUNT)]
    assert status["received"] == COUNT
    assert status["published"] == 0
    assert status["dropped"] == 0
