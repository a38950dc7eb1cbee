"""``nexus models`` as a user runs it: list, show, promote, rollback, and every refusal."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from nexus.registry import Registry

from ..unit.registry._artifacts import add_versions, fit_tiny
from .conftest import Nexus, Result


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[str]]]:
    """A NEXUS_HOME with three lstm versions and one transformer version, none promoted."""
    home = tmp_path_factory.mktemp("models") / "home"
    registry = Registry(home)
    fitted = fit_tiny()
    versions = {
        "lstm": add_versions(registry, "lstm", fitted, 3),
        "transformer": add_versions(registry, "transformer", fitted, 1),
    }
    return home, versions


@pytest.fixture
def nexus(built, tmp_path: Path) -> tuple[Nexus, dict[str, list[str]]]:
    home, versions = built
    shutil.copytree(home, tmp_path / "home")
    return Nexus(tmp_path / "home"), versions


def _config(nexus: Nexus) -> Path:
    return nexus.home / "models" / "model_config.json"


def assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.code == 1, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("nexus: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_promote_show_and_rollback_round_trip(nexus) -> None:
    nx, versions = nexus
    a, b, _ = versions["lstm"]
    first = nx("models", "promote", "lstm", a, "--json")
    assert first.code == 0, first.stderr
    assert first.json()["champion"] == a
    assert first.json()["before"] is None
    second = nx("models", "promote", "lstm", b, "--reason", "beat it by 0.03")
    assert second.code == 0, second.stderr
    assert f"champion is now {b}" in second.stdout
    config = json.loads(_config(nx).read_text())["slots"]["lstm"]
    assert (config["champion"], config["previous"]) == (b, a)
    assert config["history"][-1]["reason"] == "beat it by 0.03"

    shown = nx("models", "show", "lstm", "--json")
    assert shown.code == 0, shown.stderr
    report = shown.json()
    assert (report["version"], report["role"], report["model"]) == (b, "champion", "logistic")
    assert report["check"]["ok"] is True
    assert report["metrics"]["macro_f1"] == pytest.approx(0.41)
    assert report["fingerprint"]["sha256"] == "ab" * 32
    assert [d["action"] for d in report["decisions"]] == ["promote"]

    back = nx("models", "rollback", "lstm", "--reason", "drift", "--json")
    assert back.code == 0, back.stderr
    assert (back.json()["action"], back.json()["champion"], back.json()["before"]) == (
        "rollback",
        a,
        b,
    )
    assert Registry(nx.home).champion("lstm") == a


def test_list_marks_champion_and_previous_per_slot(nexus) -> None:
    nx, versions = nexus
    a, b, c = versions["lstm"]
    for version in (a, b):
        Registry(nx.home).promote("lstm", version, reason="setup")
    listed = nx("models", "list", "--json")
    assert listed.code == 0, listed.stderr
    slots = {s["slot"]: s for s in listed.json()["slots"]}
    assert list(slots) == ["lstm", "transformer"]
    roles = {v["version"]: v["role"] for v in slots["lstm"]["versions"]}
    assert roles == {a: "previous", b: "champion", c: ""}
    assert slots["transformer"]["champion"] is None
    assert len(slots["transformer"]["versions"]) == 1
    assert slots["lstm"]["versions"][0]["metrics"]["macro_f1"] == pytest.approx(0.40)
    human = nx("models", "list")
    assert human.code == 0, human.stderr
    row = next(line for line in human.stdout.splitlines() if b in line)
    assert "champion" in row
    assert "logistic" in row
    assert "0.4100" in row
    assert "transformer" in human.stdout


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("case", "fragments"),
    [
        ("unknown_version", ("lstm/20990101T000000000000-nope does not exist",)),
        ("unknown_slot", ("slot 'lstn' has no versions", "did you mean 'lstm'")),
        ("bad_name", ("'../x' is not a valid name",)),
        ("no_previous", ("slot 'lstm' has no previous champion",)),
        ("corrupt", ("is corrupt: checksum mismatch in model.onnx", "stays")),
        ("already", ("is already the champion",)),
    ],
)
def test_refusals_are_one_line_and_leave_model_config_unchanged(
    nexus, case: str, fragments: tuple[str, ...]
) -> None:
    nx, versions = nexus
    a, _, c = versions["lstm"]
    Registry(nx.home).promote("lstm", a, reason="setup")
    before = _config(nx).read_bytes()
    if case == "corrupt":
        _flip(nx.home / "models" / "lstm" / c / "model.onnx")
    args = {
        "unknown_version": ("promote", "lstm", "20990101T000000000000-nope"),
        "unknown_slot": ("promote", "lstn", c),
        "bad_name": ("promote", "lstm", "../x"),
        "no_previous": ("rollback", "lstm"),
        "corrupt": ("promote", "lstm", c),
        "already": ("promote", "lstm", a),
    }[case]
    assert_one_line_error(nx("models", *args), *fragments)
    assert _config(nx).read_bytes() == before
    alerts = Registry(nx.home).alerts()
    assert [a.version for a in alerts] == ([c] if case == "corrupt" else [])


def test_show_reports_a_corrupt_version_and_exits_1(nexus) -> None:
    nx, versions = nexus
    version = versions["transformer"][0]
    _flip(nx.home / "models" / "transformer" / version / "model.onnx")
    result = nx("models", "show", "transformer", version, "--json")
    assert result.code == 1
    check = result.json()["check"]
    assert check["ok"] is False
    assert check["changed"] == ["model.onnx"]
    human = nx("models", "show", "transformer", version)
    assert human.code == 1
    assert "FAILED" in human.stdout
    assert "model.onnx" in human.stdout


def test_show_without_a_champion_or_with_an_unknown_version_is_one_line(nexus) -> None:
    nx, _ = nexus
    assert_one_line_error(nx("models", "show", "lstm"), "slot 'lstm' has no champion")
    assert_one_line_error(nx("models", "show", "lstm", "nope"), "lstm/nope does not exist")


def test_a_torn_model_config_is_named_never_reset(nexus) -> None:
    nx, versions = nexus
    Registry(nx.home).promote("lstm", versions["lstm"][0], reason="setup")
    torn = _config(nx).read_bytes()[:40]
    _config(nx).write_bytes(torn)
    for args in (("list",), ("promote", "lstm", versions["lstm"][1])):
        assert_one_line_error(nx("models", *args), "model_config.json is not valid JSON", "restore")
    assert _config(nx).read_bytes() == torn
