"""RedisBus in one process against the real Redis server."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import threading
import time
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
import redis.asyncio

from nexus.bus import (
    TOPIC_ALERTS,
    TOPIC_BARS,
    TOPIC_MODELS,
    TOPIC_SIGNALS,
    AlertRaised,
    BusUnavailableError,
    ModelsChanged,
    RedisBus,
    SignalsReady,
    Subscription,
)
from nexus.domain import Action, Prediction, Recommendation
from tests.integration.bus._publisher import bars_event

AT = datetime(2025, 1, 2, 15, 0, tzinfo=UTC)
T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, 10))


async def _take(sub: Subscription, n: int, timeout: float = 5.0) -> list:
    async with asyncio.timeout(timeout):
        return [await sub.get() for _ in range(n)]


def _signals() -> SignalsReady:
    pred = Prediction(
        symbol="SIM00",
        interval="1m",
        ts=AT,
        model="lstm",
        version="v1",
        p_down=0.1,
        p_neutral=0.2,
        p_up=0.7,
        threshold=0.5,
    )
    rec = Recommendation(
        symbol="SIM00",
        interval="1m",
        ts=AT,
        action=Action.SELL,
        confidence=0.7,
        predictions=(pred,),
        reasons=("r",),
        risk={"exposure": 0.5},
        vetoed=True,
    )
    return SignalsReady(
        interval="1m", ts=AT, predictions=(pred,), recommendations=(rec,), timings={"x": 0.1}
    )


def test_every_topic_round_trips_through_redis_in_one_process(
    redis_url: str, redis_bus_prefix: str
) -> None:
    sent = {
        TOPIC_BARS: bars_event(0),
        TOPIC_SIGNALS: _signals(),
        TOPIC_MODELS: ModelsChanged(champions={"lstm": "v1", "transformer": None}, at=AT),
        TOPIC_ALERTS: AlertRaised(level="critical", source="t", message="m", at=AT),
    }

    async def run() -> tuple[dict, dict]:
        async with RedisBus(redis_url, prefix=redis_bus_prefix) as bus:
            subs = {topic: bus.subscribe(topic) for topic in sent}
            for topic, event in sent.items():
                assert bus.publish(topic, event) == 1
            got = {topic: (await _take(sub, 1))[0] for topic, sub in subs.items()}
            await asyncio.sleep(0.05)
            assert all(sub.pending() == 0 for sub in subs.values())  # nothing crossed topics
            return got, bus.status()

    got, status = _run(run())
    assert got == sent
    assert got[TOPIC_BARS] is not sent[TOPIC_BARS]  # a decoded copy, not the object
    assert status["connected"] is True
    assert status["published"] == status["sent"] == status["received"] == 4
    assert status["subscribers"] == dict.fromkeys(sent, 1)


def test_many_messages_arrive_once_and_in_order(redis_url: str, redis_bus_prefix: str) -> None:
    async def run() -> tuple[list, list]:
        async with RedisBus(redis_url, prefix=redis_bus_prefix) as bus:
            first, second = bus.subscribe(TOPIC_BARS), bus.subscribe(TOPIC_BARS)
            for i in range(500):
                bus.publish(TOPIC_BARS, bars_event(i, symbols=1))
            return await _take(first, 500), await _take(second, 500)

    first, second = _run(run())
    assert first == second == [bars_event(i, symbols=1) for i in range(500)]


def test_prefixes_are_isolated(redis_url: str, redis_bus_prefix: str) -> None:
    async def run() -> list:
        ours = RedisBus(redis_url, prefix=redis_bus_prefix)
        other = RedisBus(redis_url, prefix=redis_bus_prefix + "-other")
        nested = RedisBus(redis_url, prefix=redis_bus_prefix + ":nested")
        async with ours, other, nested:
            sub = ours.subscribe(TOPIC_BARS)
            other.publish(TOPIC_BARS, bars_event(1))
            nested.publish(TOPIC_BARS, bars_event(2))
            await asyncio.sleep(0.1)
            ours.publish(TOPIC_BARS, bars_event(3))
            got = await _take(sub, 1)
            await asyncio.sleep(0.05)
            return [*got, sub.pending()]

    assert _run(run()) == [bars_event(3), 0]


def test_slow_subscriber_drops_the_oldest_and_counts(redis_url: str, redis_bus_prefix: str) -> None:
    async def run() -> tuple[int, list, int, dict]:
        async with RedisBus(redis_url, prefix=redis_bus_prefix) as bus:
            slow = bus.subscribe(TOPIC_BARS, maxsize=3)
            fast = bus.subscribe(TOPIC_BARS)
            for i in range(10):
                bus.publish(TOPIC_BARS, bars_event(i))
            await _take(fast, 10)  # the reader offered all ten to both
            kept = [await slow.get() for _ in range(slow.pending())]
            return slow.dropped, kept, fast.dropped, bus.status()

    dropped, kept, fast_dropped, status = _run(run())
    assert dropped == 7
    assert kept == [bars_event(i) for i in (7, 8, 9)]
    assert fast_dropped == 0
    assert status["dropped"] == 7


def test_close_flushes_what_was_published(redis_url: str, redis_bus_prefix: str) -> None:
    async def run() -> tuple[list, dict]:
        async with RedisBus(redis_url, prefix=redis_bus_prefix) as listener:
            sub = listener.subscribe(TOPIC_BARS)
            publisher = RedisBus(redis_url, prefix=redis_bus_prefix)
            await publisher.start()
            for i in range(300):
                publisher.publish(TOPIC_BARS, bars_event(i, symbols=1))
            await publisher.close()  # without yielding in between: close sends them
            return await _take(sub, 300), publisher.status()

    got, status = _run(run())
    assert got == [bars_event(i, symbols=1) for i in range(300)]
    assert status["state"] == "closed"
    assert status["sent"] == 300
    assert status["pending"] == 0
    assert status["connected"] is False


def test_close_is_clean(
    redis_url: str, redis_bus_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def run() -> set[asyncio.Task]:
        bus = RedisBus(redis_url, prefix=redis_bus_prefix)
        await bus.start()
        bus.subscribe(TOPIC_BARS)
        bus.publish(TOPIC_BARS, bars_event(0))
        await asyncio.sleep(0.05)
        await bus.close()
        await bus.close()  # twice is fine
        return asyncio.all_tasks() - {asyncio.current_task()}

    with caplog.at_level(logging.DEBUG):
        left = asyncio.run(run())
        gc.collect()
    assert left == set()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_unreachable_redis_at_start_is_a_clear_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0"

    async def run() -> None:
        async with RedisBus(url, connect_timeout=1.0):
            pass

    started = time.monotonic()
    with pytest.raises(BusUnavailableError, match=rf"Redis at {url} is not reachable .*start it"):
        _run(run())
    assert time.monotonic() - started < 3


def test_undecodable_messages_are_logged_skipped_and_counted(
    redis_url: str, redis_bus_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def run() -> tuple[list, dict]:
        async with RedisBus(redis_url, prefix=redis_bus_prefix) as bus:
            sub = bus.subscribe(TOPIC_BARS)
            raw = redis.asyncio.Redis.from_url(redis_url)
            try:
                channel = bus.channel(TOPIC_BARS)
                await raw.publish(channel, b"not json")
                await raw.publish(channel, b'{"type": "Unknown", "data": {}}')
            finally:
                await raw.aclose()
            bus.publish(TOPIC_BARS, bars_event(5))
            return await _take(sub, 1), bus.status()

    with caplog.at_level(logging.WARNING, logger="nexus.bus"):
        got, status = _run(run())
    assert got == [bars_event(5)]
    assert status["undecodable"] == 2
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 2
    assert "not JSON" in skipped[0]
    assert "unknown type 'Unknown'" in skipped[1]


def test_publish_from_another_thread(redis_url: str, redis_bus_prefix: str) -> None:
    async def run() -> list:
        async with RedisBus(redis_url, prefix=redis_bus_prefix) as bus:
            sub = bus.subscribe(TOPIC_BARS)

            def worker() -> None:
                for i in range(50):
                    bus.publish(TOPIC_BARS, bars_event(i, symbols=1))

            thread = threading.Thread(target=worker)
            thread.start()
            got = await _take(sub, 50)
            thread.join()
            return got

    assert _run(run()) == [bars_event(i, symbols=1) for i in range(50)]
