"""``/ws/stream`` with real ``websockets`` clients against a real uvicorn on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pandas as pd
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from nexus.api import BackgroundServer
from nexus.bus import (
    TOPIC_ALERTS,
    TOPIC_BARS,
    TOPIC_MODELS,
    TOPIC_SIGNALS,
    AlertRaised,
    BarsClosed,
    ModelsChanged,
    SignalsReady,
)
from nexus.domain import Interval
from nexus.store import DuckDBStore
from tests.integration.api._market import SLOTS, SYMBOLS, bar, recommendation
from tests.integration.api.conftest import World, build

TIMEOUT = 10.0


@pytest.fixture
def newest(store: DuckDBStore) -> datetime:
    """The newest stored bar time."""
    return store.read_bars(list(SYMBOLS), "1m")["ts"].max().to_pydatetime()


async def publish(server: BackgroundServer, world: World, topic: str, message: Any) -> None:
    """Publish on the app's bus from inside the server's event loop (as the engine does)."""

    async def send() -> None:
        world.bus.publish(topic, message)

    assert server.loop is not None
    await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(send(), server.loop))


async def hub_stats(server: BackgroundServer, world: World) -> dict[str, Any]:
    async def stats() -> dict[str, Any]:
        return world.app.state.nexus.hub.stats()

    assert server.loop is not None
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(stats(), server.loop))


async def receive(ws: ClientConnection, skip: tuple[str, ...] = ("heartbeat",)) -> dict:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        if message["type"] not in skip:
            return message


def url(server: BackgroundServer, symbols: str | None = None) -> str:
    query = f"?symbols={symbols}" if symbols is not None else ""
    return f"{server.ws_url}/ws/stream{query}"


async def wait_for(condition, server: BackgroundServer, world: World) -> dict[str, Any]:
    for _ in range(200):
        stats = await hub_stats(server, world)
        if condition(stats):
            return stats
        await asyncio.sleep(0.02)
    raise AssertionError(f"hub never reached the condition: {stats}")


def test_snapshot_on_connect(server: BackgroundServer, newest: datetime) -> None:
    async def scenario() -> None:
        async with connect(url(server, "SIM01")) as ws:
            snapshot = await receive(ws)
        assert snapshot["type"] == "snapshot"
        assert snapshot["interval"] == "1m"
        assert list(snapshot["data"]) == ["SIM01"]
        entry = snapshot["data"]["SIM01"]
        assert pd.Timestamp(entry["bar"]["ts"]) == newest
        assert [p["model"] for p in entry["predictions"]] == list(SLOTS)
        assert pd.Timestamp(entry["recommendation"]["ts"]) == newest
        assert [p["model"] for p in entry["recommendation"]["predictions"]] == list(SLOTS)
        async with connect(url(server)) as ws:
            every = await receive(ws)
        assert sorted(every["data"]) == list(SYMBOLS)

    asyncio.run(scenario())


def test_bus_events_reach_the_clients_of_their_symbols(
    server: BackgroundServer, world: World, newest: datetime
) -> None:
    ts = newest + timedelta(minutes=1)
    bars = BarsClosed(interval=Interval.M1, ts=ts, bars=tuple(bar(s, ts, 101.0) for s in SYMBOLS))
    recs = tuple(recommendation(s, ts, 7) for s in SYMBOLS)
    signals = SignalsReady(
        interval="1m",
        ts=ts,
        predictions=tuple(p for r in recs for p in r.predictions),
        recommendations=recs,
    )
    changed = ModelsChanged(champions={"lstm": "v2", "transformer": None}, at=ts, reason="promoted")
    alert = AlertRaised(level="warning", source="monitor", message="drift", at=ts)

    async def scenario() -> None:
        async with connect(url(server, "SIM00")) as one, connect(url(server)) as every:
            await receive(one), await receive(every)
            await publish(server, world, TOPIC_BARS, bars)
            await publish(server, world, TOPIC_SIGNALS, signals)
            await publish(server, world, TOPIC_MODELS, changed)
            await publish(server, world, TOPIC_ALERTS, alert)
            got_one = [await receive(one) for _ in range(5)]
            got_every = [await receive(every) for _ in range(5)]
        kinds = ["bar", "recommendation", "prediction", "model", "alert"]
        assert [m["type"] for m in got_one] == kinds
        assert [m["type"] for m in got_every] == kinds
        bar_one, bar_every = got_one[0], got_every[0]
        assert (bar_one["interval"], pd.Timestamp(bar_one["ts"])) == ("1m", ts)
        assert [b["symbol"] for b in bar_one["data"]] == ["SIM00"]
        assert [b["symbol"] for b in bar_every["data"]] == list(SYMBOLS)
        assert bar_one["data"][0]["close"] == 101.0
        assert [r["symbol"] for r in got_one[1]["data"]] == ["SIM00"]
        assert got_one[1]["data"][0]["action"] == str(recs[0].action)
        assert [(p["symbol"], p["model"]) for p in got_one[2]["data"]] == [
            ("SIM00", s) for s in SLOTS
        ]
        assert len(got_every[2]["data"]) == len(SYMBOLS) * len(SLOTS)
        assert got_one[3]["data"]["champions"] == {"lstm": "v2", "transformer": None}
        assert got_one[4]["data"]["message"] == "drift"
        # a new connection's snapshot holds the new bar and recommendation
        async with connect(url(server, "SIM02")) as late:
            entry = (await receive(late))["data"]["SIM02"]
        assert pd.Timestamp(entry["bar"]["ts"]) == ts
        assert pd.Timestamp(entry["recommendation"]["ts"]) == ts

    asyncio.run(scenario())


@pytest.mark.parametrize("symbols", ["SIM00,NOPE", "NOPE," + "ü" * 200])
def test_an_unknown_symbol_gets_an_error_then_1008(server: BackgroundServer, symbols: str) -> None:
    async def scenario() -> None:
        async with connect(url(server, quote(symbols, safe=","))) as ws:
            message = await receive(ws)
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), TIMEOUT)
        assert message["type"] == "error"
        assert "NOPE" in message["message"]
        assert "GET /api/symbols" in message["message"]
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1008

    asyncio.run(scenario())


def test_bad_client_messages_get_an_error_and_harm_no_one(
    server: BackgroundServer, world: World, newest: datetime
) -> None:
    bad = [
        "x" * 5000,
        "{not json",
        json.dumps({"action": "dance"}),
        json.dumps({"action": "subscribe"}),
        json.dumps({"action": "subscribe", "symbols": []}),
        json.dumps({"action": "subscribe", "symbols": ["NOPE"]}),
        json.dumps(["ping"]),
        b"\xff\xfe",
    ]
    alert = AlertRaised(level="info", source="test", message="after", at=newest)

    async def scenario() -> None:
        async with connect(url(server, "SIM00")) as rude, connect(url(server)) as other:
            await receive(rude), await receive(other)
            errors = []
            for message in bad:
                await rude.send(message)
                errors.append(await receive(rude))
            assert [e["type"] for e in errors] == ["error"] * len(bad)
            assert "5000 bytes is over the 4096-byte limit" in errors[0]["message"]
            assert "not valid JSON" in errors[1]["message"]
            assert "unknown symbol(s) NOPE" in errors[5]["message"]
            await publish(server, world, TOPIC_ALERTS, alert)
            assert (await receive(other))["type"] == "alert"  # no error reached the other
            assert (await receive(rude))["type"] == "alert"  # and the rude one still streams
            await rude.send(json.dumps({"action": "ping"}))
            assert await receive(rude) == {"type": "pong"}
        stats = await wait_for(lambda s: s["clients"] == 0, server, world)
        assert stats["clients"] == 0

    asyncio.run(scenario())


def test_subscribe_and_unsubscribe(
    server: BackgroundServer, world: World, newest: datetime
) -> None:
    ts = newest + timedelta(minutes=2)
    bars = BarsClosed(interval=Interval.M1, ts=ts, bars=tuple(bar(s, ts) for s in SYMBOLS))

    async def scenario() -> None:
        async with connect(url(server, "SIM00")) as ws:
            await receive(ws)
            await ws.send(json.dumps({"action": "subscribe", "symbols": ["SIM02", "SIM00"]}))
            assert await receive(ws) == {"type": "subscribed", "symbols": ["SIM00", "SIM02"]}
            snapshot = await receive(ws)
            assert snapshot["type"] == "snapshot"
            assert list(snapshot["data"]) == ["SIM02"]
            await ws.send(json.dumps({"action": "unsubscribe", "symbols": ["SIM00"]}))
            assert await receive(ws) == {"type": "subscribed", "symbols": ["SIM02"]}
            await publish(server, world, TOPIC_BARS, bars)
            message = await receive(ws)
            assert [b["symbol"] for b in message["data"]] == ["SIM02"]

    asyncio.run(scenario())


def test_heartbeats_carry_the_drop_count(store: DuckDBStore, home: Path) -> None:
    world = build(store, home, heartbeat_s=0.05)

    async def scenario(server: BackgroundServer) -> None:
        async with connect(url(server, "SIM00")) as ws:
            assert (await receive(ws))["type"] == "snapshot"
            beat = await receive(ws, skip=())
            assert beat["type"] == "heartbeat"
            assert beat["dropped"] == 0
            assert datetime.fromisoformat(beat["at"]).tzinfo is not None

    with BackgroundServer(world.app) as server:
        asyncio.run(scenario(server))


@pytest.fixture
def small_queues(store: DuckDBStore, home: Path) -> Iterator[tuple[BackgroundServer, World]]:
    world = build(store, home, client_queue=8)
    with BackgroundServer(world.app) as server:
        yield server, world


async def _collect(ws: ClientConnection, into: list[int], stop: int) -> None:
    while not into or into[-1] < stop:
        message = await receive(ws)
        if message["type"] == "alert":
            into.append(message["data"]["details"]["seq"])


async def _drain(ws: ClientConnection) -> None:
    with contextlib.suppress(ConnectionClosed):
        while True:
            await ws.recv()


def _stalled_socket(port: int) -> socket.socket:
    """A connected socket with a tiny receive buffer: a client that reads nothing fills fast."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


def test_a_slow_client_loses_its_oldest_messages_and_delays_no_one(
    small_queues: tuple[BackgroundServer, World], newest: datetime
) -> None:
    server, world = small_queues
    pad = secrets.token_urlsafe(24_000)  # 32 kB that compression cannot shrink: buffers fill

    def alert(seq: int) -> AlertRaised:
        return AlertRaised(
            level="info", source="test", message="load", at=newest, details={"seq": seq, "pad": pad}
        )

    async def scenario() -> None:
        slow = await connect(
            url(server), sock=_stalled_socket(server.port), max_queue=1, compression=None
        )
        fast = [await connect(url(server), max_size=2**22, compression=None) for _ in range(2)]
        await receive(slow)
        for ws in fast:
            await receive(ws)
        got: list[list[int]] = [[], []]
        seq = 0
        for _ in range(150):  # publish in paced batches until the slow client drops
            batch_end = seq + 20
            readers = [
                asyncio.create_task(_collect(ws, got[i], batch_end - 1))
                for i, ws in enumerate(fast)
            ]
            while seq < batch_end:
                await publish(server, world, TOPIC_ALERTS, alert(seq))
                seq += 1
            await asyncio.wait_for(asyncio.gather(*readers), TIMEOUT)
            stats = await hub_stats(server, world)
            if max(c["dropped"] for c in stats["per_client"]) >= 20:
                break
        last = seq - 1
        assert got[0] == got[1] == list(range(seq)), "a client that keeps up lost nothing"
        per_client = sorted(stats["per_client"], key=lambda c: c["dropped"])
        assert [c["dropped"] for c in per_client[:2]] == [0, 0]
        assert per_client[2]["dropped"] >= 20
        assert stats["dropped"] == per_client[2]["dropped"]
        assert per_client[2]["queued"] <= 8
        # the slow client reads at last: it gets the newest messages (the oldest were dropped)
        seen = []
        while not seen or seen[-1] != last:
            message = json.loads(await asyncio.wait_for(slow.recv(), TIMEOUT))
            if message["type"] == "alert":
                seen.append(message["data"]["details"]["seq"])
        assert len(seen) < seq
        assert seen == sorted(seen)
        for ws in [slow, *fast]:
            await ws.close()
        metrics = httpx.get(server.url + "/metrics").text
        assert f"nexus_ws_messages_dropped_total {float(stats['dropped'])}" in metrics

    asyncio.run(scenario())


def test_a_client_that_vanishes_mid_stream_is_removed(
    server: BackgroundServer, world: World, newest: datetime
) -> None:
    def alert(seq: int) -> AlertRaised:
        return AlertRaised(
            level="info",
            source="t",
            message="m",
            at=newest,
            details={"seq": seq, "pad": "y" * 2000},
        )

    async def scenario() -> None:
        stay = await connect(url(server))
        vanish = await connect(url(server, "SIM00"))
        leave = await connect(url(server, "SIM01"))
        for ws in (stay, vanish, leave):
            await receive(ws)
        await wait_for(lambda s: s["clients"] == 3, server, world)
        got: list[int] = []
        reader = asyncio.create_task(_collect(stay, got, 199))
        leaving = asyncio.create_task(_drain(leave))
        for seq in range(200):
            await publish(server, world, TOPIC_ALERTS, alert(seq))
            if seq == 50:
                vanish.transport.abort()  # gone without a close handshake (a crash, a cable)
            if seq == 100:
                await leave.close()  # a polite goodbye
        await asyncio.wait_for(reader, TIMEOUT)
        await leaving
        assert got == list(range(200))
        stats = await wait_for(lambda s: s["clients"] == 1, server, world)
        assert stats["per_client"][0]["symbols"] is None
        await stay.close()
        await wait_for(lambda s: s["clients"] == 0, server, world)

    asyncio.run(scenario())


def test_stopping_the_server_with_clients_connected(store: DuckDBStore, home: Path) -> None:
    world = build(store, home)
    server = BackgroundServer(world.app).start()

    async def scenario() -> None:
        async with connect(url(server)) as ws:
            await receive(ws)
            await asyncio.to_thread(server.stop)
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), TIMEOUT)

    asyncio.run(scenario())
    assert not world.app.state.nexus.hub.started


def test_stream_timestamps_are_utc(server: BackgroundServer) -> None:
    async def scenario() -> datetime:
        async with connect(url(server, "SIM00")) as ws:
            return datetime.fromisoformat((await receive(ws))["data"]["SIM00"]["bar"]["ts"])

    assert asyncio.run(scenario()).utcoffset() == UTC.utcoffset(None)
