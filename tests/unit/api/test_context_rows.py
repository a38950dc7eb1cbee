"""News frames as story dicts, and macro vintages as they were known at a time."""

from __future__ import annotations

from datetime import date

import pandas as pd

from nexus.api._macro import known_at, macro_points, macro_summaries
from nexus.api._rows import news_rows
from nexus.domain import macro_frame, news_frame


def _macro() -> pd.DataFrame:
    rows = [
        ("X", "2024-11-01", "2024-12-12T13:30", 100.0),
        ("X", "2024-11-01", "2025-01-13T13:30", 101.0),  # the revision
        ("X", "2024-12-01", "2025-01-02T13:30", 102.5),
        ("A", "2024-12-01", "2025-01-02T14:00", float("nan")),
    ]
    frame = pd.DataFrame(rows, columns=["series_id", "period", "realtime_start", "value"])
    return macro_frame(frame.assign(source="test", realtime_start=lambda f: f.realtime_start + "Z"))


def test_known_at_keeps_the_vintages_released_by_then_inclusive() -> None:
    at = pd.Timestamp("2025-01-13T13:30Z")
    assert known_at(_macro(), at - pd.Timedelta(seconds=1))["value"].dropna().tolist() == [
        100.0,
        102.5,
    ]
    assert known_at(_macro(), at)["value"].dropna().tolist() == [100.0, 101.0, 102.5]
    assert known_at(_macro(), pd.Timestamp("2024-01-01", tz="UTC")).empty


def test_points_are_each_periods_newest_vintage_with_its_history() -> None:
    known = known_at(_macro(), pd.Timestamp("2026-01-01", tz="UTC"))
    points = macro_points(known[known["series_id"] == "X"])
    assert [(p["period"], p["value"]) for p in points] == [
        (date(2024, 11, 1), 101.0),
        (date(2024, 12, 1), 102.5),
    ]
    assert [v["value"] for v in points[0]["vintages"]] == [100.0, 101.0]
    assert points[0]["released_at"] == "2025-01-13T13:30:00+00:00"


def test_summaries_hold_the_change_and_counts_and_null_for_nan() -> None:
    summaries = macro_summaries(known_at(_macro(), pd.Timestamp("2026-01-01", tz="UTC")))
    assert [s["series_id"] for s in summaries] == ["A", "X"]
    a, x = summaries
    assert (a["value"], a["previous"], a["change"], a["periods"]) == (None, None, None, 1)
    assert (x["value"], x["previous"], x["change"]) == (102.5, 101.0, 1.5)
    assert (x["periods"], x["vintages"], x["previous_period"]) == (2, 3, date(2024, 11, 1))
    early = macro_summaries(known_at(_macro(), pd.Timestamp("2025-01-05", tz="UTC")))
    assert [(s["series_id"], s["change"]) for s in early] == [("A", None), ("X", 2.5)]


def test_news_rows_split_lists_and_null_what_is_missing() -> None:
    frame = news_frame(
        pd.DataFrame(
            {
                "id": ["s1"],
                "published_at": [pd.Timestamp("2025-01-03T21:00Z")],
                "available_at": [pd.Timestamp("2025-01-03T21:01Z")],
                "headline": ["<b>A</b> rallies"],
                "symbols": ["A, B,"],
                "body": ["text"],
                "url": [""],
                "sentiment": [float("nan")],
                "source": ["rss:a,newsapi"],
            }
        )
    )
    [row] = news_rows(frame)
    assert row == {
        "id": "s1",
        "published_at": "2025-01-03T21:00:00+00:00",
        "available_at": "2025-01-03T21:01:00+00:00",
        "headline": "<b>A</b> rallies",
        "url": None,
        "sentiment": None,
        "sentiment_model": None,
        "sources": ["rss:a", "newsapi"],
        "symbols": ["A", "B"],
    }
