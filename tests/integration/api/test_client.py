"""``nexus.client.Client`` against a real server: typed results, errors, the stream."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta

import pandas as pd
import pytest

from nexus.api import BackgroundServer
from nexus.bus import TOPIC_BARS, BarsClosed
from nexus.client import (
    BarMessage,
    Client,
    PongMessage,
    RecommendationInfo,
    SnapshotMessage,
    SubscribedMessage,
)
from nexus.domain import Action, Interval, Recommendation
from nexus.errors import AuthError, ConfigError, RegistryError, SourceError, UnknownSymbolError
from nexus.store import DuckDBStore
from tests.integration.api._market import SLOTS, SYMBOLS, bar
from tests.integration.api.conftest import API_KEY, World


@pytest.fixture
def client(server: BackgroundServer) -> Iterator[Client]:
    with Client(server.url, api_key=API_KEY) as client:
        yield client


def test_typed_market_reads(client: Client, store: DuckDBStore) -> None:
    symbols = client.symbols()
    assert [s.symbol for s in symbols] == list(SYMBOLS)
    assert all(s.simulated for s in symbols)
    page = client.bars("SIM00", limit=10)
    frame = page.to_frame()
    assert list(frame.columns) == ["ts", "open", "high", "low", "close", "volume"]
    stored = store.read_bars(["SIM00"], "1m").tail(10)
    assert list(frame["ts"]) == list(stored["ts"])
    assert str(frame["ts"].dt.tz) == "UTC"
    start = stored["ts"].iloc[2].to_pydatetime()
    assert len(client.bars("SIM00", start=start, end=start + timedelta(minutes=3)).bars) == 3
    predictions = client.latest_predictions(["SIM00", "SIM01"])
    assert [(p.symbol, p.model) for p in predictions] == [
        (s, m) for s in ("SIM00", "SIM01") for m in SLOTS
    ]
    [latest] = client.latest_recommendations("SIM02")
    assert isinstance(latest, RecommendationInfo)
    domain = latest.to_domain()
    assert isinstance(domain, Recommendation)
    assert len(domain.predictions) == len(SLOTS)
    history = client.recommendations("SIM00", action=Action.BUY)
    assert history
    assert {r.action for r in history} == {Action.BUY}


def test_typed_models_and_operations(client: Client) -> None:
    models = client.models()
    assert [s.slot for s in models.slots] == list(SLOTS)
    detail = client.model("lstm")
    assert detail.history[-1].action == "promote"
    assert client.health().status == "ok"
    assert client.ready().ready is True
    [report] = client.reports()
    assert "demo report" in client.report(report.name)
    assert "nexus_ws_clients" in client.metrics()


def test_promote_and_rollback_through_the_sdk(client: Client, world: World) -> None:
    champion, previous = world.registry.champion("lstm"), world.registry.previous("lstm")
    decision = client.rollback("lstm", reason="sdk test")
    assert decision.action == "rollback"
    assert decision.champion == previous
    decision = client.promote("lstm", champion, reason="sdk test")
    assert decision.champion == champion
    assert world.registry.champion("lstm") == champion


def test_errors_are_nexus_errors_with_the_servers_detail(
    client: Client, server: BackgroundServer, world: World
) -> None:
    with pytest.raises(UnknownSymbolError, match=r"'NOPE'.*GET /api/symbols") as caught:
        client.bars("NOPE")
    assert caught.value.status_code == 404
    with pytest.raises(ConfigError, match="limit") as caught:
        client.bars("SIM00", limit=0)
    assert caught.value.status_code == 422
    with pytest.raises(RegistryError, match="already the champion"):
        client.promote("lstm", world.registry.champion("lstm"))
    before = world.registry.config_path.read_bytes()
    with Client(server.url) as anonymous, pytest.raises(AuthError, match="missing") as caught:
        anonymous.rollback("lstm")
    assert caught.value.status_code == 401
    with Client(server.url, api_key="wrong") as wrong, pytest.raises(AuthError, match="valid"):
        wrong.rollback("lstm")
    assert world.registry.config_path.read_bytes() == before


def test_an_unreachable_server_is_a_source_error() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with Client(f"http://127.0.0.1:{port}", timeout=2) as client:
        with pytest.raises(SourceError, match="cannot be reached"):
            client.symbols()

        async def stream() -> None:
            async with client.stream(["SIM00"]):
                pass

        with pytest.raises(SourceError, match="cannot be reached"):
            asyncio.run(stream())


def test_the_stream_yields_typed_messages(
    client: Client, server: BackgroundServer, world: World, store: DuckDBStore
) -> None:
    newest: datetime = store.read_bars(list(SYMBOLS), "1m")["ts"].max().to_pydatetime()
    ts = newest + timedelta(minutes=1)
    event = BarsClosed(interval=Interval.M1, ts=ts, bars=tuple(bar(s, ts) for s in SYMBOLS))

    async def publish() -> None:
        world.bus.publish(TOPIC_BARS, event)

    async def scenario() -> list:
        got = []
        async with client.stream(["SIM01"]) as stream:
            async for message in stream:
                got.append(message)
                if isinstance(message, SnapshotMessage):
                    await stream.ping()
                elif isinstance(message, PongMessage):
                    await stream.subscribe(["SIM02"])
                elif isinstance(message, SubscribedMessage):
                    await asyncio.wrap_future(
                        asyncio.run_coroutine_threadsafe(publish(), server.loop)
                    )
                elif isinstance(message, BarMessage):
                    break
        return got

    got = asyncio.run(scenario())
    kinds = [type(m).__name__ for m in got if type(m).__name__ != "HeartbeatMessage"]
    assert kinds == [
        "SnapshotMessage",
        "PongMessage",
        "SubscribedMessage",
        "SnapshotMessage",
        "BarMessage",
    ]
    assert list(got[0].data) == ["SIM01"]
    assert got[0].data["SIM01"].recommendation is not None
    assert got[2].symbols == ["SIM01", "SIM02"]
    assert [b.symbol for b in got[-1].data] == ["SIM01", "SIM02"]
    assert got[-1].ts == pd.Timestamp(ts).to_pydatetime()


def test_the_stream_refuses_an_unknown_symbol(client: Client) -> None:
    async def scenario() -> None:
        async for _ in client.stream(["SIM00", "NOPE"]):
            pass

    with pytest.raises(UnknownSymbolError, match="NOPE"):
        asyncio.run(scenario())
