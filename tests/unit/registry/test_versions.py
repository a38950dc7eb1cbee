"""Writing versions: whole or not at all, with a manifest; names; listing; loading."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from nexus.errors import ArtifactError, ConfigError, RegistryError
from nexus.models import LogisticModel
from nexus.registry import REQUIRED_FILES, Registry

from ._artifacts import Fitted, filler


def test_a_version_holds_every_file_with_a_matching_manifest(
    registry: Registry, lstm: list[str]
) -> None:
    folder = registry.path("lstm", lstm[0])
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(REQUIRED_FILES) <= set(manifest)
    assert "manifest.json" not in manifest
    assert registry.verify("lstm", lstm[0]).ok
    assert registry.versions("lstm") == tuple(lstm) == tuple(sorted(lstm))
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]


def test_a_failing_fill_leaves_nothing_behind(registry: Registry, fitted: Fitted) -> None:
    def fill(folder: Path) -> None:
        filler(fitted)(folder)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        registry.add("lstm", fill)
    assert registry.versions("lstm") == ()
    assert list((registry.root / "lstm").iterdir()) == []


def test_an_incomplete_version_is_refused_and_not_written(
    registry: Registry, fitted: Fitted
) -> None:
    def fill(folder: Path) -> None:
        filler(fitted)(folder)
        (folder / "scaler.json").unlink()

    with pytest.raises(ArtifactError, match=r"lacks scaler\.json"):
        registry.add("lstm", fill)
    assert list((registry.root / "lstm").iterdir()) == []


@pytest.mark.parametrize("name", ["../evil", ".hidden", "a/b", "", "a b", "x" * 200])
def test_unsafe_slot_and_version_names_are_refused(registry: Registry, name: str) -> None:
    with pytest.raises(ConfigError, match="not a valid name"):
        registry.versions(name)
    with pytest.raises(ConfigError, match="not a valid name"):
        registry.promote("lstm", name, reason="x")
    with pytest.raises(ConfigError, match="not a valid name"):
        Registry(registry.home, slots=[name])


def test_slots_are_the_configured_ones_then_any_other_written(
    registry: Registry, fitted: Fitted
) -> None:
    assert registry.slots() == ("lstm", "transformer")
    registry.add("lightgbm", filler(fitted))
    assert registry.slots() == ("lstm", "transformer", "lightgbm")
    other = Registry(registry.home, slots=["transformer"])
    assert other.slots() == ("transformer", "lightgbm")
    assert registry.versions("transformer") == ()


def test_load_returns_the_verified_champion_ready_to_run(
    registry: Registry, lstm: list[str], fitted: Fitted
) -> None:
    registry.promote("lstm", lstm[1], reason="test")
    artifact = registry.load("lstm")
    assert (artifact.slot, artifact.version) == ("lstm", lstm[1])
    assert isinstance(artifact.model, LogisticModel)
    assert artifact.metrics["summary"]["macro_f1"] == pytest.approx(0.41)
    assert artifact.fingerprint["symbols"] == ["SIM"]
    assert artifact.experiment == {"name": "tiny"}
    assert set(artifact.manifest) >= set(REQUIRED_FILES)
    raw = np.random.default_rng(0).normal(size=(5, 4, 3)).astype(np.float32)
    scaled = artifact.scaler.transform(raw.reshape(-1, 3)).reshape(raw.shape).astype(np.float32)
    session = ort.InferenceSession(str(artifact.onnx_path), providers=["CPUExecutionProvider"])
    onnx_out = session.run(["probabilities"], {"x": raw})[0]
    np.testing.assert_allclose(onnx_out, artifact.model.predict_proba(scaled), atol=1e-5)
    assert registry.load("lstm", lstm[0]).version == lstm[0]


def test_load_without_a_champion_says_how_to_name_one(registry: Registry, lstm: list[str]) -> None:
    with pytest.raises(RegistryError, match=r"no champion.*nexus models promote lstm"):
        registry.load("lstm")


def test_a_version_that_verifies_but_cannot_be_read_is_refused_with_an_alert(
    registry: Registry, fitted: Fitted, alerts: list
) -> None:
    def fill(folder: Path) -> None:
        filler(fitted)(folder)
        (folder / "features.yaml").write_text("features: {rsii: {}}\n")

    version = registry.add("lstm", fill)
    with pytest.raises(ArtifactError, match=r"passed its checksums but cannot be loaded.*rsii"):
        registry.load("lstm", version)
    assert [a.operation for a in alerts] == ["load"]


def test_slots_come_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nexus.config import Settings

    monkeypatch.setenv("NEXUS_MODEL_SLOTS", "lstm, patchtst")
    registry = Registry.from_settings(Settings(home=tmp_path))
    assert registry.slots() == ("lstm", "patchtst")
    assert registry.root == tmp_path / "models"


def test_a_crashed_writers_old_tmp_folder_is_removed_by_the_next_add(
    registry: Registry, fitted: Fitted
) -> None:
    slot = registry.root / "lstm"
    old, fresh = slot / ".tmp-20240101T000000000000-dead", slot / ".tmp-20240101T000000000001-busy"
    for tmp in (old, fresh):
        tmp.mkdir(parents=True)
        (tmp / "model.onnx").write_bytes(b"half")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    registry.add("lstm", filler(fitted))
    assert not old.exists()
    assert fresh.exists()  # maybe another writer, still busy
