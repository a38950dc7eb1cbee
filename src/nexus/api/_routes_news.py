"""Read-only routes of the context the models see: news headlines and macro series."""

from __future__ import annotations

import difflib
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from nexus.api._errors import ERROR_RESPONSES, HTTPError
from nexus.api._macro import known_at, macro_points, macro_summaries
from nexus.api._params import as_utc, point_in_time, require_symbols
from nexus.api._rows import iso, news_rows
from nexus.api._state import AppState, state_of
from nexus.client._schemas import MacroSeriesInfo, MacroSeriesPage, NewsInfo
from nexus.errors import UnknownSymbolError

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["news and macro"], responses=ERROR_RESPONSES)

State = Annotated[AppState, Depends(state_of)]
AsOf = Annotated[
    datetime | None,
    Query(
        description="What was known at this time (ISO 8601; default now): no value released "
        "after it is used."
    ),
]


@router.get("/news/{symbol}", response_model=list[NewsInfo])
def news(
    state: State,
    symbol: Annotated[str, Path(description="The symbol, e.g. SIM00.")],
    limit: Annotated[int, Query(ge=1, le=200, description="The newest N stories.")] = 20,
    before: Annotated[
        datetime | None,
        Query(description="Only stories available before this time (exclusive, ISO 8601)."),
    ] = None,
) -> list[dict[str, Any]]:
    """The newest ``limit`` stories mentioning ``symbol``, newest first (by ``available_at``)."""
    end = as_utc(before, "before")
    require_symbols(state, [symbol])
    frame = state.store.read_news([symbol], end=end)  # oldest first
    return news_rows(frame.tail(limit).iloc[::-1])


@router.get("/macro", response_model=list[MacroSeriesInfo])
def macro(state: State, as_of: AsOf = None) -> list[dict[str, Any]]:
    """Every macro series known at ``as_of``: its newest value, the change and its release."""
    when = point_in_time(as_of, "as_of")
    return macro_summaries(known_at(state.store.read_macro(), when))


@router.get("/macro/{series_id}", response_model=MacroSeriesPage)
def macro_series(
    state: State,
    series_id: Annotated[str, Path(description="The series, e.g. SIM_CPI.")],
    as_of: AsOf = None,
    limit: Annotated[
        int | None, Query(ge=1, le=10_000, description="Only the newest N periods.")
    ] = None,
) -> dict[str, Any]:
    """``series_id`` as known at ``as_of``: each period's newest vintage released by then.

    A period with nothing released by ``as_of`` is left out; each point lists the
    period's vintages released by then, oldest first.
    """
    when = point_in_time(as_of, "as_of")
    stored = state.store.read_macro([series_id])
    if stored.empty:
        raise _unknown_series(state, series_id)
    points = macro_points(known_at(stored, when))
    return {
        "series_id": series_id,
        "as_of": iso(when),
        "observations": points if limit is None else points[-limit:],
    }


def _unknown_series(state: AppState, series_id: str) -> HTTPError:
    """404 naming ``series_id``, the closest stored series and how to list them."""
    known = sorted(set(state.store.read_macro()["series_id"].astype(str)))
    close = difflib.get_close_matches(series_id, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return HTTPError(
        404,
        UnknownSymbolError(
            f"unknown macro series {series_id!r}",
            fix=f"{hint}GET /api/macro lists the macro series this server knows",
        ),
    )
