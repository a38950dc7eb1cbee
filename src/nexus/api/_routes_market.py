"""Read-only market routes: symbols, bars, predictions and recommendations."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Path, Query

from nexus.api._errors import ERROR_RESPONSES
from nexus.api._params import require_symbols, split_symbols, time_range
from nexus.api._rows import bar_rows, prediction_rows, recommendation_rows
from nexus.api._state import AppState, state_of
from nexus.client._schemas import BarsPage, PredictionInfo, RecommendationInfo, SymbolInfo
from nexus.domain import Action, Interval

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["market"], responses=ERROR_RESPONSES)

State = Annotated[AppState, Depends(state_of)]
SymbolsQuery = Annotated[
    str | None,
    Query(
        max_length=20_000,
        description="Comma-separated symbols, e.g. SIM00,SIM01; omitted: every symbol.",
    ),
]
IntervalQuery = Annotated[Interval | None, Query(description="Only this bar interval.")]
Start = Annotated[datetime | None, Query(description="From this time (inclusive, ISO 8601).")]
End = Annotated[datetime | None, Query(description="Until this time (exclusive, ISO 8601).")]


@router.get("/symbols", response_model=list[SymbolInfo])
def symbols(state: State) -> list[dict[str, Any]]:
    """Every instrument the store knows, with its stored bar intervals."""
    table = state.store.symbols()
    series = state.store.series()
    intervals: dict[str, list[str]] = {}
    sources: dict[str, str] = {}
    order = {i.value: n for n, i in enumerate(Interval)}
    for row in series.itertuples(index=False):
        intervals.setdefault(str(row.symbol), []).append(str(row.interval))
        sources.setdefault(str(row.symbol), str(row.source))
    rows = {str(r.symbol): r._asdict() for r in table.itertuples(index=False)}
    for symbol in intervals.keys() - rows.keys():  # bars without an instrument row
        rows[symbol] = {
            "symbol": symbol,
            "calendar": "",
            "kind": "",
            "description": "",
            "source": sources[symbol],
        }
    out = []
    for symbol in sorted(rows):
        row = {k: "" if pd.isna(v) else str(v) for k, v in rows[symbol].items()}
        stored = sorted(intervals.get(symbol, []), key=lambda i: order.get(i, len(order)))
        out.append({**row, "simulated": row["source"] == "simulator", "intervals": stored})
    return out


@router.get("/bars/{symbol}", response_model=BarsPage)
def bars(
    state: State,
    symbol: Annotated[str, Path(description="The symbol, e.g. SIM00.")],
    interval: Annotated[Interval, Query(description="Bar interval.")] = Interval.M1,
    start: Start = None,
    end: End = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="The newest N bars.")] = 500,
    adjust: Annotated[
        Literal["none", "splits", "all"],
        Query(description="Raw prices, split-adjusted, or split- and dividend-adjusted."),
    ] = "none",
) -> dict[str, Any]:
    """The newest ``limit`` bars of ``symbol`` with ``start <= ts < end``, oldest first."""
    lo, hi = time_range(start, end)
    require_symbols(state, [symbol])
    store = state.store
    if lo is None and hi is None:
        frame = store.last_bars([symbol], interval, limit)
        if adjust != "none" and not frame.empty:
            frame = store.read_bars([symbol], interval, frame["ts"].iloc[0], adjust=adjust)
    else:
        frame = store.read_bars([symbol], interval, lo, hi, adjust=adjust)
    frame = frame.tail(limit)
    return {
        "symbol": symbol,
        "interval": interval.value,
        "adjust": adjust,
        "bars": bar_rows(frame),
    }


def _chosen(state: AppState, text: str | None) -> list[str] | None:
    chosen = split_symbols(text)
    if chosen is not None:
        require_symbols(state, chosen)
    return chosen


def _value(interval: Interval | None) -> str | None:
    return None if interval is None else interval.value


@router.get("/predictions/latest", response_model=list[PredictionInfo])
def latest_predictions(
    state: State, symbols: SymbolsQuery = None, interval: IntervalQuery = None
) -> list[dict[str, Any]]:
    """Each symbol's newest prediction of every model slot."""
    chosen = _chosen(state, symbols)
    frame = state.store.latest_predictions(chosen, _value(interval))
    return prediction_rows(frame)  # the store sorts by symbol, then model


@router.get("/recommendations/latest", response_model=list[RecommendationInfo])
def latest_recommendations(
    state: State, symbols: SymbolsQuery = None, interval: IntervalQuery = None
) -> list[dict[str, Any]]:
    """Each symbol's newest recommendation, with both models' predictions."""
    chosen = _chosen(state, symbols)
    recs = state.store.latest_recommendations(chosen, _value(interval))
    predictions = state.store.latest_predictions(chosen, _value(interval))
    return recommendation_rows(recs, predictions)  # the store sorts by symbol


@router.get("/recommendations", response_model=list[RecommendationInfo])
def recommendations(
    state: State,
    symbol: Annotated[str | None, Query(description="Only this symbol.")] = None,
    interval: IntervalQuery = None,
    start: Start = None,
    end: End = None,
    action: Annotated[Action | None, Query(description="Only BUY, SELL or HOLD.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="The newest N.")] = 100,
) -> list[dict[str, Any]]:
    """Recommendation history, newest first."""
    lo, hi = time_range(start, end)
    chosen = None if symbol is None else [symbol]
    if chosen is not None:
        require_symbols(state, chosen)
    store = state.store
    recs = store.read_recommendations(
        chosen,
        _value(interval),
        start=lo,
        end=hi,
        action=None if action is None else action.value,
        limit=limit,
    )
    if recs.empty:
        return []
    first, last = recs["ts"].min(), recs["ts"].max()
    predictions = store.read_predictions(
        sorted(set(recs["symbol"])) if chosen is None else chosen,
        _value(interval),
        start=first,
        end=last + timedelta(microseconds=1),
    )
    rows = recommendation_rows(recs, predictions)
    rows.reverse()
    return rows
