"""model_config.json: read defensively, written atomically, never silently reset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nexus.errors import RegistryError
from nexus.registry import Registry, RegistryState, read_state
from nexus.registry._atomic import write_atomic


@pytest.fixture
def promoted(registry: Registry, lstm: list[str]) -> bytes:
    registry.promote("lstm", lstm[0], reason="first")
    return registry.config_path.read_bytes()


def test_an_absent_file_is_an_empty_registry(tmp_path: Path) -> None:
    assert read_state(tmp_path / "model_config.json") == RegistryState()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "not valid JSON"),
        ('{"format": 1, "slots": {"lstm": {"champ', "not valid JSON"),
        ("\x00\x00\x00", "not valid JSON"),
        ("[1, 2]", "schema"),
        ('{"slots": {"lstm": {"previous": "v1"}}}', "previous champion without a champion"),
        ('{"slots": {"lstm": {"champion": "../../etc"}}}', "not a valid name"),
        ('{"slots": {"lstm": {"history": [{"action": "delete"}]}}}', "schema"),
        ('{"slots": {}, "colour": "red"}', "colour"),
        ('{"format": 9, "slots": {}}', "format 9"),
    ],
)
def test_a_broken_file_is_an_error_naming_it_and_the_fix(
    registry: Registry, promoted: bytes, lstm: list[str], text: str, fragment: str
) -> None:
    registry.config_path.write_text(text)
    with pytest.raises(RegistryError, match=fragment) as info:
        registry.champion("lstm")
    assert str(registry.config_path) in str(info.value)
    assert "restore" in str(info.value) or "upgrade" in str(info.value)
    for operation in (
        lambda: registry.promote("lstm", lstm[1], reason="x"),
        lambda: registry.rollback("lstm", reason="x"),
        lambda: registry.record("lstm", "keep", reason="x"),
        registry.slots,
    ):
        with pytest.raises(RegistryError):
            operation()
    assert registry.config_path.read_text() == text  # never reset


def test_writes_replace_the_file_whole_and_leave_no_temporary_files(
    registry: Registry, lstm: list[str], promoted: bytes
) -> None:
    inode = registry.config_path.stat().st_ino
    registry.promote("lstm", lstm[1], reason="second")
    assert registry.config_path.stat().st_ino != inode  # a new file renamed over the old
    names = sorted(p.name for p in registry.root.iterdir() if p.is_file())
    assert names == ["model_config.json", "model_config.json.lock"] or names == [
        "model_config.json"
    ]
    assert json.loads(registry.config_path.read_text())["slots"]["lstm"]["champion"] == lstm[1]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "model_config.json"
    write_atomic(path, '{"slots": {}}')

    with pytest.raises(UnicodeEncodeError):  # fails after the temporary file was opened
        write_atomic(path, '{"slots": "\udc80"}')
    assert path.read_text() == '{"slots": {}}'
    assert [p.name for p in tmp_path.iterdir()] == ["model_config.json"]


def test_a_temporary_file_left_by_a_crash_is_ignored(
    registry: Registry, lstm: list[str], promoted: bytes
) -> None:
    (registry.root / ".model_config.json.123.abcd.tmp").write_text('{"slots": {"lst')
    (registry.root / "lstm" / f".tmp-{lstm[2]}x").mkdir()
    assert registry.champion("lstm") == lstm[0]
    assert registry.versions("lstm") == tuple(lstm)
    registry.promote("lstm", lstm[2], reason="after a crash")
    assert registry.previous("lstm") == lstm[0]
