"""A separate process that publishes BarsClosed events through a RedisBus.

``python -m tests.integration.bus._publisher URL PREFIX COUNT`` (from the
repository root) publishes ``bars_event(0)`` ... ``bars_event(COUNT - 1)`` on
``TOPIC_BARS``, closes the bus (which flushes) and prints ``published COUNT``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nexus.bus import TOPIC_BARS, BarsClosed, RedisBus
from nexus.domain import Bar, Interval

START = datetime(2025, 1, 2, 14, 30, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[3]


def bars_event(i: int, symbols: int = 3) -> BarsClosed:
    """The ``i``-th one-minute bar time, one bar per symbol (prices encode ``i``)."""
    ts = START + timedelta(minutes=i)
    bars = tuple(
        Bar(
            symbol=f"SIM{s:02d}",
            interval=Interval.M1,
            ts=ts,
            open=100.0 + i,
            high=101.0 + i,
            low=99.0 + i,
            close=100.5 + i + s / 3,
            volume=1000.0 * (s + 1),
            source="simulator",
        )
        for s in range(symbols)
    )
    return BarsClosed(interval=Interval.M1, ts=ts, bars=bars)


async def _publish(url: str, prefix: str, count: int) -> None:
    async with RedisBus(url, prefix=prefix) as bus:
        for i in range(count):
            bus.publish(TOPIC_BARS, bars_event(i))
            if i % 10 == 0:
                await asyncio.sleep(0)  # let the writer send while we go on


async def publish_from_another_process(url: str, prefix: str, count: int) -> str:
    """Run this module as a separate process; return its output once it has exited 0."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.integration.bus._publisher",
        url,
        prefix,
        str(count),
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "error"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    return output.decode()


if __name__ == "__main__":
    url, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    asyncio.run(_publish(url, prefix, count))
    print(f"published {count}")
