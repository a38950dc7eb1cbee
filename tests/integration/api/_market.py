"""A small simulated market in a DuckDB store, models in a registry, reports: the API's world."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from nexus.domain import (
    Action,
    Bar,
    Prediction,
    Recommendation,
    macro_frame,
    news_frame,
    predictions_frame,
    recommendations_frame,
)
from nexus.ingest import Ingestor
from nexus.registry import REQUIRED_FILES, Registry
from nexus.sources.simulator import SimulatorConfig, SimulatorSource
from nexus.store import DuckDBStore, WriteBatch

SYMBOLS = ("SIM00", "SIM01", "SIM02")
SLOTS = ("lstm", "transformer")
SIGNAL_TIMES = 4
"""Bar times with stored predictions and recommendations (the newest ones)."""
ACTIONS = (Action.BUY, Action.HOLD, Action.SELL)


def seed_store(path: Path) -> DuckDBStore:
    """3 simulated symbols, 2 sessions of 1m bars, and signals for the newest bar times."""
    store = DuckDBStore(path)
    config = SimulatorConfig(symbols=len(SYMBOLS), sectors=1, sessions=2, interval="1m", seed=3)
    Ingestor(store).run(SimulatorSource(config))
    times = sorted(store.read_bars(list(SYMBOLS), "1m")["ts"].unique())[-SIGNAL_TIMES:]
    recs = [recommendation(s, ts, i) for i, ts in enumerate(times) for s in SYMBOLS]
    store.write(WriteBatch(**signal_frames(recs)))
    seed_context(store)
    return store


SCORER = "finbert@1.0"
UNSAFE_HEADLINE = '<img src=x onerror="alert(1)"> SIM00 & SIM02 "merge" talks'


def _story(story_id: str, minute: int, headline: str, symbols: str, **fields: object) -> dict:
    """A story made available at 21:MM UTC on 2025-01-03, after the simulated market closed."""
    at = pd.Timestamp(f"2025-01-03T21:{minute:02d}:00Z")
    return {
        "id": story_id,
        "published_at": at - pd.Timedelta(minutes=1),
        "available_at": at,
        "headline": headline,
        "symbols": symbols,
        "body": f"{headline}. More text.",
        "url": "",
        "sentiment": float("nan"),
        "sentiment_model": "",
        "source": "rss:wire",
        **fields,
    }


NEWS = (
    _story(
        "n1",
        5,
        "SIM00 beats estimates",
        "SIM00",
        url="https://news.example/n1",
        sentiment=0.8,
        sentiment_model=SCORER,
        source="rss:reuters",
    ),
    _story("n2", 10, "SIM00 faces a probe", "SIM00", sentiment=-0.6, sentiment_model=SCORER),
    _story("n3", 20, UNSAFE_HEADLINE, "SIM00,SIM02"),  # unscored
    _story("n4", 1, "SIM01 opens a new plant", "SIM01", sentiment=0.1, sentiment_model=SCORER),
)
"""Stories for the news endpoints; ``n1`` is carried again by ``newsapi``, mentioning SIM01."""
NEWS_AGAIN = _story(
    "n1", 7, "SIM00 beats estimates", "SIM01", url="https://news.example/n1", source="newsapi"
)


def _vintage(series: str, period: str, released: str, value: float) -> dict:
    return {
        "series_id": series,
        "period": pd.Timestamp(period).date(),
        "realtime_start": pd.Timestamp(released, tz="UTC"),
        "value": value,
        "source": "test",
    }


MACRO = (
    _vintage("TEST_CPI", "2024-11-01", "2024-12-12T13:30", 315.0),
    _vintage("TEST_CPI", "2024-11-01", "2025-01-13T13:30", 315.4),  # the revision
    _vintage("TEST_CPI", "2024-12-01", "2025-01-02T13:30", 316.0),
    _vintage("TEST_CPI", "2024-12-01", "2025-02-03T13:30", 316.2),
    _vintage("TEST_RATE", "2024-12-01", "2025-01-02T14:00", 4.33),
)
"""Macro vintages: TEST_CPI's November is revised on 2025-01-13 13:30 UTC."""
REVISED_AT = pd.Timestamp("2025-01-13T13:30:00Z")


def seed_context(store: DuckDBStore) -> None:
    """Write :data:`NEWS` (``n1`` twice, from two feeds) and :data:`MACRO` into ``store``."""
    store.write(
        WriteBatch(news=news_frame(pd.DataFrame(NEWS)), macro=macro_frame(pd.DataFrame(MACRO)))
    )
    store.write(WriteBatch(news=news_frame(pd.DataFrame([NEWS_AGAIN]))))


def prediction(symbol: str, ts: datetime, slot: str, p_up: float) -> Prediction:
    p_down = round((1.0 - p_up) / 2, 6)
    return Prediction(
        symbol=symbol,
        interval="1m",
        ts=pd.Timestamp(ts).to_pydatetime(),
        model=slot,
        version=f"{slot}-v1",
        p_down=p_down,
        p_neutral=1.0 - p_up - p_down,
        p_up=p_up,
        threshold=0.45,
    )


def recommendation(symbol: str, ts: datetime, i: int) -> Recommendation:
    """A recommendation whose action cycles BUY, HOLD, SELL with the bar time."""
    action = ACTIONS[i % len(ACTIONS)]
    preds = tuple(prediction(symbol, ts, slot, 0.5 + 0.01 * i) for slot in SLOTS)
    return Recommendation(
        symbol=symbol,
        interval="1m",
        ts=pd.Timestamp(ts).to_pydatetime(),
        action=action,
        confidence=0.5 + 0.01 * i,
        predictions=preds,
        reasons=(f"both models say {action}", "risk within limits"),
        risk={"exposure": 0.1, "drawdown": 0.0},
    )


def signal_frames(recs: list[Recommendation]) -> dict[str, pd.DataFrame]:
    """The predictions and recommendations frames of ``recs`` (for ``WriteBatch``)."""
    preds = [p.to_dict() for r in recs for p in r.predictions]
    rows = []
    for r in recs:
        row = r.to_dict()
        row["reasons"], row["risk"] = json.dumps(row["reasons"]), json.dumps(row["risk"])
        del row["predictions"]
        rows.append(row)
    return {
        "predictions": predictions_frame(pd.DataFrame(preds)),
        "recommendations": recommendations_frame(pd.DataFrame(rows)),
    }


def bar(symbol: str, ts: datetime, close: float = 100.0) -> Bar:
    """A live bar for bus events."""
    return Bar(
        symbol=symbol,
        interval="1m",
        ts=ts,
        open=close,
        high=close + 1,
        low=close - 1,
        close=close,
        volume=1000.0,
        source="simulator",
    )


def _fill(model: str, macro_f1: float):
    def fill(folder: Path) -> None:
        for name in REQUIRED_FILES:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text("{}")
        (folder / "model" / "model.json").write_text(json.dumps({"model": model}))
        (folder / "metrics.json").write_text(json.dumps({"summary": {"macro_f1": macro_f1}}))

    return fill


def seed_registry(home: Path) -> Registry:
    """Two versions per slot; the second is champion, the first previous (rollback works)."""
    registry = Registry(home, slots=SLOTS)
    for slot in SLOTS:
        first = registry.add(slot, _fill("lightgbm", 0.40))
        second = registry.add(slot, _fill("lightgbm", 0.42))
        registry.promote(slot, first, reason="seed", figures={"macro_f1": 0.40})
        registry.promote(slot, second, reason="seed", figures={"macro_f1": 0.42})
    return registry


def seed_reports(home: Path) -> Path:
    """One report under ``home/reports`` and a secret beside ``home``."""
    reports = home / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "backtest-demo.html").write_text("<html><body>demo report</body></html>")
    (home.parent / "secret.html").write_text("secret")
    (reports / "notes.txt").write_text("not a report")
    return reports


def now() -> datetime:
    return datetime.now(UTC)
