"""The stream hub on the in-process bus, with plain functions as the clients' sockets."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from nexus.api import StreamHub
from nexus.bus import (
    TOPIC_ALERTS,
    TOPIC_BARS,
    TOPIC_MODELS,
    TOPIC_SIGNALS,
    AlertRaised,
    BarsClosed,
    InProcessBus,
    ModelsChanged,
)
from nexus.domain import Bar, Interval
from nexus.store import open_store

T0 = datetime(2025, 1, 2, 15, 0, tzinfo=UTC)


def bars(ts: datetime, *symbols: str, interval: Interval = Interval.M1) -> BarsClosed:
    return BarsClosed(
        interval=interval,
        ts=ts,
        bars=tuple(
            Bar(
                symbol=s,
                interval=interval,
                ts=ts,
                open=1.0,
                high=2.0,
                low=0.5,
                close=1.5,
                volume=10.0,
            )
            for s in symbols
        ),
    )


def alert(seq: int) -> AlertRaised:
    return AlertRaised(level="info", source="test", message=str(seq), at=T0)


class Socket:
    """A client's socket: records what it is sent; ``gate`` (if given) holds each send."""

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.texts: list[str] = []
        self.gate = gate

    async def send(self, text: str) -> None:
        if self.gate is not None:
            await self.gate.wait()
        self.texts.append(text)

    @property
    def messages(self) -> list[dict]:
        return [json.loads(t) for t in self.texts]


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition never held")


def run(scenario: Callable[[StreamHub, InProcessBus], Awaitable[None]], **options) -> None:
    async def main() -> None:
        store = open_store("duckdb://:memory:")
        bus = InProcessBus()
        hub = StreamHub(bus, store, interval="1m", **options)
        await hub.start()
        try:
            await scenario(hub, bus)
        finally:
            await hub.stop()
            store.close()
        for topic in (TOPIC_BARS, TOPIC_SIGNALS, TOPIC_MODELS, TOPIC_ALERTS):
            assert bus.subscribers(topic) == 0

    asyncio.run(main())


def test_clients_with_the_same_symbols_share_one_encoded_message() -> None:
    async def scenario(hub: StreamHub, bus: InProcessBus) -> None:
        a, b, every = Socket(), Socket(), Socket()
        hub.connect(a.send, frozenset({"A"}))
        hub.connect(b.send, frozenset({"A"}))
        hub.connect(every.send, None)
        bus.publish(TOPIC_BARS, bars(T0, "A", "B"))
        await until(lambda: all(len(s.texts) == 2 for s in (a, b, every)))
        assert a.texts[1] is b.texts[1]  # encoded once, shared
        assert [x["symbol"] for x in a.messages[1]["data"]] == ["A"]
        assert [x["symbol"] for x in every.messages[1]["data"]] == ["A", "B"]
        assert every.messages[0] == {"type": "snapshot", "interval": "1m", "data": {}}

    run(scenario)


def test_a_client_gets_nothing_for_other_symbols() -> None:
    async def scenario(hub: StreamHub, bus: InProcessBus) -> None:
        only_c = Socket()
        hub.connect(only_c.send, frozenset({"C"}))
        bus.publish(TOPIC_BARS, bars(T0, "A", "B"))
        bus.publish(TOPIC_ALERTS, alert(1))  # alerts go to everyone
        await until(lambda: len(only_c.texts) == 2)
        assert [m["type"] for m in only_c.messages] == ["snapshot", "alert"]

    run(scenario)


def test_a_stuck_client_drops_its_oldest_and_the_others_get_everything() -> None:
    async def scenario(hub: StreamHub, bus: InProcessBus) -> None:
        gate = asyncio.Event()
        stuck, fast = Socket(gate), Socket()
        hub.connect(stuck.send, None)
        hub.connect(fast.send, None)
        await asyncio.sleep(0.01)  # the stuck sender now holds the snapshot
        for seq in range(50):  # paced: the fast client keeps up, the stuck one cannot
            bus.publish(TOPIC_ALERTS, alert(seq))
            await until(lambda n=seq + 2: len(fast.texts) == n)
        assert [m["data"]["message"] for m in fast.messages[1:]] == [str(i) for i in range(50)]
        stats = hub.stats()
        per_client = {c["dropped"]: c for c in stats["per_client"]}
        assert set(per_client) == {0, 45}
        assert per_client[45]["queued"] == 5
        assert stats["dropped"] == 45
        assert stats["clients"] == 2
        gate.set()
        await until(lambda: len(stuck.texts) == 6)
        assert stuck.messages[0]["type"] == "snapshot"
        assert [m["data"]["message"] for m in stuck.messages[1:]] == [str(i) for i in range(45, 50)]

    run(scenario, client_queue=5)


def test_disconnect_removes_the_client_and_stops_its_sender() -> None:
    async def scenario(hub: StreamHub, bus: InProcessBus) -> None:
        stuck = Socket(asyncio.Event())
        client = hub.connect(stuck.send, None)
        task = client.task
        await hub.disconnect(client)
        assert hub.stats()["clients"] == 0
        assert task is not None
        assert task.cancelled()
        bus.publish(TOPIC_ALERTS, alert(1))
        await asyncio.sleep(0.01)
        assert stuck.texts == []

    run(scenario)


def test_a_failing_socket_removes_its_client() -> None:
    async def broken(text: str) -> None:
        raise ConnectionResetError("peer gone")

    async def scenario(hub: StreamHub, bus: InProcessBus) -> None:
        hub.connect(broken, None)
        await until(lambda: hub.stats()["clients"] == 0)

    run(scenario)


def test_heartbeats_report_the_clients_drops() -> None:
    async def scenario(hub: StreamHub, bus: InProcessBus) -> None:
        sock = Socket()
        hub.connect(sock.send, None)
        await until(lambda: any(m["type"] == "heartbeat" for m in sock.messages))
        beat = next(m for m in sock.messages if m["type"] == "heartbeat")
        assert beat["dropped"] == 0

    run(scenario, heartbeat_s=0.01)


def test_the_snapshot_keeps_the_newest_bar_of_the_live_interval() -> None:
    async def scenario(hub: StreamHub, bus: InProcessBus) -> None:
        later = T0 + timedelta(minutes=1)
        sock = Socket()
        hub.connect(sock.send, None)
        bus.publish(TOPIC_BARS, bars(later, "A"))
        bus.publish(TOPIC_BARS, bars(T0, "A"))  # late and older: forwarded, not kept
        bus.publish(TOPIC_BARS, bars(T0 + timedelta(minutes=5), "A", interval=Interval.M5))
        await until(lambda: len(sock.texts) == 4)
        assert [m["interval"] for m in sock.messages[1:]] == ["1m", "1m", "5m"]
        snapshot = hub.snapshot(frozenset({"A"}))["data"]["A"]
        assert datetime.fromisoformat(snapshot["bar"]["ts"]) == later
        assert snapshot["predictions"] == []
        assert snapshot["recommendation"] is None

    run(scenario)


def test_symbols_are_learnt_from_events() -> None:
    async def scenario(hub: StreamHub, bus: InProcessBus) -> None:
        assert await hub.unknown(["A", "Z"]) == ["A", "Z"]
        bus.publish(TOPIC_BARS, bars(T0, "A"))
        await until(lambda: hub.knows("A"))
        assert await hub.unknown(["A", "Z"]) == ["Z"]

    run(scenario)


def test_a_malformed_event_is_logged_and_the_stream_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario(hub: StreamHub, bus: InProcessBus) -> None:
        sock = Socket()
        hub.connect(sock.send, None)
        with caplog.at_level(logging.ERROR, logger="nexus.api"):
            bus.publish(TOPIC_BARS, "not an event")
            bus.publish(TOPIC_MODELS, ModelsChanged(champions={"lstm": "v1"}, at=T0))
            await until(lambda: len(sock.texts) == 2)
        assert sock.messages[1]["type"] == "model"
        assert "could not fan out str" in caplog.text

    run(scenario)


def test_non_finite_numbers_become_null() -> None:
    async def scenario(hub: StreamHub, bus: InProcessBus) -> None:
        sock = Socket()
        hub.connect(sock.send, None)
        nan_alert = AlertRaised(
            level="info", source="t", message="m", at=T0, details={"x": float("nan")}
        )
        bus.publish(TOPIC_ALERTS, nan_alert)
        await until(lambda: len(sock.texts) == 2)
        assert sock.messages[1]["data"]["details"] == {"x": None}

    run(scenario)
