from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from nexus.config import FrozenConfig, Settings
from nexus.errors import ConfigError


def test_defaults_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEXUS_HOME", str(tmp_path))
    monkeypatch.delenv("NEXUS_STORE_URL", raising=False)
    settings = Settings()
    assert settings.resolved_store_url == f"duckdb://{tmp_path / 'nexus.duckdb'}"
    assert settings.store_backend == "duckdb"


def test_postgres_url_selects_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXUS_STORE_URL", "postgresql://postgres@127.0.0.1:5432/nexus")
    assert Settings().store_backend == "postgres"


def test_unknown_scheme_is_rejected_with_a_fix() -> None:
    with pytest.raises((ConfigError, pydantic.ValidationError), match="unknown scheme"):
        Settings(store_url="mysql://x")


def test_frozen_configs_reject_unknown_fields_and_mutation() -> None:
    class Window(FrozenConfig):
        length: int = 60

    with pytest.raises(pydantic.ValidationError):
        Window(lenght=3)
    window = Window(length=3)
    with pytest.raises(pydantic.ValidationError):
        window.length = 4
    assert window.config_id == Window(length=3).config_id != Window().config_id
