from __future__ import annotations

import asyncio

from nexus.bus import InProcessBus


def test_every_subscriber_gets_every_message_in_order() -> None:
    async def run() -> tuple[list, list]:
        bus = InProcessBus()
        a, b = bus.subscribe("bars"), bus.subscribe("bars")
        other = bus.subscribe("news")
        for i in range(3):
            assert bus.publish("bars", i) == 2
        assert other.pending() == 0
        return [await a.get() for _ in range(3)], [await b.get() for _ in range(3)]

    assert asyncio.run(run()) == ([0, 1, 2], [0, 1, 2])


def test_slow_subscriber_drops_oldest_and_counts_without_blocking_others() -> None:
    async def run():
        bus = InProcessBus()
        slow = bus.subscribe("bars", maxsize=2)
        fast = bus.subscribe("bars", maxsize=100)
        for i in range(5):
            bus.publish("bars", i)
        return slow.dropped, [await slow.get(), await slow.get()], fast.pending(), fast.dropped

    assert asyncio.run(run()) == (3, [3, 4], 5, 0)


def test_closed_subscription_is_removed_and_iteration_ends() -> None:
    async def run():
        bus = InProcessBus()
        sub = bus.subscribe("bars")
        bus.publish("bars", "last")
        sub.close()
        assert bus.subscribers("bars") == 0
        assert bus.publish("bars", "after") == 0
        return [m async for m in sub]

    assert asyncio.run(run()) == ["last"]


def test_publish_from_a_worker_thread_is_handed_to_the_loop() -> None:
    async def run() -> list:
        bus = InProcessBus()
        sub = bus.subscribe("bars")

        def work() -> int:
            return sum(bus.publish("bars", i) for i in range(100))

        assert await asyncio.to_thread(work) == 100
        async with asyncio.timeout(5):  # a waiting get() is woken by the delivery
            return [await sub.get() for _ in range(100)]

    assert asyncio.run(run()) == list(range(100))


def test_publish_outside_a_running_loop_delivers_at_once() -> None:
    bus = InProcessBus()
    sub = bus.subscribe("bars")
    assert bus.publish("bars", "x") == 1
    assert sub.pending() == 1
