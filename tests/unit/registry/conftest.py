"""A registry in a fresh NEXUS_HOME, and one tiny fitted model to write versions from."""

from __future__ import annotations

from pathlib import Path

import pytest

from nexus.registry import Alert, Registry

from ._artifacts import Fitted, add_versions, fit_tiny


@pytest.fixture(scope="session")
def fitted() -> Fitted:
    return fit_tiny()


@pytest.fixture
def alerts() -> list[Alert]:
    """Alerts the ``registry`` fixture's sink received."""
    return []


@pytest.fixture
def registry(tmp_path: Path, alerts: list[Alert]) -> Registry:
    return Registry(tmp_path / "home", alert=alerts.append)


@pytest.fixture
def lstm(registry: Registry, fitted: Fitted) -> list[str]:
    """Three versions of slot ``lstm``, oldest first, none promoted."""
    return add_versions(registry, "lstm", fitted, 3)
