"""The API in one process, the publisher in another, Redis between them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pandas as pd
from websockets.asyncio.client import connect

from nexus.api import BackgroundServer
from nexus.bus import RedisBus
from nexus.store import DuckDBStore
from tests.integration.api.conftest import build
from tests.integration.bus._publisher import bars_event, publish_from_another_process

COUNT = 20


def test_bars_published_by_another_process_reach_websocket_clients(
    store: DuckDBStore, home: Path, redis_url: str, redis_bus_prefix: str
) -> None:
    bus = RedisBus(redis_url, prefix=redis_bus_prefix)
    world = build(store, home, bus=bus, manage_bus=True)  # the app starts and closes the bus

    async def scenario(server: BackgroundServer) -> list[dict]:
        async with connect(f"{server.ws_url}/ws/stream?symbols=SIM01") as ws:
            assert json.loads(await ws.recv())["type"] == "snapshot"
            async with asyncio.timeout(30):
                await publish_from_another_process(redis_url, redis_bus_prefix, COUNT)
                got = []
                while len(got) < COUNT:
                    message = json.loads(await ws.recv())
                    if message["type"] == "bar":
                        got.append(message)
        return got

    with BackgroundServer(world.app) as server:
        assert bus.status()["connected"] is True
        got = asyncio.run(scenario(server))
    assert [pd.Timestamp(m["ts"]) for m in got] == [bars_event(i).ts for i in range(COUNT)]
    assert all([b["symbol"] for b in m["data"]] == ["SIM01"] for m in got)
    assert got[3]["data"][0]["open"] == bars_event(3).bars[1].open
    assert bus.status()["connected"] is False
