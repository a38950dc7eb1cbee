"""The NewsAPI-style source, against a scripted loopback server speaking newsapi.org v2.

``payloads/newsapi_everything_p{1,2}.json`` are two pages of a real-format
``/v2/everything`` answer (``totalResults`` 4, page size 3), including one of
NewsAPI's ``[Removed]`` placeholders; error bodies are NewsAPI's own
(``apiKeyInvalid``, ``rateLimited``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from nexus.config import Settings
from nexus.domain import NEWS_COLUMNS
from nexus.errors import ConfigError
from nexus.sources import LiveSource, Source
from nexus.sources._http import HttpFetcher
from nexus.sources._news import news_id
from nexus.sources.newsapi import NewsApiConfig, NewsApiSource
from nexus.sources.rss import RssConfig, RssSource
from tests._http_server import Reply, scripted_server

PAYLOADS = Path(__file__).parent / "payloads"
NOW = datetime(2024, 5, 1, 15, 0, tzinfo=UTC)
PATH = "/v2/everything"
KEY = "test-key-0123456789"
BAD_KEY = json.dumps(
    {
        "status": "error",
        "code": "apiKeyInvalid",
        "message": "Your API key is invalid or incorrect. Check your key, or go to "
        "https://newsapi.org to create a free API key.",
    }
)
RATE_LIMITED = json.dumps(
    {
        "status": "error",
        "code": "rateLimited",
        "message": "You have been rate limited. Back off for a while before trying again.",
    }
)


def _payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def _fetcher(**kwargs) -> tuple[HttpFetcher, list[float]]:
    waits: list[float] = []
    options = {"max_retries": 2, "backoff_s": 0.5, "timeout_s": 0.3, "sleep": waits.append}
    return HttpFetcher("NewsAPI", **{**options, **kwargs}), waits


def _source(server, fetcher=None, **config) -> NewsApiSource:
    options = {"queries": {"AAPL": "Apple"}, "api_key": KEY, "base_url": server.base}
    cfg = NewsApiConfig(**{**options, **config})
    return NewsApiSource(cfg, fetcher=fetcher or _fetcher()[0], clock=lambda: NOW)


def _page(*articles: dict, total: int | None = None) -> str:
    count = len(articles) if total is None else total
    return json.dumps({"status": "ok", "totalResults": count, "articles": list(articles)})


def _article(title: str | None, published: str | None, **extra) -> dict:
    return {
        "source": {"id": None, "name": extra.pop("outlet", "Wire")},
        "author": None,
        "title": title,
        "description": extra.pop("description", "Shares moved."),
        "url": extra.pop("url", "https://wire.example.com/a"),
        "urlToImage": None,
        "publishedAt": published,
        "content": None,
        **extra,
    }


def _one(source: NewsApiSource) -> tuple[pd.DataFrame, pd.DataFrame]:
    (batch,) = list(source.fetch())
    return batch.news, batch.rejects


def test_articles_become_utc_news_with_symbols_ids_and_outlets() -> None:
    with scripted_server() as server:
        server.script(
            PATH,
            Reply(_payload("newsapi_everything_p1.json"), content_type="application/json"),
            Reply(_payload("newsapi_everything_p2.json"), content_type="application/json"),
        )
        with _source(server, page_size=3, max_pages=5, language="en", universe=["MSFT"]) as source:
            (batch,) = list(source.fetch())
    news, rejects = batch.news, batch.rejects
    assert batch.label == "AAPL"
    assert list(news.columns) == list(NEWS_COLUMNS)
    by = news.set_index("headline")
    apple = by.loc["Apple beats second-quarter estimates as iPhone sales steady"]
    assert apple["published_at"] == pd.Timestamp("2024-05-01T13:47:12Z")
    assert apple["available_at"] == pd.Timestamp(NOW)
    assert apple["source"] == "newsapi:Reuters"
    assert apple["symbols"] == "AAPL"  # the query's ticker; <AAPL.O> also survives as text
    assert apple["body"].startswith("Apple Inc <AAPL.O> on Thursday reported")
    assert apple["url"] == "https://www.reuters.com/technology/apple-beats-estimates-2024-05-01/"
    assert apple["id"] == news_id(apple.name, "2024-05-01T00:00Z")
    msft = by.loc["Microsoft stock rises after Azure growth beats forecasts"]
    assert msft["symbols"] == "AAPL,MSFT"  # found by the Apple query, mentions MSFT
    assert msft["body"] == "Shares of Microsoft (MSFT) rose 2% in early trading."
    assert msft["source"] == "newsapi:Yahoo Entertainment"
    assert by.loc["Apple's Vision Pro sales slow, analysts say", "source"] == "newsapi:The Verge"
    assert news["sentiment"].isna().all()
    assert rejects["reason"].tolist() == ["removed"]
    assert json.loads(rejects["payload"].iloc[0])["url"] == "https://removed.com"
    first, second = server.requests
    assert first.path == PATH
    assert first.query == {
        "q": ["Apple"],
        "sortBy": ["publishedAt"],
        "pageSize": ["3"],
        "page": ["1"],
        "language": ["en"],
    }
    assert second.query["page"] == ["2"]
    assert first.headers["x-api-key"] == KEY


def test_pagination_stops_at_max_pages_and_at_an_empty_page() -> None:
    with scripted_server() as server:
        server.script(PATH, Reply(_payload("newsapi_everything_p1.json")))
        with _source(server, page_size=3, max_pages=1) as source:
            news, _ = _one(source)
        assert server.hits(PATH) == 1
        assert len(news) == 2
        server.script(
            PATH,
            Reply(_page(_article("AAPL one", "2024-05-01T10:00:00Z"), total=50)),
            Reply(_page(total=50)),
        )
        with _source(server, page_size=1, max_pages=10) as source:
            news, _ = _one(source)
        assert server.hits(PATH) == 3
        assert news["headline"].tolist() == ["AAPL one"]


def test_the_same_story_from_newsapi_and_an_rss_feed_gets_one_id() -> None:
    with scripted_server() as server:
        server.script(PATH, Reply(_payload("newsapi_everything_p1.json")))
        server.script("/rss", Reply(_payload("markets_wire_rss.xml")))
        with _source(server, page_size=3) as source:
            api, _ = _one(source)
        rss_cfg = RssConfig(feeds=[{"name": "wire", "url": server.url("/rss")}], universe=["AAPL"])
        with RssSource(rss_cfg, fetcher=_fetcher()[0], clock=lambda: NOW) as rss:
            (wire,) = list(rss.fetch())
    title = "Apple beats second-quarter estimates as iPhone sales steady"
    assert (
        api.set_index("headline").loc[title, "id"]
        == wire.news.set_index("headline").loc[title, "id"]
    )


def test_a_general_query_keeps_only_articles_that_mention_a_ticker() -> None:
    page = _page(
        _article("Nvidia ($NVDA) tops $3 trillion", "2024-05-01T10:00:00Z"),
        _article("Oil slips as stockpiles grow", "2024-05-01T10:05:00Z"),
        _article("Intel cuts guidance", "2024-05-01T10:06:00Z", description="Intel Corp fell."),
    )
    with scripted_server() as server:
        server.script(PATH, Reply(page))
        with _source(
            server, queries={}, query="stocks", universe=["NVDA"], names={"Intel": "INTC"}
        ) as source:
            (batch,) = list(source.fetch())
    assert batch.label == "stocks"
    assert batch.news["symbols"].tolist() == ["NVDA", "INTC"]
    assert batch.rejects["reason"].tolist() == ["no_symbol"]
    assert server.requests[0].query["q"] == ["stocks"]


def test_bad_articles_are_rejected_with_reasons_and_duplicates_collapse() -> None:
    page = _page(
        _article("AAPL fine", "2024-05-01T10:00:00Z", outlet="Reuters"),
        _article("AAPL fine!", "2024-05-01T11:00:00Z", outlet="Bloomberg"),  # same story
        _article("No time", None),
        _article("Bad time", "last Tuesday"),
        _article("Not a string time", 1714557600),
        _article("Old", "1969-07-20T20:17:00Z"),
        _article("Future", "2024-05-03T00:00:00Z"),
        _article(None, "2024-05-01T10:00:00Z"),
        _article("Huge", "2024-05-01T10:00:00Z", description="x" * 100_001),
        "not an article",
    )
    with scripted_server() as server:
        server.script(PATH, Reply(page))
        with _source(server) as source:
            news, rejects = _one(source)
    assert news["headline"].tolist() == ["AAPL fine"]
    assert news["source"].tolist() == ["newsapi:Bloomberg,newsapi:Reuters"]
    assert rejects["reason"].tolist() == [
        "malformed_item",
        "no_timestamp",
        "bad_timestamp",
        "bad_timestamp",
        "absurd_date",
        "absurd_date",
        "no_headline",
        "too_long",
    ]
    assert rejects["symbol"].iloc[1:].tolist() == ["AAPL"] * 7
    assert json.loads(rejects["payload"].iloc[2])["publishedAt"] == "last Tuesday"


def test_malformed_json_and_api_errors_are_one_reject_each(caplog) -> None:
    with scripted_server() as server:
        server.script("/a" + PATH, Reply(b'{"status": "ok", "totalResults": 3, "articles": [{'))
        server.script("/b" + PATH, Reply(b"<html>Bad gateway</html>"))
        server.script("/c" + PATH, Reply(json.dumps({"status": "ok", "articles": "none"})))
        server.script("/d" + PATH, Reply(RATE_LIMITED))  # an error body with HTTP 200
        for prefix, reason in [
            ("/a", "malformed_json"),
            ("/b", "malformed_json"),
            ("/c", "malformed_json"),
            ("/d", "api_error"),
        ]:
            with (
                caplog.at_level(logging.WARNING, "nexus.sources.newsapi"),
                _source(server, base_url=server.base + prefix) as source,
            ):
                news, rejects = _one(source)
            assert news.empty
            assert rejects["reason"].tolist() == [reason]
            assert json.loads(rejects["payload"].iloc[0])["url"].startswith(server.base + prefix)
    assert "rateLimited: You have been rate limited" in caplog.text
    assert KEY not in caplog.text


def test_undecodable_bytes_reject_only_their_article() -> None:
    page = _page(
        _article("AAPL café BROKEN", "2024-05-01T10:00:00Z"),
        _article("AAPL café au lait", "2024-05-01T10:00:00Z"),
    ).encode("utf-8")
    page = page.replace(b"BROKEN", b"\xff\xfe")
    with scripted_server() as server:
        server.script(PATH, Reply(page))
        with _source(server) as source:
            news, rejects = _one(source)
    assert news["headline"].tolist() == ["AAPL café au lait"]
    assert rejects["reason"].tolist() == ["not_utf8"]


def test_an_oversized_answer_is_rejected_as_too_large() -> None:
    big = _page(*[_article(f"AAPL {i}", "2024-05-01T10:00:00Z") for i in range(100)])
    with scripted_server() as server:
        server.script(PATH, Reply(big))
        with _source(server, fetcher=_fetcher(max_bytes=5_000)[0]) as source:
            news, rejects = _one(source)
    assert news.empty
    assert rejects["reason"].tolist() == ["too_large"]


# -- HTTP failures and keys ------------------------------------------------------------------


def test_timeouts_500s_and_429s_are_retried() -> None:
    fetcher, waits = _fetcher(max_retries=4)
    with scripted_server() as server:
        server.script(
            PATH,
            Reply("down", status=500),
            Reply("slow", delay_s=1.0),
            Reply(RATE_LIMITED, status=429, content_type="application/json"),
            Reply(RATE_LIMITED, status=429, headers={"Retry-After": "3"}),
            Reply(_payload("newsapi_everything_p1.json")),
        )
        with _source(server, fetcher=fetcher, page_size=3) as source:
            news, _ = _one(source)
    assert len(news) == 2
    assert server.hits(PATH) == 5
    assert len(waits) == 4
    assert waits[3] == 3.0


def test_a_query_that_keeps_failing_is_a_reject_and_keeps_earlier_pages() -> None:
    fetcher, _ = _fetcher(max_retries=1)
    with scripted_server() as server:
        server.script(
            PATH,
            Reply(_payload("newsapi_everything_p1.json")),
            Reply("down", status=503),
        )
        with _source(server, fetcher=fetcher, page_size=3, max_pages=2) as source:
            news, rejects = _one(source)
    assert len(news) == 2
    assert rejects["reason"].tolist() == ["removed", "fetch_failed"]
    payload = json.loads(rejects["payload"].iloc[1])
    assert "page=2" in payload["url"]
    assert KEY not in rejects["payload"].iloc[0]


def test_a_refused_key_raises_a_config_error() -> None:
    with scripted_server() as server:
        server.script(PATH, Reply(BAD_KEY, status=401, content_type="application/json"))
        with _source(server) as source, pytest.raises(ConfigError, match="NEXUS_NEWSAPI_KEY"):
            list(source.fetch())
        assert server.hits(PATH) == 1  # not retried


def test_the_key_comes_from_the_config_or_the_environment(monkeypatch) -> None:
    cfg = NewsApiConfig(queries={"AAPL": "Apple"})
    monkeypatch.delenv("NEXUS_NEWSAPI_KEY", raising=False)
    with pytest.raises(ConfigError, match="NEXUS_NEWSAPI_KEY"):
        NewsApiSource(cfg)
    with pytest.raises(ConfigError, match="NEXUS_NEWSAPI_KEY"):
        NewsApiSource(cfg, settings=Settings(newsapi_key="  "))
    monkeypatch.setenv("NEXUS_NEWSAPI_KEY", "from-env")
    with scripted_server() as server:
        server.script(PATH, Reply(_page()))
        cfg = NewsApiConfig(queries={"AAPL": "Apple"}, base_url=server.base)
        with NewsApiSource(cfg, fetcher=_fetcher()[0]) as source:
            list(source.fetch())
    assert server.requests[0].headers["x-api-key"] == "from-env"


# -- live ------------------------------------------------------------------------------------


class _Stop(Exception):
    pass


def _take(source: NewsApiSource, polls: int) -> tuple[list, list[float]]:
    naps: list[float] = []

    async def nap(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) >= polls:
            raise _Stop
        await asyncio.sleep(0)

    async def drain(got: list) -> None:
        async for batch in source.stream(sleep=nap):
            got.append(batch)

    async def run() -> list:
        got: list = []
        with pytest.raises(_Stop):
            await drain(got)
        return got

    return asyncio.run(asyncio.wait_for(run(), timeout=10)), naps


def test_the_stream_yields_new_articles_only_moves_from_and_survives_failures() -> None:
    first = _page(_article("AAPL opens higher", "2024-05-01T13:31:00Z"))
    second = _page(
        _article("AAPL hits a record", "2024-05-01T14:10:00Z"),
        _article("AAPL opens higher", "2024-05-01T13:31:00Z"),
    )
    fetcher, _ = _fetcher(max_retries=0)
    with scripted_server() as server:
        server.script(
            PATH,
            Reply(first),
            Reply("down", status=500),
            Reply(b"{oops"),
            Reply(second),
            Reply(second),
        )
        start = datetime(2024, 5, 1, 9, 0)
        with _source(server, fetcher=fetcher, poll_seconds=0.01, start=start) as source:
            batches, naps = _take(source, polls=5)
    assert naps == [0.01] * 5
    assert [b.rejects["reason"].tolist() for b in batches] == [
        [],
        ["fetch_failed"],
        ["malformed_json"],
        [],
        [],
    ]
    assert batches[0].news["headline"].tolist() == ["AAPL opens higher"]
    assert batches[3].news["headline"].tolist() == ["AAPL hits a record"]
    assert batches[4].news.empty  # a quiet poll is reported too
    froms = [r.query["from"][0] for r in server.requests]
    assert froms == ["2024-05-01T09:00:00"] + ["2024-05-01T13:31:00"] * 3 + ["2024-05-01T14:10:00"]


def test_the_stream_waits_a_long_retry_after_and_stops_on_a_refused_key() -> None:
    fetcher, _ = _fetcher(max_wait_s=1.0)
    with scripted_server() as server:
        server.script(
            PATH,
            Reply(RATE_LIMITED, status=429, headers={"Retry-After": "120"}),
            Reply(BAD_KEY, status=401),
        )
        naps: list[float] = []

        async def nap(seconds: float) -> None:
            naps.append(seconds)

        async def run() -> list:
            got = []
            with _source(server, fetcher=fetcher, poll_seconds=0.01) as source:
                async for batch in source.stream(sleep=nap):
                    got.append(batch)
            return got

        with pytest.raises(ConfigError, match="refused the NewsAPI key"):
            asyncio.run(asyncio.wait_for(run(), timeout=10))
    assert naps == [120.0]


# -- configuration ---------------------------------------------------------------------------


def test_the_source_implements_the_protocols_and_hides_the_key() -> None:
    cfg = NewsApiConfig(
        query="earnings", queries={"msft": "Microsoft"}, universe=["AAPL"], api_key=KEY
    )
    with NewsApiSource(cfg) as source:
        assert isinstance(source, Source)
        assert isinstance(source, LiveSource)
        assert source.total() == 2
        described = source.describe()
    assert described["queries"] == {"MSFT": "Microsoft"}
    assert KEY not in json.dumps(described)
    assert KEY not in repr(cfg)
    assert cfg.config_id == cfg.model_copy(update={"api_key": "other"}).config_id


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "neither query nor queries"),
        ({"query": "stocks"}, "universe and names are empty"),
        ({"queries": {"AAPL": "  "}}, "empty"),
        ({"queries": {"AAPL": "x" * 501}}, "501 characters"),
        ({"queries": {"AAPL": "Apple"}, "base_url": "ftp://newsapi.org"}, "not an http"),
        ({"queries": {"AAPL": "Apple"}, "page_size": 101}, "less than or equal to 100"),
        ({"queries": {"AAPL": "Apple"}, "language": "english"}, "two-letter"),
        ({"queries": {"AAPL": "Apple"}, "apikey": "k"}, "Extra inputs"),
    ],
)
def test_bad_configs_are_refused(config: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        NewsApiConfig(**config)
