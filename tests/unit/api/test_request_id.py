"""X-Request-ID: taken from the request or made, answered, and on every log line of the request."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from nexus.api import REQUEST_ID_HEADER, create_app
from nexus.bus import InProcessBus
from nexus.config import Settings, configure_logging
from nexus.registry import Registry
from nexus.store import DuckDBStore

log = logging.getLogger("nexus.api.tests")


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    """The real app around an empty store, with two routes that log (one sync, one async)."""
    with DuckDBStore(tmp_path / "t.duckdb") as store:
        app = create_app(
            settings=Settings(home=tmp_path),
            store=store,
            registry=Registry(tmp_path),
            bus=InProcessBus(),
        )

        @app.get("/test/log-sync")
        def log_sync() -> dict:  # runs in a worker thread
            log.warning("inside a sync route")
            return {}

        @app.get("/test/log-async")
        async def log_async() -> dict:
            log.warning("inside an async route")
            return {}

        yield app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    root, nexus = logging.getLogger(), logging.getLogger("nexus")
    handlers, levels = list(root.handlers), (root.level, nexus.level)
    out = io.StringIO()
    configure_logging("INFO", "json", stream=out)
    yield out
    root.handlers[:] = handlers
    root.setLevel(levels[0])
    nexus.setLevel(levels[1])


def test_a_request_without_an_id_gets_a_new_one(client: TestClient) -> None:
    first = client.get("/api/health").headers[REQUEST_ID_HEADER]
    second = client.get("/api/health").headers[REQUEST_ID_HEADER]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_the_callers_id_is_echoed_on_answers_and_errors(client: TestClient) -> None:
    for path, status in (("/metrics", 200), ("/api/bars/NOPE?interval=1m", 404), ("/nope", 404)):
        answer = client.get(path, headers={REQUEST_ID_HEADER: "trace-42.a:b"})
        assert answer.status_code == status, path
        assert answer.headers[REQUEST_ID_HEADER] == "trace-42.a:b", path


@pytest.mark.parametrize("bad", ["", "x" * 129, "two words", "forged\\nline"])
def test_an_unsafe_id_is_replaced(client: TestClient, bad: str) -> None:
    answer = client.get("/api/health", headers={REQUEST_ID_HEADER: bad})
    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers[REQUEST_ID_HEADER])


@pytest.mark.parametrize("path", ["/test/log-sync", "/test/log-async"])
def test_log_lines_inside_a_request_carry_its_id(
    client: TestClient, json_logs: io.StringIO, path: str
) -> None:
    given = client.get(path, headers={REQUEST_ID_HEADER: "req-1"})
    made = client.get(path)
    records = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    ours = [r for r in records if r["logger"] == "nexus.api.tests"]
    assert [r["request_id"] for r in ours] == ["req-1", made.headers[REQUEST_ID_HEADER]]
    assert given.headers[REQUEST_ID_HEADER] == "req-1"
    log.warning("after the requests")
    last = json.loads(json_logs.getvalue().splitlines()[-1])
    assert "request_id" not in last
