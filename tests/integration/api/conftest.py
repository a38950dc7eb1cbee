"""The API's world for the tests: a seeded DuckDB store, a registry, reports, the app."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from nexus.api import BackgroundServer, create_app
from nexus.bus import InProcessBus
from nexus.config import Settings
from nexus.registry import Registry
from nexus.store import DuckDBStore
from tests.integration.api._market import seed_registry, seed_reports, seed_store

API_KEY = "test-key-1"


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBStore]:
    """3 simulated symbols, 2 sessions of 1m bars, signals for the newest bar times."""
    store = seed_store(tmp_path_factory.mktemp("store") / "nexus.duckdb")
    yield store
    store.close()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """NEXUS_HOME with two versions per slot (champion and previous) and one report."""
    home = tmp_path / "home"
    seed_registry(home)
    seed_reports(home)
    return home


@dataclass
class World:
    """An app and what it was built from."""

    app: FastAPI
    bus: Any
    registry: Registry
    settings: Settings
    metrics: CollectorRegistry


def build(store: DuckDBStore, home: Path, **options: Any) -> World:
    """The app around ``store`` and ``home`` (and ``bus``, default in-process);
    ``api_keys`` and ``cors_origins`` go to the settings, the rest to ``create_app``."""
    settings = Settings(
        home=home,
        api_keys=options.pop("api_keys", (API_KEY,)),
        cors_origins=options.pop("cors_origins", ()),
    )
    bus = options.pop("bus", None) or InProcessBus()
    registry = Registry(home, slots=settings.model_slots)
    metrics = CollectorRegistry()
    app = create_app(
        settings=settings, store=store, registry=registry, bus=bus, metrics=metrics, **options
    )
    return World(app, bus, registry, settings, metrics)


@pytest.fixture
def world(store: DuckDBStore, home: Path) -> World:
    return build(store, home)


@pytest.fixture
def server(world: World) -> Iterator[BackgroundServer]:
    """The app on a real uvicorn server on loopback."""
    with BackgroundServer(world.app) as running:
        yield running


@pytest.fixture
def http(server: BackgroundServer) -> Iterator[httpx.Client]:
    """An HTTP client of the running app."""
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client
