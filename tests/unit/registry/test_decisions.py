"""Promote, rollback and record: the line of champions, the history, and every refusal."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest

from nexus.errors import ArtifactError, ConfigError, RegistryError
from nexus.registry import Registry, read_state


def _flip_byte(path, offset: int = 100) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_promotions_stack_and_rollbacks_step_back_one_at_a_time(
    registry: Registry, lstm: list[str]
) -> None:
    a, b, c = lstm
    for version in (a, b, c):
        registry.promote("lstm", version, reason=f"won {version}")
    assert (registry.champion("lstm"), registry.previous("lstm")) == (c, b)
    registry.rollback("lstm", reason="drift")
    assert (registry.champion("lstm"), registry.previous("lstm")) == (b, a)
    registry.rollback("lstm", reason="drift again")
    assert (registry.champion("lstm"), registry.previous("lstm")) == (a, None)
    with pytest.raises(RegistryError, match="no previous champion"):
        registry.rollback("lstm", reason="once more")
    actions = [(d.action, d.version, d.before, d.champion) for d in registry.history("lstm")]
    assert actions == [
        ("promote", a, None, a),
        ("promote", b, a, b),
        ("promote", c, b, c),
        ("rollback", b, c, b),
        ("rollback", a, b, a),
    ]


def test_decisions_keep_their_reason_and_figures_as_plain_json(
    registry: Registry, lstm: list[str]
) -> None:
    figures = {"macro_f1": np.float64(0.43), "margin": 0.02, "p_value": float("nan"), "n": 5}
    decision = registry.promote("lstm", lstm[0], reason=" beat baselines ", figures=figures)
    assert decision.reason == "beat baselines"
    assert decision.figures == {"macro_f1": 0.43, "margin": 0.02, "p_value": None, "n": 5}
    stored = json.loads(registry.config_path.read_text())["slots"]["lstm"]["history"][0]
    assert stored["figures"] == decision.figures
    assert stored["action"] == "promote"
    assert stored["time"].endswith("Z")
    with pytest.raises(ConfigError, match=r"figure figures\.when is a object"):
        registry.promote("lstm", lstm[1], reason="x", figures={"when": object()})
    with pytest.raises(ConfigError, match="needs a reason"):
        registry.promote("lstm", lstm[1], reason="  ")


def test_keep_and_refused_are_recorded_without_changing_the_champion(
    registry: Registry, lstm: list[str]
) -> None:
    registry.promote("lstm", lstm[0], reason="first")
    registry.promote("lstm", lstm[1], reason="second")
    keep = registry.record("lstm", "keep", version=lstm[2], reason="lost by 0.01", figures={"d": 1})
    refused = registry.record("lstm", "refused", version=lstm[2], reason="failed baselines")
    for decision in (keep, refused):
        assert (decision.before, decision.champion, decision.previous) == (
            lstm[1],
            lstm[1],
            lstm[0],
        )
    assert [d.action for d in registry.history("lstm")] == ["promote", "promote", "keep", "refused"]
    assert (registry.champion("lstm"), registry.previous("lstm")) == (lstm[1], lstm[0])
    registry.rollback("lstm", reason="still works after records")
    assert registry.champion("lstm") == lstm[0]
    with pytest.raises(ConfigError, match="use promote"):
        registry.record("lstm", "promote", version=lstm[2], reason="x")


def _unchanged(registry: Registry, before: bytes) -> None:
    assert registry.config_path.read_bytes() == before


@pytest.fixture
def two_champions(registry: Registry, lstm: list[str]) -> bytes:
    """lstm[0] then lstm[1] promoted; the bytes of model_config.json."""
    registry.promote("lstm", lstm[0], reason="first")
    registry.promote("lstm", lstm[1], reason="second")
    return registry.config_path.read_bytes()


def test_promoting_an_unknown_version_is_refused_naming_a_close_one(
    registry: Registry, lstm: list[str], two_champions: bytes, alerts: list
) -> None:
    typo = lstm[2][:-1] + "x"
    with pytest.raises(ArtifactError, match=f"lstm/{typo} does not exist.*did you mean"):
        registry.promote("lstm", typo, reason="x")
    with pytest.raises(ArtifactError, match="slot 'lstn' has no versions; did you mean 'lstm'"):
        registry.promote("lstn", lstm[2], reason="x")
    with pytest.raises(RegistryError, match="already the champion"):
        registry.promote("lstm", lstm[1], reason="x")
    _unchanged(registry, two_champions)
    assert alerts == []
    assert registry.alerts() == ()


def test_promoting_a_corrupt_version_is_refused_with_an_alert(
    registry: Registry,
    lstm: list[str],
    two_champions: bytes,
    alerts: list,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _flip_byte(registry.path("lstm", lstm[2]) / "model.onnx")
    with pytest.raises(ArtifactError, match=r"checksum mismatch in model\.onnx.*champion .* stays"):
        registry.promote("lstm", lstm[2], reason="x")
    _unchanged(registry, two_champions)
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert.slot, alert.version, alert.operation, alert.champion) == (
        "lstm",
        lstm[2],
        "promote",
        lstm[1],
    )
    assert registry.alerts("lstm") == (alert,)
    assert registry.alerts("transformer") == ()
    # the default sink: one structured warning record
    quiet = Registry(registry.home)
    with caplog.at_level(logging.WARNING, logger="nexus.registry"), pytest.raises(ArtifactError):
        quiet.promote("lstm", lstm[2], reason="x")
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.alert["version"] == lstm[2]
    assert record.alert["operation"] == "promote"
    assert len(quiet.alerts()) == 2


@pytest.mark.parametrize("damage", ["flip", "delete_file", "delete_manifest", "delete_folder"])
def test_a_damaged_champion_is_refused_on_load_and_stays_champion(
    registry: Registry, lstm: list[str], two_champions: bytes, alerts: list, damage: str
) -> None:
    folder = registry.path("lstm", lstm[1])
    if damage == "flip":
        _flip_byte(folder / "scaler.json", 5)
    elif damage == "delete_file":
        (folder / "model" / "model.json").unlink()
    elif damage == "delete_manifest":
        (folder / "manifest.json").unlink()
    else:
        shutil.rmtree(folder)
    with pytest.raises(ArtifactError, match=f"lstm/{lstm[1]}"):
        registry.load("lstm")
    assert [a.operation for a in alerts] == ["load"]
    assert registry.champion("lstm") == lstm[1]
    _unchanged(registry, two_champions)


def test_rolling_back_to_a_corrupt_previous_is_refused_with_an_alert(
    registry: Registry, lstm: list[str], two_champions: bytes, alerts: list
) -> None:
    _flip_byte(registry.path("lstm", lstm[0]) / "model.onnx")
    with pytest.raises(ArtifactError, match=f"lstm/{lstm[0]} is corrupt"):
        registry.rollback("lstm", reason="drift")
    _unchanged(registry, two_champions)
    assert [(a.operation, a.version) for a in alerts] == [("rollback", lstm[0])]


def test_rollback_without_a_previous_champion_changes_nothing(
    registry: Registry, lstm: list[str]
) -> None:
    with pytest.raises(RegistryError, match="no previous champion"):
        registry.rollback("lstm", reason="x")
    assert not registry.config_path.exists()
    registry.promote("lstm", lstm[0], reason="first")
    before = registry.config_path.read_bytes()
    with pytest.raises(RegistryError, match="no previous champion"):
        registry.rollback("lstm", reason="x")
    _unchanged(registry, before)
    assert read_state(registry.config_path).slot("lstm").champion == lstm[0]


def test_each_slot_keeps_its_own_line_of_champions(
    registry: Registry, lstm: list[str], fitted
) -> None:
    from ._artifacts import add_versions

    (t,) = add_versions(registry, "transformer", fitted, 1)
    registry.promote("lstm", lstm[0], reason="a")
    registry.promote("transformer", t, reason="b")
    registry.promote("lstm", lstm[1], reason="c")
    assert registry.champion("transformer") == t
    assert registry.previous("transformer") is None
    assert [d.reason for d in registry.history("lstm")] == ["a", "c"]
