"""The checksum manifest: what counts as corrupt, what is only reported."""

from __future__ import annotations

import json

import pytest

from nexus.registry import Registry, check_manifest


@pytest.fixture
def folder(registry: Registry, lstm: list[str]):
    return registry.path("lstm", lstm[0])


def test_an_intact_version_checks_ok(folder) -> None:
    check = check_manifest(folder)
    assert check.ok
    assert check.problem == ""
    assert check.to_dict()["ok"] is True


def test_one_changed_byte_anywhere_is_caught(folder) -> None:
    path = folder / "model" / "model.json"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    check = check_manifest(folder)
    assert not check.ok
    assert check.changed == ("model/model.json",)


def test_a_missing_file_is_caught(folder) -> None:
    (folder / "metrics.json").unlink()
    check = check_manifest(folder)
    assert not check.ok
    assert check.missing == ("metrics.json",)


def test_a_manifest_that_skips_a_required_file_is_not_trusted(folder) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["model.onnx"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    check = check_manifest(folder)
    assert not check.ok
    assert check.unlisted == ("model.onnx",)
    assert "does not list model.onnx" in check.problem


@pytest.mark.parametrize("text", ["", "{", '["model.onnx"]', '{"model.onnx": 3}'])
def test_an_unreadable_manifest_is_caught(folder, text: str) -> None:
    (folder / "manifest.json").write_text(text)
    check = check_manifest(folder)
    assert not check.ok
    assert "manifest.json" in check.problem


def test_an_extra_file_is_reported_but_not_fatal(folder) -> None:
    (folder / "notes.txt").write_text("hello")
    check = check_manifest(folder)
    assert check.ok
    assert check.extra == ("notes.txt",)


def test_a_missing_folder_is_caught(folder) -> None:
    check = check_manifest(folder.parent / "nope")
    assert not check.ok
    assert "does not exist" in check.problem
