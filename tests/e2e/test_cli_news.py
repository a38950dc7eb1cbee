"""``nexus ingest rss`` and ``nexus ingest newsapi`` as a user runs them, against loopback feeds."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tests._http_server import Reply, scripted_server

from .conftest import Nexus

PAYLOADS = Path(__file__).parents[1] / "unit" / "sources" / "payloads"
RSS = "application/rss+xml"


def _read_news(nexus: Nexus):
    from nexus.store import DuckDBStore

    with DuckDBStore(nexus.home / "nexus.duckdb") as store:
        return store.read_news(), store.read_quarantine()


def test_rss_feeds_are_stored_scored_merged_and_bad_ones_quarantined(nexus: Nexus) -> None:
    feed = (PAYLOADS / "markets_wire_rss.xml").read_bytes()
    with scripted_server() as server:
        server.script("/wire.xml", Reply(feed, content_type=RSS))
        server.script("/mirror.xml", Reply(feed, content_type=RSS))  # the same stories
        server.script("/broken.xml", Reply(b"<html><body>Service error</body></html>"))
        report = nexus(
            "ingest", "rss",
            f"wire={server.url('/wire.xml')}",
            f"mirror={server.url('/mirror.xml')}",
            f"broken={server.url('/broken.xml')}",
            "--universe", "AAPL,MSFT,GOOGL,NVDA,AMZN,TSLA,META",
            "--json",
        )  # fmt: skip
    assert report.code == 0, report.stderr
    totals = report.json()["totals"]
    news, quarantine = _read_news(nexus)
    assert totals["news"] == len(news) > 0
    assert set(news["source"]) == {"rss:mirror,rss:wire"}  # each story once, both feeds
    assert news["sentiment"].notna().all()
    assert news["sentiment_model"].str.startswith("lexicon-vader-finance@").all()
    apple = news[news["headline"].str.startswith("Apple beats")].iloc[0]
    assert apple["symbols"] == "AAPL"
    assert apple["sentiment"] > 0
    assert "malformed_feed" in set(quarantine["reason"])

    again = nexus("ingest", "rss", f"wire={server.url('/wire.xml')}", "--json")
    assert again.code != 0  # the server is gone: one readable line, no traceback
    assert "Traceback" not in again.stderr


def test_rss_live_polls_and_keeps_going_after_a_failed_poll(nexus: Nexus) -> None:
    feed = (PAYLOADS / "markets_wire_rss.xml").read_bytes()
    with scripted_server() as server:
        server.script(
            "/wire.xml",
            Reply(feed, content_type=RSS),
            Reply(b"down", status=500),
            Reply(feed, content_type=RSS),
        )
        report = nexus(
            "ingest", "rss", f"wire={server.url('/wire.xml')}",
            "--symbols", "SPY", "--live", "--poll-seconds", "0.2", "--max-polls", "3",
            "--max-retries", "0", "--no-score", "--json",
        )  # fmt: skip
    assert report.code == 0, report.stderr
    out = report.json()
    assert len(out["batches"]) == 3
    assert out["batches"][0]["news"] > 0
    assert out["batches"][1]["reasons"] == {"fetch_failed": 1}
    assert out["batches"][2]["news"] == 0  # nothing new the second time
    news, _ = _read_news(nexus)
    assert set(news["symbols"]) >= {"SPY"}
    assert (news["sentiment_model"] == "").all()  # --no-score


def test_newsapi_with_a_key_from_the_environment(nexus: Nexus) -> None:
    page = json.loads((PAYLOADS / "newsapi_everything_p1.json").read_text())
    page["totalResults"] = len(page["articles"])
    with scripted_server() as server:
        server.script("/v2/everything", Reply(json.dumps(page), content_type="application/json"))
        nexus.env["NEXUS_NEWSAPI_KEY"] = "test-key-123"
        report = nexus(
            "ingest", "newsapi", "--for", "AAPL=Apple", "--base-url", server.base, "--json"
        )
        missing = nexus.env.pop("NEXUS_NEWSAPI_KEY")
    assert report.code == 0, report.stderr
    assert report.json()["totals"]["news"] > 0
    assert server.requests[0].headers["x-api-key"] == missing
    assert "test-key-123" not in report.stdout + report.stderr

    no_key = nexus("ingest", "newsapi", "--for", "AAPL=Apple", "--base-url", server.base)
    assert no_key.code != 0
    assert "NEXUS_NEWSAPI_KEY" in no_key.stderr


def test_fred_vintages_are_stored_point_in_time(nexus: Nexus) -> None:
    from tests.unit.sources.test_fred import BAD_KEY, GDP_ROWS, PATH, _ok

    with scripted_server() as server:
        server.script(PATH, _ok(GDP_ROWS))
        nexus.env["NEXUS_FRED_API_KEY"] = "fred-key-456"
        report = nexus(
            "ingest", "fred", "GDP", "--base-url", server.base, "--release-time", "08:30",
            "--json",
        )  # fmt: skip
        server.script(PATH, BAD_KEY)
        refused = nexus("ingest", "fred", "GDP", "--base-url", server.base)
        nexus.env.pop("NEXUS_FRED_API_KEY")
    assert report.code == 0, report.stderr
    assert report.json()["totals"]["macro"] == 4
    from nexus.store import DuckDBStore

    with DuckDBStore(nexus.home / "nexus.duckdb") as store:
        known = store.asof_macro(
            [
                pd.Timestamp("2013-05-29 20:00", tz="UTC"),
                pd.Timestamp("2013-05-30 13:00", tz="UTC"),
            ],
            ["GDP"],
        )
    assert known["value"].tolist() == [15965.6, 15984.1]  # the revision from 08:30 ET on
    assert refused.code != 0
    assert "NEXUS_FRED_API_KEY" in refused.stderr
    assert "fred-key-456" not in refused.stderr + report.stdout
