"""The RSS/Atom source and the shared news helpers, against a scripted loopback server.

The feeds in ``payloads/`` are shaped like real ones (RSS 2.0 with ``dc:``,
``content:`` and ``atom:`` extensions, HTML in CDATA, RFC 822 dates in several
zones; Atom with ``published`` / ``updated``, HTML and XHTML content); edge
cases are built from an item template below.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from nexus.domain import NEWS_COLUMNS
from nexus.errors import ConfigError
from nexus.sources import LiveSource, Source
from nexus.sources._base import REJECT_COLUMNS
from nexus.sources._http import HttpFetcher
from nexus.sources._news import (
    NewsRules,
    RawItem,
    SymbolFinder,
    find_symbols,
    news_id,
    normalize_headline,
    validate_items,
)
from nexus.sources.rss import Feed, RssConfig, RssSource, decode_document
from tests._http_server import Reply, scripted_server

PAYLOADS = Path(__file__).parent / "payloads"
NOW = datetime(2024, 5, 1, 15, 0, tzinfo=UTC)
UNIVERSE = ["AAPL", "MSFT", "GOOGL", "TSLA", "AMZN", "NVDA"]
APPLE = "Apple beats second-quarter estimates as iPhone sales steady"


def _payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def _fetcher(**kwargs) -> tuple[HttpFetcher, list[float]]:
    waits: list[float] = []
    options = {"max_retries": 2, "backoff_s": 0.5, "timeout_s": 0.3, "sleep": waits.append}
    return HttpFetcher("rss feed", **{**options, **kwargs}), waits


def _source(server, feeds: dict[str, str], fetcher=None, now=NOW, **config) -> RssSource:
    cfg = RssConfig(
        feeds=[{"name": name, "url": server.url(path)} for name, path in feeds.items()],
        **{"universe": UNIVERSE, **config},
    )
    return RssSource(cfg, fetcher=fetcher or _fetcher()[0], clock=lambda: now)


def _item(title: str | None, date: str | None, text: str = "", extra: str = "") -> str:
    parts = [f"<title>{title}</title>" if title is not None else ""]
    parts.append(f"<pubDate>{date}</pubDate>" if date is not None else "")
    parts.append(f"<description>{text}</description>{extra}")
    return f"<item>{''.join(parts)}</item>"


def _rss(*items: str, encoding: str = "UTF-8") -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0"><channel>'
        f"<title>Edge</title><link>https://edge.example.com/</link><description>d</description>"
        f"{''.join(items)}</channel></rss>"
    )


def _one(source: RssSource) -> tuple[pd.DataFrame, pd.DataFrame]:
    (batch,) = list(source.fetch())
    return batch.news, batch.rejects


# -- shared helpers --------------------------------------------------------------------------


def test_news_id_ignores_case_punctuation_spacing_and_time_of_day() -> None:
    base = news_id(APPLE, "2024-05-01T13:45:00Z")
    assert base == news_id("  APPLE beats second—quarter estimates, as iPhone sales steady!", NOW)
    assert base == news_id(APPLE, pd.Timestamp("2024-05-01T19:00:00-04:00"))  # 23:00 UTC
    assert base != news_id(APPLE, "2024-05-02T00:30:00Z")
    assert base != news_id("Apple misses second-quarter estimates", "2024-05-01T13:45:00Z")
    assert len(base) == 24
    assert int(base, 16) >= 0
    assert normalize_headline("Ｔｅｓｌａ’s  ＣＥＯ…") == "tesla s ceo"  # NFKC folds full-width


def test_find_symbols_cashtags_whole_words_and_company_names() -> None:
    finder = SymbolFinder(["AAPL", "BRK.B", "F", "T", "MSFT"], {"Berkshire Hathaway": "BRK.B"})
    assert finder.find("$aapl, BRK.B and berkshire   hathaway") == ("AAPL", "BRK.B")
    assert finder.find("A quiet day; T-Mobile and AAPLX and aapl and XMSFT") == ()
    assert finder.find("Ford ($F) and $T rally") == ("F", "T")
    assert finder.find("Reuters: Apple Inc <AAPL.O> up") == ("AAPL",)
    assert find_symbols("Microsoft's MSFT", ["MSFT"], {"Microsoft": "MSFT"}) == ("MSFT",)
    assert find_symbols("no universe, no names", []) == ()


def test_validate_items_puts_every_item_in_news_or_rejects() -> None:
    fetched = pd.Timestamp(NOW)
    good = pd.Timestamp("2024-05-01T13:00Z")

    def item(headline: str, when: pd.Timestamp | None, published: str | None = "x", **kw):
        return RawItem(
            headline=headline,
            body=kw.pop("body", ""),
            url="",
            source="rss:t",
            published=published,
            published_at=when,
            fetched_at=fetched,
            payload=json.dumps({"title": headline}),
            **kw,
        )

    items = [
        item("AAPL up", good),
        item("aapl up!", good, symbols=("MSFT",)),  # the same story: symbols merge
        item("", good),
        item("NVDA", None, published=None),
        item("NVDA", None, published="soon"),
        item("NVDA", pd.Timestamp("1969-12-31T23:59Z")),
        item("NVDA", fetched + pd.Timedelta(days=1, seconds=1)),
        item("NVDA " + "x" * 1_000, good),
        item("NVDA", good, body="y" * 100_001),
        item("Nothing here", good),
        item("NVDA \ufffd", good, undecodable=True),
    ]
    news, rejects = validate_items(items, NewsRules(finder=SymbolFinder(UNIVERSE)))
    assert news["symbols"].tolist() == ["AAPL,MSFT"]
    assert list(news.columns) == list(NEWS_COLUMNS)
    assert list(rejects.columns) == list(REJECT_COLUMNS)
    assert rejects["reason"].tolist() == [
        "no_headline",
        "no_timestamp",
        "bad_timestamp",
        "absurd_date",
        "absurd_date",
        "too_long",
        "too_long",
        "no_symbol",
        "not_utf8",
    ]
    assert len(news) + len(rejects) == len(items) - 1


# -- parsing ---------------------------------------------------------------------------------


def test_an_rss_feed_becomes_utc_news_with_symbols_ids_and_source() -> None:
    with scripted_server() as server:
        server.script(
            "/top.xml",
            Reply(_payload("markets_wire_rss.xml"), content_type="application/rss+xml"),
        )
        with _source(server, {"wire": "/top.xml"}) as source:
            (batch,) = list(source.fetch())
    news, rejects = batch.news, batch.rejects
    assert batch.label == "wire"
    assert list(news.columns) == list(NEWS_COLUMNS)
    by = news.set_index("headline")
    apple = by.loc[APPLE]
    assert apple["published_at"] == pd.Timestamp("2024-05-01T13:45:00Z")  # 09:45 -0400
    assert apple["available_at"] == pd.Timestamp(NOW)  # when fetched
    assert apple["symbols"] == "AAPL"
    assert apple["body"].startswith("Apple Inc. (AAPL) reported revenue of $90.8 billion")
    assert "analysts’ forecasts. Services hit a record." in apple["body"]
    assert apple["url"] == "https://markets.example.com/2024/05/01/apple-beats-estimates"
    assert apple["source"] == "rss:wire"
    assert apple["id"] == news_id(APPLE, "2024-05-01")
    assert math.isnan(apple["sentiment"])
    assert by.loc["Microsoft and Alphabet lift Nasdaq to a record close", "symbols"] == "GOOGL,MSFT"
    tesla = by.loc["Tesla recalls 3,878 Cybertrucks over stuck accelerator pedal"]
    assert tesla["symbols"] == "TSLA"  # from <category>TSLA</category>
    assert str(news["published_at"].dtype) == "datetime64[us, UTC]"
    (fed,) = rejects.itertuples()
    assert fed.reason == "no_symbol"
    assert fed.ts == pd.Timestamp("2024-05-01T18:00:00Z")  # 14:00 EDT
    assert json.loads(fed.payload)["title"].startswith("Fed holds rates")


def test_an_atom_feed_parses_and_the_same_story_in_two_feeds_gets_one_id() -> None:
    with scripted_server() as server:
        server.script("/rss", Reply(_payload("markets_wire_rss.xml")))
        server.script("/atom", Reply(_payload("street_desk_atom.xml")))
        with _source(
            server, {"wire": "/rss", "street": "/atom"}, names={"Amazon": "AMZN", "Apple": "AAPL"}
        ) as source:
            wire, street = list(source.fetch())
    assert street.label == "street"
    assert street.rejects.empty
    atom = street.news.set_index("headline")
    amazon = atom.loc["Amazon shares jump on cloud growth"]
    assert amazon["published_at"] == pd.Timestamp("2024-05-01T08:30:00Z")  # only <updated>
    assert amazon["symbols"] == "AMZN"  # by name
    assert amazon["body"] == "AWS sales grew 17%, the fastest in a year."
    apple = atom.loc["Apple Beats Second-Quarter Estimates, as iPhone Sales Steady"]
    assert apple["published_at"] == pd.Timestamp("2024-05-01T13:50:00Z")  # <published>
    assert apple["source"] == "rss:street"
    assert apple["symbols"] == "AAPL"  # by name
    assert apple["id"] == wire.news.set_index("headline").loc[APPLE, "id"]


def test_available_after_dates_items_from_their_publication_time() -> None:
    with scripted_server() as server:
        server.script("/rss", Reply(_payload("markets_wire_rss.xml")))
        with _source(server, {"wire": "/rss"}, available_after=120) as source:
            news, _ = _one(source)
    delay = news["available_at"] - news["published_at"]
    assert (delay == pd.Timedelta(seconds=120)).all()


def test_an_item_published_a_little_ahead_is_available_when_published() -> None:
    soon = "Wed, 01 May 2024 16:00:00 GMT"  # an hour after NOW
    with scripted_server() as server:
        server.script("/rss", Reply(_rss(_item("AAPL opens higher", soon))))
        with _source(server, {"wire": "/rss"}) as source:
            news, rejects = _one(source)
    assert rejects.empty
    assert news["available_at"].iloc[0] == news["published_at"].iloc[0]


def test_items_without_timestamp_headline_or_symbol_and_absurd_dates_are_rejected() -> None:
    ok = "Wed, 01 May 2024 10:00:00 GMT"
    feed = _rss(
        _item("NVDA unveils a new chip", ok),
        _item("NVDA without a date", None),
        _item("NVDA with a date nobody can read", "sometime last week"),
        _item("NVDA on the Moon", "Sun, 20 Jul 1969 20:17:00 GMT"),
        _item("NVDA from the future", "Thu, 01 May 2031 10:00:00 GMT"),
        _item(None, ok, text="NVDA body without a title"),
        _item("   ", ok, text="NVDA"),
        _item("A story about nothing listed", ok),
        _item("NVDA " + "very " * 300 + "long", ok),
    )
    with scripted_server() as server:
        server.script("/rss", Reply(feed))
        with _source(server, {"edge": "/rss"}) as source:
            news, rejects = _one(source)
    assert news["headline"].tolist() == ["NVDA unveils a new chip"]
    assert rejects["reason"].tolist() == [
        "no_timestamp",
        "bad_timestamp",
        "absurd_date",
        "absurd_date",
        "no_headline",
        "no_headline",
        "no_symbol",
        "too_long",
    ]
    assert rejects["interval"].isna().all()
    assert rejects["ts"].iloc[2] == pd.Timestamp("1969-07-20T20:17:00Z")
    payloads = [json.loads(p) for p in rejects["payload"]]
    assert payloads[1]["published"] == "sometime last week"
    assert all("rss:edge" in d for d in rejects["detail"])


def test_duplicates_in_one_feed_collapse_to_one_row_with_all_symbols() -> None:
    feed = _rss(
        _item("Apple and Microsoft sign AI deal", "Wed, 01 May 2024 10:00:00 GMT", "AAPL"),
        _item("APPLE and Microsoft sign AI deal!", "Wed, 01 May 2024 11:00:00 GMT", "MSFT"),
        _item("Apple and Microsoft sign AI deal", "Thu, 02 May 2024 10:00:00 GMT", "AAPL"),
    )
    with scripted_server() as server:
        server.script("/rss", Reply(feed))
        next_day = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
        with _source(server, {"edge": "/rss"}, now=next_day) as source:
            news, rejects = _one(source)
    assert rejects.empty
    assert news["symbols"].tolist() == ["AAPL,MSFT", "AAPL"]  # another day: another story
    assert news["published_at"].iloc[0] == pd.Timestamp("2024-05-01T10:00:00Z")  # first kept
    assert news["id"].is_unique


# -- bad payloads ----------------------------------------------------------------------------


def test_malformed_xml_is_one_reject_and_the_other_feeds_go_on(caplog) -> None:
    with scripted_server() as server:
        server.script("/broken", Reply(b'<?xml version="1.0"?><rss><channel><title>x</ti'))
        server.script("/html", Reply(b"<html><body><h1>Moved</h1></body></html>"))
        server.script("/empty", Reply(b""))
        server.script("/rss", Reply(_payload("markets_wire_rss.xml")))
        feeds = {"broken": "/broken", "html": "/html", "empty": "/empty", "wire": "/rss"}
        with (
            caplog.at_level(logging.WARNING, "nexus.sources.rss"),
            _source(server, feeds) as source,
        ):
            batches = list(source.fetch())
    assert [b.label for b in batches] == ["broken", "html", "empty", "wire"]
    for batch in batches[:3]:
        assert batch.news.empty
        assert batch.rejects["reason"].tolist() == ["malformed_feed"]
        payload = json.loads(batch.rejects["payload"].iloc[0])
        assert payload["feed"] == batch.label
        assert payload["url"].startswith("http://127.0.0.1")
    assert "<title>x</ti" in batches[0].rejects["payload"].iloc[0]
    assert len(batches[3].news) == 3
    assert "broken" in caplog.text


def test_a_recoverable_xml_error_keeps_the_entries() -> None:
    feed = _rss(_item("AAPL&nbsp;rallies", "Wed, 01 May 2024 10:00:00 GMT"))  # undefined entity
    with scripted_server() as server:
        server.script("/rss", Reply(feed))
        with _source(server, {"edge": "/rss"}) as source:
            news, rejects = _one(source)
    assert rejects.empty
    assert news["symbols"].tolist() == ["AAPL"]


def test_feedparser_never_fetches_what_a_feed_points_to() -> None:
    with scripted_server() as server:
        secret = server.url("/secret")
        feed = (
            f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "{secret}">]>'
            + _rss(_item("AAPL &x; up", "Wed, 01 May 2024 10:00:00 GMT")).split("?>", 1)[1]
        )
        server.script("/rss", Reply(feed))
        server.script("/secret", Reply("leaked"))
        with _source(server, {"edge": "/rss"}) as source:
            news, _ = _one(source)
        assert server.hits("/secret") == 0
    assert "leaked" not in news["headline"].str.cat()


def test_undecodable_bytes_reject_only_the_items_that_hold_them() -> None:
    ok = "Wed, 01 May 2024 10:00:00 GMT"
    feed = _rss(
        _item("Nestlé and AAPL: café talk", ok),
        _item("AAPL BROKEN", ok),
        _item("MSFT clean", ok, text="Zürich"),
    ).encode("utf-8")
    feed = feed.replace(b"AAPL BROKEN", b"AAPL \xff\xfe broken")
    with scripted_server() as server:
        server.script("/rss", Reply(feed, content_type="application/rss+xml; charset=utf-8"))
        with _source(server, {"edge": "/rss"}) as source:
            news, rejects = _one(source)
    assert news["headline"].tolist() == ["Nestlé and AAPL: café talk", "MSFT clean"]
    assert news["body"].tolist() == ["", "Zürich"]  # not re-read as windows-1252
    assert rejects["reason"].tolist() == ["not_utf8"]
    assert "\ufffd" in json.loads(rejects["payload"].iloc[0])["title"]


def test_a_declared_legacy_encoding_is_decoded() -> None:
    ok = "Wed, 01 May 2024 10:00:00 GMT"
    latin = _rss(_item("Nestlé beats; AAPL café", ok), encoding="ISO-8859-1").encode("latin-1")
    undeclared = _rss(_item("Société Générale and MSFT", ok)).replace(
        '<?xml version="1.0" encoding="UTF-8"?>\n', ""
    )
    with scripted_server() as server:
        server.script("/latin", Reply(latin))
        server.script(
            "/cp1252",
            Reply(undeclared.encode("cp1252"), content_type="text/xml; charset=windows-1252"),
        )
        with _source(server, {"latin": "/latin", "cp": "/cp1252"}) as source:
            latin_batch, cp_batch = list(source.fetch())
    assert latin_batch.news["headline"].tolist() == ["Nestlé beats; AAPL café"]
    assert cp_batch.news["headline"].tolist() == ["Société Générale and MSFT"]
    assert latin_batch.rejects.empty
    assert cp_batch.rejects.empty
    assert decode_document("\ufeff<rss/>".encode("utf-16")) == (b"<rss/>", False)


def test_an_oversized_feed_is_rejected_as_too_large_and_not_read() -> None:
    big = _rss(*[_item(f"AAPL story {i}", "Wed, 01 May 2024 10:00:00 GMT") for i in range(200)])
    fetcher, waits = _fetcher(max_bytes=2_000)
    with scripted_server() as server:
        server.script("/big", Reply(big))
        server.script("/rss", Reply(_payload("markets_wire_rss.xml")))
        with _source(server, {"big": "/big", "wire": "/rss"}, fetcher=fetcher) as source:
            big_batch, wire = list(source.fetch())
    assert big_batch.rejects["reason"].tolist() == ["too_large"]
    assert big_batch.news is None
    assert "more than 2,000 bytes" in big_batch.rejects["detail"].iloc[0]
    assert len(wire.rejects) == 1
    assert waits == []


# -- HTTP failures ---------------------------------------------------------------------------


def test_timeouts_and_500s_are_retried_then_the_feed_is_read() -> None:
    fetcher, waits = _fetcher(max_retries=3)
    with scripted_server() as server:
        server.script(
            "/rss",
            Reply("down", status=503),
            Reply("slow", delay_s=1.0),
            Reply("oops", status=500),
            Reply(_payload("markets_wire_rss.xml")),
        )
        with _source(server, {"wire": "/rss"}, fetcher=fetcher) as source:
            news, rejects = _one(source)
    assert len(news) == 3
    assert len(rejects) == 1
    assert len(waits) == 3
    assert server.hits("/rss") == 4


def test_429_with_retry_after_is_waited_for() -> None:
    fetcher, waits = _fetcher()
    with scripted_server() as server:
        server.script(
            "/rss",
            Reply("slow down", status=429, headers={"Retry-After": "7"}),
            Reply(_payload("markets_wire_rss.xml")),
        )
        with _source(server, {"wire": "/rss"}, fetcher=fetcher) as source:
            news, _ = _one(source)
    assert waits == [7.0]
    assert len(news) == 3


def test_a_feed_that_keeps_failing_is_a_reject_and_the_next_feed_is_read(caplog) -> None:
    fetcher, _ = _fetcher(max_retries=1)
    with scripted_server() as server:
        server.script("/down", Reply("down", status=502))
        server.script("/gone", Reply("gone", status=404))
        server.script("/rss", Reply(_payload("markets_wire_rss.xml")))
        feeds = {"down": "/down", "gone": "/gone", "wire": "/rss"}
        with (
            caplog.at_level(logging.WARNING, "nexus.sources.rss"),
            _source(server, feeds, fetcher=fetcher) as source,
        ):
            down, gone, wire = list(source.fetch())
    assert down.rejects["reason"].tolist() == ["fetch_failed"]
    assert "failed 2 times (last: HTTP 502)" in down.rejects["detail"].iloc[0]
    assert "HTTP 404" in gone.rejects["detail"].iloc[0]
    assert json.loads(gone.rejects["payload"].iloc[0])["url"].endswith("/gone")
    assert len(wire.news) == 3
    assert caplog.text.count("WARNING") >= 2


# -- live ------------------------------------------------------------------------------------


class _Stop(Exception):
    pass


def _take(source: RssSource, polls: int) -> tuple[list, list[float]]:
    """Batches the stream yields over ``polls`` polls, and the sleeps between them."""
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


def test_the_stream_yields_new_items_only_and_survives_a_failing_poll(caplog) -> None:
    first = _rss(
        _item("AAPL opens higher", "Wed, 01 May 2024 13:31:00 GMT"),
        _item("A story about nothing listed", "Wed, 01 May 2024 13:32:00 GMT"),
    )
    second = _rss(
        _item("MSFT jumps on Azure", "Wed, 01 May 2024 14:01:00 GMT"),
        _item("AAPL opens higher", "Wed, 01 May 2024 13:31:00 GMT"),
        _item("A story about nothing listed", "Wed, 01 May 2024 13:32:00 GMT"),
    )
    fetcher, _ = _fetcher(max_retries=0)
    with scripted_server() as server:
        server.script("/rss", Reply(first), Reply("down", status=500), Reply(second), Reply(second))
        with (
            caplog.at_level(logging.WARNING, "nexus.sources.rss"),
            _source(server, {"wire": "/rss"}, fetcher=fetcher, poll_seconds=0.01) as source,
        ):
            batches, naps = _take(source, polls=4)
    assert naps == [0.01] * 4
    assert server.hits("/rss") == 4
    assert [b.label for b in batches] == ["wire"] * 4  # one per poll, quiet ones too
    assert batches[0].news["headline"].tolist() == ["AAPL opens higher"]
    assert batches[0].rejects["reason"].tolist() == ["no_symbol"]
    assert batches[1].rejects["reason"].tolist() == ["fetch_failed"]
    assert batches[2].news["headline"].tolist() == ["MSFT jumps on Azure"]
    assert batches[2].rejects.empty  # the unlisted story was reported once
    assert batches[3].news.empty  # nothing new
    assert batches[3].rejects.empty
    assert "HTTP 500" in caplog.text


def test_the_stream_waits_what_a_rate_limit_asks_before_polling_again() -> None:
    fetcher, _ = _fetcher(max_wait_s=1.0)
    with scripted_server() as server:
        server.script(
            "/rss",
            Reply("slow down", status=429, headers={"Retry-After": "30"}),
            Reply(_payload("markets_wire_rss.xml")),
        )
        with _source(server, {"wire": "/rss"}, fetcher=fetcher, poll_seconds=0.01) as source:
            batches, naps = _take(source, polls=2)
    assert naps == [30.0, 0.01]
    assert batches[0].rejects["reason"].tolist() == ["fetch_failed"]
    assert "asks to wait 30 s" in batches[0].rejects["detail"].iloc[0]
    assert len(batches[1].news) == 3


# -- configuration ---------------------------------------------------------------------------


def test_the_source_implements_the_protocols_and_describes_itself() -> None:
    cfg = RssConfig(
        feeds=["https://feeds.example.com/a.xml", {"name": "b", "url": "http://b.example/x"}],
        symbols=["aapl"],
    )
    with RssSource(cfg) as source:
        assert isinstance(source, Source)
        assert isinstance(source, LiveSource)
        assert source.total() == 2
        described = source.describe()
    assert [f["name"] for f in described["feeds"]] == ["feeds.example.com", "b"]
    assert described["symbols"] == ["AAPL"]
    assert described["poll_seconds"] == 300.0


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"feeds": ["file:///etc/passwd"], "universe": ["AAPL"]}, "not an http"),
        ({"feeds": ["ftp://example.com/feed"], "universe": ["AAPL"]}, "not an http"),
        ({"feeds": [{"name": "a", "url": "https:///x"}], "universe": ["AAPL"]}, "not an http"),
        ({"feeds": [], "universe": ["AAPL"]}, "at least 1"),
        (
            {"feeds": ["https://a.example/x", "https://a.example/y"], "universe": ["A"]},
            "more than once",
        ),
        ({"feeds": ["https://a.example/x"]}, "no ticker can apply"),
        ({"feeds": [{"name": "bad name", "url": "https://a.example/x"}]}, "feed name"),
        ({"feeds": ["https://a.example/x"], "universe": ["AA PL"]}, "not a ticker"),
        ({"feeds": ["https://a.example/x"], "universe": ["A"], "poll_seconds": 0}, "greater"),
        ({"feeds": ["https://a.example/x"], "universe": ["A"], "pol_seconds": 1}, "Extra"),
    ],
)
def test_bad_configs_are_refused_with_a_fix(config: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RssConfig(**config)
    try:
        RssConfig(**config)
    except ValidationError as exc:
        cause = exc.errors()[0].get("ctx", {}).get("error")
        assert cause is None or isinstance(cause, ConfigError)


def test_a_feed_with_its_own_symbols_needs_no_universe() -> None:
    assert Feed(name="aapl", url="https://example.com/a.xml", symbols=["aapl"]).symbols == ["AAPL"]
    with scripted_server() as server:
        server.script(
            "/aapl", Reply(_rss(_item("Quarterly results", "Wed, 01 May 2024 10:00 GMT")))
        )
        feed = Feed(name="aapl", url=server.url("/aapl"), symbols=["AAPL"])
        cfg = RssConfig(feeds=[feed])
        with RssSource(cfg, fetcher=_fetcher()[0], clock=lambda: NOW) as source:
            news, rejects = _one(source)
    assert news["symbols"].tolist() == ["AAPL"]
    assert rejects.empty


def test_the_configs_symbols_apply_to_every_item_of_every_feed() -> None:
    with scripted_server() as server:
        server.script("/a", Reply(_rss(_item("Quarterly results", "Wed, 01 May 2024 10:00 GMT"))))
        server.script("/b", Reply(_rss(_item("Outlook raised", "Wed, 01 May 2024 11:00 GMT"))))
        feeds = [
            Feed(name="a", url=server.url("/a"), symbols=["AAPL"]),
            Feed(name="b", url=server.url("/b")),
        ]
        cfg = RssConfig(feeds=feeds, symbols=["spy"])
        with RssSource(cfg, fetcher=_fetcher()[0], clock=lambda: NOW) as source:
            batches = list(source.fetch())
    assert [b.news["symbols"].tolist() for b in batches] == [["AAPL,SPY"], ["SPY"]]
    assert all(b.rejects.empty for b in batches)
