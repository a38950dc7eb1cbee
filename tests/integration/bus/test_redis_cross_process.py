"""A real second process publishes through Redis; this process receives every event in order."""

from __future__ import annotations

import asyncio

from nexus.bus import TOPIC_BARS, RedisBus
from tests.integration.bus._publisher import bars_event, publish_from_another_process

COUNT = 200


def test_events_published_by_another_process_all_arrive_in_order(
    redis_url: str, redis_bus_prefix: str
) -> None:
    async def run() -> tuple[list, str, dict]:
        async with RedisBus(redis_url, prefix=redis_bus_prefix) as bus:
            sub = bus.subscribe(TOPIC_BARS, maxsize=COUNT)
            other = bus.subscribe("signals")
            async with asyncio.timeout(30):
                output = await publish_from_another_process(redis_url, redis_bus_prefix, COUNT)
                got = [await sub.get() for _ in range(COUNT)]
            await asyncio.sleep(0.05)
            assert sub.pending() == other.pending() == 0
            return got, output, bus.status()

    got, output, status = asyncio.run(run())
    assert output.strip() == f"published {COUNT}"
    assert got == [bars_event(i) for i in range(COUNT)]
    assert status["received"] == COUNT
    assert status["published"] == 0
    assert status["dropped"] == 0
