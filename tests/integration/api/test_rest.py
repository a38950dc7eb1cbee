"""The REST contract on a seeded DuckDB store, through a real uvicorn server."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pandas as pd
import pytest

from nexus.api import BackgroundServer
from nexus.store import DuckDBStore
from tests.integration.api._market import (
    SIGNAL_TIMES,
    SLOTS,
    SYMBOLS,
    seed_registry,
    seed_reports,
)
from tests.integration.api.conftest import World, build

# nothing here changes the registry: one app and one server serve the whole module


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("rest") / "home"
    seed_registry(home)
    seed_reports(home)
    return home


@pytest.fixture(scope="module")
def world(store: DuckDBStore, home: Path) -> World:
    return build(store, home)


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[BackgroundServer]:
    with BackgroundServer(world.app) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: BackgroundServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


def test_symbols_lists_the_simulated_market(http: httpx.Client) -> None:
    body = http.get("/api/symbols").json()
    assert [s["symbol"] for s in body] == list(SYMBOLS)
    first = body[0]
    assert first["simulated"] is True
    assert first["source"] == "simulator"
    assert first["intervals"] == ["1m"]
    assert first["calendar"] == "XNYS"


def test_bars_are_the_newest_limit_oldest_first(http: httpx.Client, store: DuckDBStore) -> None:
    body = http.get("/api/bars/SIM01", params={"limit": 5}).json()
    assert (body["symbol"], body["interval"], body["adjust"]) == ("SIM01", "1m", "none")
    stored = store.read_bars(["SIM01"], "1m").tail(5)
    got = pd.to_datetime([b["ts"] for b in body["bars"]], utc=True)
    assert list(got) == list(stored["ts"])
    assert [b["close"] for b in body["bars"]] == pytest.approx(list(stored["close"]))
    assert set(body["bars"][0]) == {"ts", "open", "high", "low", "close", "volume"}


def test_bars_in_a_range(http: httpx.Client, store: DuckDBStore) -> None:
    stored = store.read_bars(["SIM00"], "1m")
    start, end = stored["ts"].iloc[10], stored["ts"].iloc[20]
    params = {"start": start.isoformat(), "end": end.isoformat(), "limit": 500}
    bars = http.get("/api/bars/SIM00", params=params).json()["bars"]
    assert len(bars) == 10
    assert pd.Timestamp(bars[0]["ts"]) == start
    params["limit"] = 3  # the newest 3 of the range
    bars = http.get("/api/bars/SIM00", params=params).json()["bars"]
    assert [pd.Timestamp(b["ts"]) for b in bars] == list(stored["ts"].iloc[17:20])
    naive = {"start": start.tz_localize(None).isoformat(), "end": end.tz_localize(None).isoformat()}
    assert len(http.get("/api/bars/SIM00", params=naive).json()["bars"]) == 10


@pytest.mark.parametrize("adjust", ["none", "splits", "all"])
def test_bars_adjusted(http: httpx.Client, store: DuckDBStore, adjust: str) -> None:
    body = http.get("/api/bars/SIM02", params={"adjust": adjust, "limit": 3}).json()
    stored = store.read_bars(["SIM02"], "1m", adjust=adjust).tail(3)
    assert body["adjust"] == adjust
    assert [b["close"] for b in body["bars"]] == pytest.approx(list(stored["close"]))


def test_unknown_symbol_is_404_naming_it_and_the_fix(http: httpx.Client) -> None:
    response = http.get("/api/bars/SIM0")
    assert response.status_code == 404
    body = response.json()
    assert "'SIM0'" in body["detail"]
    assert "GET /api/symbols" in body["detail"]
    assert body["error"] == "UnknownSymbolError"
    response = http.get("/api/predictions/latest", params={"symbols": "SIM00,NOPE"})
    assert response.status_code == 404
    assert "'NOPE'" in response.json()["detail"]
    assert http.get("/api/recommendations", params={"symbol": "NOPE"}).status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"interval": "7m"},
        {"adjust": "sideways"},
        {"limit": 0},
        {"limit": 10_001},
        {"limit": "many"},
        {"start": "yesterday"},
        {"start": "2025-01-03T00:00:00Z", "end": "2025-01-02T00:00:00Z"},
        {"start": "1066-10-14T00:00:00Z"},
    ],
)
def test_malformed_parameters_are_422(http: httpx.Client, params: dict) -> None:
    response = http.get("/api/bars/SIM00", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


def test_start_after_end_says_so(http: httpx.Client) -> None:
    params = {"start": "2025-01-03T00:00:00Z", "end": "2025-01-02T00:00:00Z"}
    detail = http.get("/api/bars/SIM00", params=params).json()["detail"]
    assert "is not before end" in detail


def test_latest_predictions(http: httpx.Client, store: DuckDBStore) -> None:
    every = http.get("/api/predictions/latest").json()
    assert len(every) == len(SYMBOLS) * len(SLOTS)
    newest = store.read_bars(list(SYMBOLS), "1m")["ts"].max()
    assert {pd.Timestamp(p["ts"]) for p in every} == {newest}
    one = http.get("/api/predictions/latest", params={"symbols": "SIM01"}).json()
    assert [(p["symbol"], p["model"]) for p in one] == [("SIM01", s) for s in SLOTS]
    assert set(one[0]) == {
        "symbol",
        "interval",
        "ts",
        "model",
        "version",
        "p_down",
        "p_neutral",
        "p_up",
        "threshold",
    }
    assert http.get("/api/predictions/latest", params={"interval": "5m"}).json() == []


def test_latest_recommendations_carry_both_predictions(http: httpx.Client) -> None:
    recs = http.get("/api/recommendations/latest", params={"symbols": "SIM00,SIM02"}).json()
    assert [r["symbol"] for r in recs] == ["SIM00", "SIM02"]
    rec = recs[0]
    assert rec["action"] in ("BUY", "SELL", "HOLD")
    assert [p["model"] for p in rec["predictions"]] == list(SLOTS)
    assert all(p["ts"] == rec["ts"] for p in rec["predictions"])
    assert rec["reasons"]
    assert rec["risk"] == {"exposure": 0.1, "drawdown": 0.0}
    assert rec["vetoed"] is False


def test_recommendation_history_newest_first(http: httpx.Client) -> None:
    history = http.get("/api/recommendations", params={"symbol": "SIM00"}).json()
    assert len(history) == SIGNAL_TIMES
    times = [pd.Timestamp(r["ts"]) for r in history]
    assert times == sorted(times, reverse=True)
    assert all(len(r["predictions"]) == len(SLOTS) for r in history)
    two = http.get("/api/recommendations", params={"limit": 2}).json()
    assert [pd.Timestamp(r["ts"]) for r in two] == [times[0]] * 2
    buys = http.get("/api/recommendations", params={"action": "BUY"}).json()
    assert buys
    assert {r["action"] for r in buys} == {"BUY"}
    assert http.get("/api/recommendations", params={"action": "MAYBE"}).status_code == 422
    later = {"start": history[0]["ts"]}
    assert len(http.get("/api/recommendations", params=later).json()) == len(SYMBOLS)


def test_models_list_champions_versions_and_validation(http: httpx.Client, world: World) -> None:
    slots = http.get("/api/models").json()["slots"]
    assert [s["slot"] for s in slots] == list(SLOTS)
    lstm = slots[0]
    assert lstm["champion"] == world.registry.champion("lstm")
    assert lstm["previous"] == world.registry.previous("lstm")
    roles = {v["version"]: v["role"] for v in lstm["versions"]}
    assert roles == {lstm["champion"]: "champion", lstm["previous"]: "previous"}
    assert lstm["versions"][0]["metrics"] == {"macro_f1": 0.4}
    assert lstm["versions"][0]["model"] == "lightgbm"
    assert lstm["last_validation"]["version"] == lstm["champion"]
    assert lstm["last_validation"]["figures"] == {"macro_f1": 0.42}
    newest = max(v["created"] for v in lstm["versions"])
    assert lstm["last_retrain"] == newest
    assert lstm["drift"] == "unknown"
    assert "history" not in lstm


def test_one_model_slot_with_history(http: httpx.Client) -> None:
    slot = http.get("/api/models/transformer").json()
    assert [d["action"] for d in slot["history"]] == ["promote", "promote"]
    response = http.get("/api/models/gru")
    assert response.status_code == 404
    assert "GET /api/models" in response.json()["detail"]


def test_reports_are_listed_and_served(http: httpx.Client) -> None:
    reports = http.get("/api/reports").json()
    assert [r["name"] for r in reports] == ["backtest-demo.html"]
    assert reports[0]["url"] == "/reports/backtest-demo.html"
    page = http.get(reports[0]["url"])
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "demo report" in page.text


@pytest.mark.parametrize(
    "path",
    [
        "/reports/..%2Fsecret.html",
        "/reports/%2E%2E%2Fsecret.html",
        "/reports/%2E%2E",
        "/reports/notes.txt",
        "/reports/missing.html",
        "/reports/link.html",
        "/reports/.hidden.html",
    ],
)
def test_reports_never_leave_their_folder(http: httpx.Client, world: World, path: str) -> None:
    reports = world.settings.home / "reports"
    (reports / ".hidden.html").write_text("hidden")
    if not (reports / "link.html").is_symlink():
        os.symlink(world.settings.home.parent / "secret.html", reports / "link.html")
    response = http.get(path)
    assert response.status_code == 404
    assert "secret" not in response.text


def test_health_and_ready_without_an_engine(http: httpx.Client) -> None:
    health = http.get("/api/health").json()
    assert health["status"] == "ok"
    components = health["components"]
    assert set(components) == {"store", "bus", "registry", "engine", "monitor"}
    assert components["store"]["info"]["backend"] == "duckdb"
    assert components["engine"]["status"] == "absent"
    assert components["monitor"]["status"] == "absent"  # no drift check stored yet
    assert components["bus"]["info"]["stream"]["running"] is True
    assert set(components["registry"]["info"]["champions"]) == set(SLOTS)
    assert http.get("/api/ready").json() == {"ready": True, "reasons": []}


def _served(world: World, path: str) -> httpx.Response:
    with BackgroundServer(world.app) as server:
        return httpx.get(server.url + path)


def test_ready_needs_the_engines_champions(store: DuckDBStore, home) -> None:
    waiting = {"state": "waiting for champions", "slots": list(SLOTS), "champions": []}
    response = _served(build(store, home, engine_status=lambda: waiting), "/api/ready")
    assert response.status_code == 503
    assert "no champion for lstm, transformer" in response.json()["reasons"][0]
    half = {"slots": list(SLOTS), "champions": [{"slot": "lstm", "version": "v1"}]}
    response = _served(build(store, home, engine_status=lambda: half), "/api/ready")
    assert response.status_code == 503
    assert "transformer" in response.json()["reasons"][0]
    both = {"state": "running", "champions": {"lstm": "v1", "transformer": "v2"}}
    world = build(store, home, engine_status=lambda: both)
    assert _served(world, "/api/ready").status_code == 200
    engine = _served(world, "/api/health").json()["components"]["engine"]
    assert engine["status"] == "ok"
    assert engine["info"]["champions"] == both["champions"]


def test_a_failing_engine_degrades_health(store: DuckDBStore, home) -> None:
    def broken() -> dict:
        raise RuntimeError("engine lost its models")

    health = _served(build(store, home, engine_status=broken), "/api/health").json()
    assert health["status"] == "degraded"
    assert health["components"]["engine"] == {
        "status": "error",
        "detail": "engine lost its models",
        "info": {},
    }


def test_metrics_expose_the_app_registry(http: httpx.Client) -> None:
    http.get("/api/bars/SIM00", params={"limit": 1})
    text = http.get("/metrics").text
    assert "nexus_ws_clients 0.0" in text
    assert "nexus_ws_messages_sent_total" in text
    assert "nexus_ws_messages_dropped_total" in text
    assert 'route="/api/bars/{symbol}",status="200"' in text


def test_cors_follows_the_settings(store: DuckDBStore, home) -> None:
    world = build(store, home, cors_origins=("http://dash.example",))
    with BackgroundServer(world.app) as server:
        preflight = httpx.options(
            server.url + "/api/models/lstm/promote",
            headers={
                "Origin": "http://dash.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "X-API-Key",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "http://dash.example"
        other = httpx.get(server.url + "/api/symbols", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_no_cors_headers_by_default(http: httpx.Client) -> None:
    response = http.get("/api/symbols", headers={"Origin": "http://dash.example"})
    assert "access-control-allow-origin" not in response.headers


def test_the_dashboard_and_plotly_are_served(http: httpx.Client) -> None:
    index = http.get("/")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    plotly = http.get("/static/plotly.min.js")
    assert plotly.status_code == 200
    assert "plotly" in plotly.text[:500].lower()
    assert http.get("/static/nothing-here.js").status_code == 404


def test_openapi_schema_names_every_route(http: httpx.Client) -> None:
    schema = http.get("/openapi.json").json()
    paths = set(schema["paths"])
    assert {
        "/api/symbols",
        "/api/bars/{symbol}",
        "/api/predictions/latest",
        "/api/recommendations/latest",
        "/api/recommendations",
        "/api/models",
        "/api/models/{slot}",
        "/api/models/{slot}/promote",
        "/api/models/{slot}/rollback",
        "/api/retrain",
        "/api/jobs/{job_id}",
        "/api/reports",
        "/reports/{name}",
        "/api/health",
        "/api/ready",
        "/metrics",
    } <= paths
    assert "X-API-Key" in str(schema["components"]["securitySchemes"])
    bars = schema["paths"]["/api/bars/{symbol}"]["get"]["responses"]["200"]
    assert bars["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BarsPage"
    }


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_docs_load_nothing_from_another_host(http: httpx.Client, page: str) -> None:
    html = http.get(page)
    assert html.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', html.text)
    assert assets, html.text
    for url in assets:
        assert url.startswith("/"), f"{page} loads {url} from another host"
        assert http.get(url).status_code == 200, url


def test_times_are_utc_iso(http: httpx.Client) -> None:
    bar = http.get("/api/bars/SIM00", params={"limit": 1}).json()["bars"][0]
    parsed = datetime.fromisoformat(bar["ts"])
    assert parsed.utcoffset() == UTC.utcoffset(None)
