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
    MacroSeriesInfo,
    MacroSeriesPage,
    NewsInfo,
    PongMessage,
    RecommendationInfo,
    SnapshotMessage,
    SubscribedMessage,
)
from nexus.domain import Action, Interval, Recommendation
from nexus.errors import AuthError, ConfigError, RegistryError, SourceError, UnknownSymbolError
from nexus.store import DuckDBStore
from tests.integration.api._market import REVISED_AT, SCORER, SLOTS, SYMBOLS, bar
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


def test_typed_news(client: Client) -> None:
    stories = [s for s in client.news("SIM00") if s.id in {"n1", "n2", "n3"}]
    assert all(isinstance(s, NewsInfo) for s in stories)
    assert [s.id for s in stories] == ["n3", "n2", "n1"]
    n3, _, n1 = stories
    assert (n1.sentiment, n1.sentiment_model, n1.sources) == (
        0.8,
        SCORER,
        ["newsapi", "rss:reuters"],
    )
    assert n1.available_at == datetime.fromisoformat("2025-01-03T21:05:00+00:00")
    assert (n3.sentiment, n3.sentiment_model, n3.url) == (None, None, None)
    [older] = client.news("SIM00", limit=1, before=stories[1].available_at)
    assert older.id == "n1"
    assert client.news("SIM00", before="2024-12-31T00:00:00Z") == []
    with pytest.raises(UnknownSymbolError, match="'NOPE'"):
        client.news("NOPE")
    with pytest.raises(ConfigError, match="limit"):
        client.news("SIM00", limit=500)


def test_typed_macro(client: Client) -> None:
    series = {s.series_id: s for s in client.macro()}
    cpi = series["TEST_CPI"]
    assert isinstance(cpi, MacroSeriesInfo)
    assert (cpi.value, cpi.previous, cpi.change, cpi.vintages) == (316.2, 315.4, 0.8, 4)
    at_revision = {s.series_id: s for s in client.macro(as_of=REVISED_AT.to_pydatetime())}
    cpi = at_revision["TEST_CPI"]  # December's first release; November just revised
    assert (cpi.value, cpi.previous, cpi.change) == (316.0, 315.4, 0.6)
    first = client.macro_series("TEST_CPI", REVISED_AT.to_pydatetime() - timedelta(seconds=1))
    assert isinstance(first, MacroSeriesPage)
    assert [p.value for p in first.observations] == [315.0, 316.0]
    revised = client.macro_series("TEST_CPI", as_of=REVISED_AT.isoformat())
    assert [v.value for v in revised.observations[0].vintages] == [315.0, 315.4]
    frame = client.macro_series("TEST_CPI").to_frame()
    assert list(frame.columns) == ["period", "value", "released_at", "source", "vintages"]
    assert frame["value"].tolist() == [315.4, 316.2]
    assert str(frame["released_at"].dt.tz) == "UTC"
    assert len(client.macro_series("TEST_CPI", limit=1).observations) == 1
    with pytest.raises(UnknownSymbolError, match=r"'NOPE'.*GET /api/macro") as caught:
        client.macro_series("NOPE")
    assert caught.value.status_code == 404


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
