"""Each package exports an isort-ordered ``__all__`` that matches its public names (httpx style)."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = [
    "nexus",
    "nexus.api",
    "nexus.bus",
    "nexus.client",
    "nexus.config",
    "nexus.domain",
    "nexus.errors",
    "nexus.features",
    "nexus.ingest",
    "nexus.labels",
    "nexus.live",
    "nexus.models",
    "nexus.monitoring",
    "nexus.registry",
    "nexus.risk",
    "nexus.sources",
    "nexus.sources.files",
    "nexus.sources.fred",
    "nexus.sources.newsapi",
    "nexus.sources.rss",
    "nexus.sources.samples",
    "nexus.sources.simulator",
    "nexus.sources.yahoo",
    "nexus.store",
    "nexus.training",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported == sorted(exported, key=_isort_key)
    public = {
        n
        for n, v in vars(module).items()
        if not n.startswith("_") and not isinstance(v, type(importlib)) and n != "annotations"
    }
    assert public == {n for n in exported if not n.startswith("_")}


def _isort_key(name: str) -> tuple[int, str]:
    """isort/ruff order: CONSTANTS, then Classes, then functions."""
    bare = name.strip("_")
    if bare.isupper():
        return (0, name)
    return (1, name) if bare[:1].isupper() else (2, name)
