"""The ingest pipeline on a real DuckDB store, fed by small in-memory sources."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pandas as pd
import pytest

from nexus.bus import TOPIC_BARS, InProcessBus
from nexus.errors import NoUsableRowsError
from nexus.ingest import Ingestor
from nexus.sources import SourceBatch, rejects_frame
from nexus.store import DuckDBStore

from .test_validate import minute_bars


class ListSource:
    """A source that yields the batches it was given (the outside world, made small)."""

    name = "listsource"

    def __init__(self, batches: list[SourceBatch], interval: str = "1m") -> None:
        self.batches = batches
        self.interval = interval
        self.since_seen: dict | None = None

    def describe(self) -> dict:
        return {"interval": self.interval, "batches": len(self.batches)}

    def total(self) -> int:
        return len(self.batches)

    def fetch(self, *, since=None) -> Iterator[SourceBatch]:
        self.since_seen = dict(since or {})
        yield from self.batches

    async def stream(self, *, since=None):
        self.since_seen = dict(since or {})
        for batch in self.batches:
            await asyncio.sleep(0)
            yield batch


@pytest.fixture
def store(tmp_path) -> Iterator[DuckDBStore]:
    with DuckDBStore(tmp_path / "t.duckdb") as s:
        yield s


def dirty_batch() -> SourceBatch:
    bars = minute_bars(10)
    bars.loc[3, "volume"] = -1.0
    bars = pd.concat([bars, bars.iloc[[5]]], ignore_index=True)  # a duplicate
    rejects = rejects_frame(
        [
            {
                "symbol": "AAA",
                "reason": "bad_timestamp",
                "detail": "'yesterday' is not a time",
                "payload": json.dumps({"ts": "yesterday", "close": "1"}),
            }
        ]
    )
    return SourceBatch(label="AAA", bars=bars, rejects=rejects)


def test_good_rows_stored_bad_rows_quarantined_with_reasons(store: DuckDBStore) -> None:
    report = Ingestor(store).run(ListSource([dirty_batch()]))
    batch = report.batches[0]
    assert (batch.rows, batch.stored, batch.rejected) == (12, 9, 3)
    assert dict(batch.reasons) == {"bad_timestamp": 1, "duplicate": 1, "negative_volume": 1}
    assert store.series()["n_bars"].tolist() == [9]
    quarantined = store.read_quarantine()
    assert sorted(quarantined["reason"]) == ["bad_timestamp", "duplicate", "negative_volume"]
    assert set(quarantined["run_id"]) == {report.run_id}
    negative = quarantined[quarantined["reason"] == "negative_volume"].iloc[0]
    assert json.loads(negative["payload"])["volume"] == -1.0


def test_repeating_an_ingest_changes_nothing(store: DuckDBStore) -> None:
    Ingestor(store).run(ListSource([dirty_batch()]))
    before = (store.read_bars(["AAA"], "1m"), store.read_quarantine().drop(columns="run_id"))
    report = Ingestor(store).run(ListSource([dirty_batch()]))
    assert report.batches[0].stored == 0
    assert report.batches[0].already_stored == 9
    pd.testing.assert_frame_equal(store.read_bars(["AAA"], "1m"), before[0])
    pd.testing.assert_frame_equal(store.read_quarantine().drop(columns="run_id"), before[1])


def test_batch_with_no_usable_rows_writes_nothing(store: DuckDBStore) -> None:
    bars = minute_bars(3).assign(volume=-1.0)
    with pytest.raises(
        NoUsableRowsError, match=r"AAA: none of its 3 rows can be stored \(3 negative_volume"
    ):
        Ingestor(store).run(ListSource([SourceBatch(label="AAA", bars=bars)]))
    assert store.series().empty
    assert store.read_quarantine().empty
    assert store.ingest_log().empty


def test_failed_run_is_logged_after_earlier_batches_were_stored(store: DuckDBStore) -> None:
    good = SourceBatch(label="good", bars=minute_bars(3, "GOOD"))
    bad = SourceBatch(label="bad", bars=minute_bars(3, "BAD").assign(low=-1.0))
    with pytest.raises(NoUsableRowsError):
        Ingestor(store).run(ListSource([good, bad]))
    assert store.series()["symbol"].tolist() == ["GOOD"]
    log = store.ingest_log()
    assert log["status"].tolist() == ["failed"]
    assert "bad: none of its 3 rows" in log["message"].iloc[0]


def test_resampled_intervals_stored_in_the_same_batch(store: DuckDBStore) -> None:
    Ingestor(store, resample_to=["5m", "1d"]).run(ListSource([SourceBatch("A", minute_bars(10))]))
    counts = store.series().set_index("interval")["n_bars"].to_dict()
    # ten minutes make two whole 5m bars; the session's 1d bar is not complete, so not stored
    assert counts == {"1m": 10, "5m": 2}


def test_resume_hint_is_the_newest_stored_bar(store: DuckDBStore) -> None:
    Ingestor(store).run(ListSource([SourceBatch("A", minute_bars(10))]))
    source = ListSource([])
    Ingestor(store).run(source)
    assert source.since_seen == {"AAA": minute_bars(10)["ts"].iloc[-1]}


def test_symbols_calendar_is_used_for_session_checks(store: DuckDBStore) -> None:
    saturday = minute_bars(3, "EURUSD", start="2025-01-04 10:00")
    symbols = pd.DataFrame(
        {
            "symbol": ["EURUSD"],
            "calendar": ["24/7"],
            "kind": ["fx"],
            "description": ["euro"],
            "source": ["t"],
        }
    )
    report = Ingestor(store).run(ListSource([SourceBatch("fx", saturday, symbols=symbols)]))
    assert report.batches[0].stored == 3


def test_live_run_publishes_stored_bars_on_the_bus(store: DuckDBStore) -> None:
    bars = minute_bars(3)
    batches = [SourceBatch(label=str(t), bars=bars[bars["ts"] == t]) for t in bars["ts"]]

    async def run():
        bus = InProcessBus()
        events = bus.subscribe(TOPIC_BARS)
        report = await Ingestor(store, bus=bus).run_live(ListSource(batches))
        return report, [await events.get() for _ in range(3)]

    report, events = asyncio.run(run())
    assert report.total("stored") == 3
    assert [e.ts for e in events] == [t.to_pydatetime() for t in bars["ts"]]
    assert [e.bars[0].close for e in events] == bars["close"].tolist()
    assert store.ingest_log()["status"].tolist() == ["ok"]


def test_live_run_quarantines_bad_bars_publishes_only_good_ones_and_goes_on(
    store: DuckDBStore,
) -> None:
    bars = minute_bars(3)
    bars.loc[1, "low"] = -5.0  # the second bar time is all bad
    batches = [SourceBatch(label=str(t), bars=bars[bars["ts"] == t]) for t in bars["ts"]]

    async def run():
        bus = InProcessBus()
        events = bus.subscribe(TOPIC_BARS)
        report = await Ingestor(store, bus=bus).run_live(ListSource(batches))
        return report, [await events.get() for _ in range(events.pending())]

    report, events = asyncio.run(run())
    assert [b.stored for b in report.batches] == [1, 0, 1]
    assert [e.ts for e in events] == [bars["ts"].iloc[0], bars["ts"].iloc[2]]
    assert store.read_quarantine()["reason"].tolist() == ["non_positive_price"]


def _story(story_id: str, source: str, headline: str, sentiment: float = float("nan")) -> dict:
    at = pd.Timestamp("2024-03-01 14:30", tz="UTC")
    return {
        "id": story_id,
        "published_at": at,
        "available_at": at + pd.Timedelta(minutes=1),
        "headline": headline,
        "symbols": "AAA",
        "body": "",
        "url": "",
        "sentiment": sentiment,
        "source": source,
    }


def test_news_only_batches_are_scored_merged_and_their_rejects_quarantined(
    store: DuckDBStore,
) -> None:
    from nexus.features import LexiconSentiment

    scorer = LexiconSentiment()
    rejects = rejects_frame([{"reason": "no_symbol", "detail": "no ticker", "payload": "{}"}])
    feeds = [
        SourceBatch(
            label="feed a",
            news=pd.DataFrame(
                [
                    _story("s1", "rss:a", "AAA beats estimates and raises guidance"),
                    _story("s2", "rss:a", "AAA misses estimates; shares plunge"),
                    _story("s3", "rss:a", "Vendor-scored item", sentiment=-0.25),
                ]
            ),
            rejects=rejects,
        ),
        SourceBatch(label="feed b", news=pd.DataFrame([_story("s1", "rss:b", "AAA beats")])),
    ]

    report = Ingestor(store, scorer=scorer).run(ListSource(feeds))

    assert [(b.news, b.rejected) for b in report.batches] == [(3, 1), (0, 0)]
    stored = store.read_news().set_index("id")
    assert stored.loc["s1", "source"] == "rss:a,rss:b"
    assert stored.loc["s1", "sentiment"] > 0.3
    assert stored.loc["s2", "sentiment"] < -0.3
    assert stored.loc["s1", "sentiment_model"] == f"{scorer.name}@{scorer.version}"
    assert (stored.loc["s3", "sentiment"], stored.loc["s3", "sentiment_model"]) == (-0.25, "")
    assert store.read_quarantine()["reason"].tolist() == ["no_symbol"]


def test_a_news_batch_of_only_rejects_is_quarantined_not_refused(store: DuckDBStore) -> None:
    rejects = rejects_frame([{"reason": "malformed_feed", "detail": "not XML", "payload": "<"}])
    report = Ingestor(store).run(ListSource([SourceBatch(label="feed", rejects=rejects)]))
    assert report.batches[0].rejected == 1
    assert store.read_quarantine()["reason"].tolist() == ["malformed_feed"]
