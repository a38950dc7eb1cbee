"""Promote, rollback and retrain: the API key, nothing changed on refusal, the job runner."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from nexus.api import BackgroundServer
from nexus.store import DuckDBStore
from tests.integration.api.conftest import API_KEY, World, build

KEY = {"X-API-Key": API_KEY}
WRITES = [
    ("/api/models/lstm/promote", {"version": "x", "reason": "r"}),
    ("/api/models/lstm/rollback", {"reason": "r"}),
    ("/api/retrain", {"sessions": 2}),
]


def _config(world: World) -> bytes:
    return world.registry.config_path.read_bytes()


@pytest.mark.parametrize(("path", "body"), WRITES)
def test_a_missing_key_is_401_and_changes_nothing(
    http: httpx.Client, world: World, path: str, body: dict
) -> None:
    before = _config(world)
    response = http.post(path, json=body)
    assert response.status_code == 401
    assert "X-API-Key header is missing" in response.json()["detail"]
    assert response.headers["www-authenticate"] == "APIKey"
    assert _config(world) == before
    assert world.app.state.nexus.jobs.running is None


@pytest.mark.parametrize(("path", "body"), WRITES)
def test_a_wrong_key_is_403_and_changes_nothing(
    http: httpx.Client, world: World, path: str, body: dict
) -> None:
    before = _config(world)
    for wrong in ("nope", API_KEY + "x", API_KEY[:-1], "é".encode("latin-1")):
        response = http.post(path, json=body, headers={"X-API-Key": wrong})
        assert response.status_code == 403, wrong
        assert "not valid" in response.json()["detail"]
    assert _config(world) == before


def test_the_key_is_checked_before_the_body(http: httpx.Client, world: World) -> None:
    before = _config(world)
    for content in (b"{not json", b'{"version": 3}', b"[]"):
        response = http.post(
            "/api/models/lstm/promote",
            content=content,
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 401
    assert _config(world) == before


def test_no_configured_keys_refuse_every_change(store: DuckDBStore, home: Path) -> None:
    world = build(store, home, api_keys=())
    before = _config(world)
    with BackgroundServer(world.app) as server:
        for headers in ({}, KEY):
            response = httpx.post(
                server.url + "/api/models/lstm/rollback", json={"reason": "r"}, headers=headers
            )
            assert response.status_code == 403
            assert "NEXUS_API_KEYS" in response.json()["detail"]
    assert _config(world) == before


def test_the_right_key_promotes_and_rolls_back(http: httpx.Client, world: World) -> None:
    registry = world.registry
    champion, previous = registry.champion("lstm"), registry.previous("lstm")
    response = http.post(
        "/api/models/lstm/rollback", json={"reason": "drift on SIM00"}, headers=KEY
    )
    assert response.status_code == 200, response.text
    decision = response.json()
    assert decision["action"] == "rollback"
    assert decision["champion"] == previous
    assert decision["before"] == champion
    assert decision["reason"] == "drift on SIM00"
    assert registry.champion("lstm") == previous

    response = http.post(
        "/api/models/lstm/promote", json={"version": champion, "reason": "fixed"}, headers=KEY
    )
    assert response.status_code == 200, response.text
    assert registry.champion("lstm") == champion
    assert registry.previous("lstm") == previous
    history = http.get("/api/models/lstm").json()["history"]
    assert [d["action"] for d in history][-2:] == ["rollback", "promote"]


def test_refused_changes_are_4xx_with_the_registry_message(
    http: httpx.Client, world: World
) -> None:
    registry = world.registry
    champion = registry.champion("lstm")
    cases = [
        ("/api/models/lstm/promote", {"version": "20990101T000000000000"}, 404, "does not exist"),
        ("/api/models/lstm/promote", {"version": champion}, 409, "already the champion"),
        ("/api/models/lstm/promote", {"version": "../etc"}, 404, "not a valid name"),
        ("/api/models/gru/promote", {"version": champion}, 404, "slot 'gru' is unknown"),
        ("/api/models/lstm/promote", {"reason": "no version"}, 422, "version"),
        ("/api/models/lstm/promote", {"version": champion, "extra": 1}, 422, "extra"),
        ("/api/models/lstm/rollback", {"reason": ""}, 422, "reason"),
    ]
    before = _config(world)
    for path, body, status, words in cases:
        response = http.post(path, json=body, headers=KEY)
        assert response.status_code == status, (body, response.text)
        assert words in str(response.json()["detail"]), response.text
    assert _config(world) == before
    # two rollbacks exhaust the line of champions; the third is refused
    assert http.post("/api/models/lstm/rollback", headers=KEY).status_code == 200
    response = http.post("/api/models/lstm/rollback", headers=KEY)
    assert response.status_code == 409
    assert response.json()["error"] == "RegistryError"
    assert "no previous champion" in response.json()["detail"]


def test_retrain_runs_in_a_worker_and_reports_its_failure(http: httpx.Client, world: World) -> None:
    # two sessions of bars cannot hold a validation window and training data: the job fails
    response = http.post("/api/retrain", json={"sessions": 2}, headers=KEY)
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["kind"] == "retrain"
    assert job["params"]["sessions"] == 2
    deadline = time.monotonic() + 120
    while job["status"] not in ("succeeded", "failed") and time.monotonic() < deadline:
        time.sleep(0.1)
        job = http.get(f"/api/jobs/{job['id']}").json()
    assert job["status"] == "failed"
    assert "no 1m bars of SIM00, SIM01, SIM02" in job["error"]  # the retrain's own DataError
    assert job["error"]
    assert job["finished"] >= job["started"]
    assert http.get("/api/jobs/nope").status_code == 404


def test_one_job_at_a_time(http: httpx.Client, world: World) -> None:
    release = threading.Event()
    jobs = world.app.state.nexus.jobs
    blocker = jobs.submit("blocker", lambda: {"released": release.wait(30)}, {})
    try:
        response = http.post("/api/retrain", json={}, headers=KEY)
        assert response.status_code == 409
        assert blocker.id in response.json()["detail"]
        assert http.get(f"/api/jobs/{blocker.id}").json()["status"] == "running"
    finally:
        release.set()
    assert blocker.done.wait(10)
    assert http.get(f"/api/jobs/{blocker.id}").json()["result"] == {"released": True}


def test_retrain_without_its_config_is_409(store: DuckDBStore, home: Path) -> None:
    world = build(store, home, retrain_config=home / "missing.yaml")
    with BackgroundServer(world.app) as server:
        response = httpx.post(server.url + "/api/retrain", headers=KEY)
    assert response.status_code == 409
    assert "missing.yaml" in response.json()["detail"]
    assert world.app.state.nexus.jobs.running is None
