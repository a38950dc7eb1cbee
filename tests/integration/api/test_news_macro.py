"""The news and macro endpoints on a seeded DuckDB store, through a real uvicorn server.

The store holds the stories of ``_market.NEWS`` (``n1`` carried by two feeds) and the
macro vintages of ``_market.MACRO`` (TEST_CPI's November revised at ``REVISED_AT``).
The simulator may add stories and series of its own: the tests look at theirs only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pandas as pd
import pytest

from nexus.api import BackgroundServer
from nexus.store import DuckDBStore
from tests.integration.api._market import (
    REVISED_AT,
    SCORER,
    UNSAFE_HEADLINE,
    seed_registry,
)
from tests.integration.api.conftest import World, build

NEWS_FIELDS = {
    "id",
    "published_at",
    "available_at",
    "headline",
    "url",
    "sentiment",
    "sentiment_model",
    "sources",
    "symbols",
}
SECOND = pd.Timedelta(seconds=1)


@pytest.fixture(scope="module")
def world(store: DuckDBStore, tmp_path_factory: pytest.TempPathFactory) -> World:
    home = tmp_path_factory.mktemp("context") / "home"
    seed_registry(home)
    return build(store, home)


@pytest.fixture(scope="module")
def http(world: World) -> Iterator[httpx.Client]:
    with BackgroundServer(world.app) as server, httpx.Client(base_url=server.url) as client:
        yield client


def _get(http: httpx.Client, path: str, **params: Any) -> Any:
    response = http.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _mine(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The seeded stories (ids ``n1`` to ``n4``), in answer order."""
    return [r for r in rows if r["id"] in {"n1", "n2", "n3", "n4"}]


def _series(http: httpx.Client, **params: Any) -> dict[str, dict[str, Any]]:
    return {s["series_id"]: s for s in _get(http, "/api/macro", **params)}


def _points(http: httpx.Client, as_of: pd.Timestamp | str) -> dict[str, dict[str, Any]]:
    page = _get(http, "/api/macro/TEST_CPI", as_of=str(as_of))
    return {p["period"]: p for p in page["observations"]}


# -- news ----------------------------------------------------------------------------------


def test_news_are_the_newest_stories_of_the_symbol_newest_first(http: httpx.Client) -> None:
    rows = _get(http, "/api/news/SIM00")
    assert [r["id"] for r in rows[:3]] == ["n3", "n2", "n1"]
    assert all(set(r) == NEWS_FIELDS for r in rows)
    times = [pd.Timestamp(r["available_at"]) for r in rows]
    assert times == sorted(times, reverse=True)
    assert all("SIM00" in r["symbols"] for r in rows)


def test_a_story_carries_its_feeds_symbols_score_and_scorer(http: httpx.Client) -> None:
    n3, n2, n1 = _mine(_get(http, "/api/news/SIM00"))
    assert n1 == {
        "id": "n1",
        "published_at": "2025-01-03T21:04:00Z",
        "available_at": "2025-01-03T21:05:00Z",  # the earlier of its two copies
        "headline": "SIM00 beats estimates",
        "url": "https://news.example/n1",
        "sentiment": 0.8,
        "sentiment_model": SCORER,
        "sources": ["newsapi", "rss:reuters"],
        "symbols": ["SIM00", "SIM01"],
    }
    assert (n2["sentiment"], n2["sentiment_model"], n2["url"]) == (-0.6, SCORER, None)
    assert (n3["sentiment"], n3["sentiment_model"]) == (None, None)  # NaN is null
    assert n3["headline"] == UNSAFE_HEADLINE  # verbatim: escaping is the reader's job
    assert n3["symbols"] == ["SIM00", "SIM02"]


def test_a_story_a_second_feed_tied_to_the_symbol_is_listed(http: httpx.Client) -> None:
    assert [r["id"] for r in _mine(_get(http, "/api/news/SIM01"))] == ["n1", "n4"]


def test_news_limit_and_before_page_back(http: httpx.Client) -> None:
    assert [r["id"] for r in _get(http, "/api/news/SIM00", limit=1)] == ["n3"]
    page = _get(http, "/api/news/SIM00", limit=1, before="2025-01-03T21:20:00Z")
    assert [r["id"] for r in page] == ["n2"]  # before is exclusive
    page = _get(http, "/api/news/SIM00", limit=2, before=page[-1]["available_at"])
    assert page[0]["id"] == "n1"
    naive = _get(http, "/api/news/SIM00", limit=1, before="2025-01-03T21:10:00")
    assert [r["id"] for r in naive] == ["n1"]  # a time without a zone is UTC
    assert _get(http, "/api/news/SIM00", before="2024-12-31T00:00:00Z") == []


def test_news_of_an_unknown_symbol_is_404(http: httpx.Client) -> None:
    response = http.get("/api/news/SIM0")
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "UnknownSymbolError"
    assert "'SIM0'" in body["detail"]
    assert "GET /api/symbols" in body["detail"]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 201},
        {"limit": "many"},
        {"before": "yesterday"},
        {"before": "1066-10-14T00:00:00Z"},
    ],
)
def test_bad_news_parameters_are_422(http: httpx.Client, params: dict[str, Any]) -> None:
    response = http.get("/api/news/SIM00", params=params)
    assert response.status_code == 422, response.text
    assert "detail" in response.json()


# -- macro ---------------------------------------------------------------------------------


def test_macro_lists_each_series_newest_value_and_change(http: httpx.Client) -> None:
    series = _series(http)
    assert series["TEST_CPI"] == {
        "series_id": "TEST_CPI",
        "period": "2024-12-01",
        "value": 316.2,
        "released_at": "2025-02-03T13:30:00Z",
        "previous_period": "2024-11-01",
        "previous": 315.4,
        "change": 0.8,
        "periods": 2,
        "vintages": 4,
        "source": "test",
    }
    rate = series["TEST_RATE"]
    assert (rate["value"], rate["previous"], rate["change"], rate["periods"]) == (
        4.33,
        None,
        None,
        1,
    )
    ids = list(series)
    assert ids == sorted(ids)


def test_macro_list_as_of_a_time_uses_only_what_was_released_by_then(
    http: httpx.Client,
) -> None:
    cpi = _series(http, as_of=str(REVISED_AT - SECOND))["TEST_CPI"]
    assert (cpi["value"], cpi["previous"], cpi["change"], cpi["vintages"]) == (316.0, 315.0, 1.0, 2)
    assert "TEST_CPI" not in _series(http, as_of="2024-12-01T00:00:00Z")  # nothing out yet


def test_macro_series_is_point_in_time(http: httpx.Client) -> None:
    before = _points(http, REVISED_AT - SECOND)["2024-11-01"]
    assert (before["value"], before["released_at"]) == (315.0, "2024-12-12T13:30:00Z")
    assert [v["value"] for v in before["vintages"]] == [315.0]
    at = _points(http, REVISED_AT)["2024-11-01"]  # released at as_of: known
    assert (at["value"], at["released_at"]) == (315.4, "2025-01-13T13:30:00Z")
    assert [v["value"] for v in at["vintages"]] == [315.0, 315.4]
    now = _get(http, "/api/macro/TEST_CPI")
    assert [(p["period"], p["value"]) for p in now["observations"]] == [
        ("2024-11-01", 315.4),
        ("2024-12-01", 316.2),
    ]
    assert pd.Timestamp(now["as_of"]) > pd.Timestamp("2025-02-03T13:30:00Z")


@pytest.mark.parametrize(
    "as_of", ["2024-12-12T13:30:00Z", "2025-01-02T13:29:59Z", "2025-01-20T00:00:00Z", "2025-03-01"]
)
def test_macro_series_never_shows_a_later_vintage(http: httpx.Client, as_of: str) -> None:
    page = _get(http, "/api/macro/TEST_CPI", as_of=as_of)
    when = pd.Timestamp(as_of)
    when = when if when.tz else when.tz_localize("UTC")  # a time without a zone is UTC
    assert pd.Timestamp(page["as_of"]) == when
    for point in page["observations"]:
        released = [pd.Timestamp(v["released_at"]) for v in point["vintages"]]
        assert released == sorted(released)
        assert max(released) <= when
        assert (point["value"], point["released_at"]) == (
            point["vintages"][-1]["value"],
            point["vintages"][-1]["released_at"],
        )


def test_macro_series_before_its_first_release_is_empty(http: httpx.Client) -> None:
    page = _get(http, "/api/macro/TEST_CPI", as_of="2024-12-01T00:00:00Z")
    assert page["observations"] == []


def test_macro_series_limit_keeps_the_newest_periods(http: httpx.Client) -> None:
    page = _get(http, "/api/macro/TEST_CPI", limit=1)
    assert [p["period"] for p in page["observations"]] == ["2024-12-01"]


def test_an_unknown_macro_series_is_404_naming_it_and_how_to_list(http: httpx.Client) -> None:
    response = http.get("/api/macro/TEST_CP")
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "UnknownSymbolError"
    assert "'TEST_CP'" in body["detail"]
    assert "did you mean 'TEST_CPI'" in body["detail"]
    assert "GET /api/macro" in body["detail"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/macro", {"as_of": "last week"}),
        ("/api/macro", {"as_of": "1066-10-14T00:00:00Z"}),
        ("/api/macro/TEST_CPI", {"as_of": "2300-01-01T00:00:00Z"}),
        ("/api/macro/TEST_CPI", {"limit": 0}),
        ("/api/macro/TEST_CPI", {"limit": "all"}),
    ],
)
def test_bad_macro_parameters_are_422(
    http: httpx.Client, path: str, params: dict[str, Any]
) -> None:
    response = http.get(path, params=params)
    assert response.status_code == 422, response.text


def test_the_schema_declares_the_news_and_macro_models(http: httpx.Client) -> None:
    paths = _get(http, "/openapi.json")["paths"]

    def model(path: str) -> str:
        schema = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        return (schema.get("items") or schema)["$ref"].rsplit("/", 1)[-1]

    assert model("/api/news/{symbol}") == "NewsInfo"
    assert model("/api/macro") == "MacroSeriesInfo"
    assert model("/api/macro/{series_id}") == "MacroSeriesPage"
    assert "404" in paths["/api/macro/{series_id}"]["get"]["responses"]
