"""``nexus retrain``, ``nexus validate`` and ``nexus schedule --cron`` as a user runs them."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from .conftest import Nexus

EXPERIMENT = """
name: nightly
data: {interval: 5m}
labels: {kind: fixed_horizon, horizon: 1, threshold: 0.0}
dataset: {lookback: 12, stride: 1, weights: none}
splits: {n_folds: 1, test_size: 0.2, min_train: 300, min_test: 100}
models:
  - model: lightgbm
    params: {n_estimators: 40}
"""
SLOW = EXPERIMENT.replace("{n_estimators: 40}", "{n_estimators: 5000, early_stopping_rounds: null}")


def make(tmp_path: Path, text: str = EXPERIMENT) -> tuple[Nexus, Path]:
    nexus = Nexus(tmp_path / "home")
    nexus.env["NEXUS_MODEL_SLOTS"] = "lightgbm"
    ingest = nexus("ingest", "sim", "--symbols", "4", "--sessions", "16", "--interval", "5m")
    assert ingest.code == 0, ingest.stderr
    config = tmp_path / "nightly.yaml"
    config.write_text(text)
    return nexus, config


def test_retrain_decides_then_is_idempotent_and_validate_judges(tmp_path: Path) -> None:
    nexus, config = make(tmp_path)
    first = nexus("retrain", "--config", str(config), "--sessions", "3", "--json")
    assert first.code == 0, first.stderr
    [entry] = first.json()["slots"]
    assert entry["action"] in ("promote", "keep")
    model_config = nexus.home / "models" / "model_config.json"
    history = json.loads(model_config.read_text())["slots"]["lightgbm"]["history"]
    assert [h["action"] for h in history] == [entry["action"]]

    again = nexus("retrain", "--config", str(config), "--sessions", "3", "--json")
    assert again.json()["slots"] == [{"slot": "lightgbm", "action": "up to date"}]

    # the challenger was trained on every bar before the window: validate can judge it again
    judged = nexus("validate", "lightgbm", "--challenger", entry["challenger"], "--sessions", "3",
                   "--dry-run", "--json")  # fmt: skip
    assert judged.code == 0, judged.stderr
    assert judged.json()["recorded"] is False
    assert judged.json()["figures"]["n"] > 100
    assert len(json.loads(model_config.read_text())["slots"]["lightgbm"]["history"]) == 1

    human = nexus("retrain", "--config", str(config), "--sessions", "3")
    assert "lightgbm: up to date" in human.stdout


def test_validate_refuses_what_cannot_be_judged(tmp_path: Path) -> None:
    nexus, config = make(tmp_path)
    unknown = nexus("validate", "lightgbm", "--challenger", "20990101T000000000000-deadbeef")
    assert unknown.code == 1
    assert len(unknown.stderr.strip().splitlines()) == 1
    empty = nexus("validate", "lightgbm")
    assert empty.code == 1
    assert "no version besides its champion" in empty.stderr
    # trained by `nexus train` on every bar: no window it has not seen
    assert nexus("train", "--config", str(config)).code == 0
    seen = nexus("validate", "lightgbm", "--sessions", "3")
    assert seen.code == 1
    assert "there is no window neither has seen" in seen.stderr


def test_a_killed_retrain_leaves_the_registry_intact_and_the_next_run_completes(
    tmp_path: Path,
) -> None:
    nexus, config = make(tmp_path)
    first = nexus("retrain", "--config", str(config), "--sessions", "3", "--json")
    version = first.json()["slots"][0]["challenger"]
    if first.json()["slots"][0]["action"] != "promote":
        assert nexus("models", "promote", "lightgbm", version).code == 0
    models = nexus.home / "models"
    before = (models / "model_config.json").read_bytes()
    more = nexus("ingest", "sim", "--symbols", "4", "--sessions", "18", "--interval", "5m")
    assert more.code == 0, more.stderr  # two new sessions: the next run has work to do

    config.write_text(SLOW)
    proc = nexus.popen("retrain", "--config", str(config), "--sessions", "3", "--json")
    time.sleep(8.0)  # start-up and features take ~3 s; 5000 boosting rounds take far longer
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)  # reaps it and closes its pipes
    assert (models / "model_config.json").read_bytes() == before
    listed = nexus("models", "list", "lightgbm", "--json")
    assert listed.code == 0, listed.stderr
    assert [v for v in (models / "lightgbm").iterdir() if not v.name.startswith(".")] == [
        models / "lightgbm" / version
    ]

    config.write_text(EXPERIMENT)
    done = nexus("retrain", "--config", str(config), "--sessions", "3", "--json")
    assert done.code == 0, done.stderr
    [entry] = done.json()["slots"]
    assert entry["action"] in ("promote", "keep")
    assert entry["champion_before"] == version
    history = json.loads((models / "model_config.json").read_text())["slots"]["lightgbm"]
    assert history["history"][-1]["version"] == entry["challenger"]


def test_schedule_prints_a_crontab_line(tmp_path: Path) -> None:
    nexus, _ = make(tmp_path)
    result = nexus("schedule", "--cron", "--after", "45")
    assert result.code == 0, result.stderr
    zone, line = result.stdout.strip().splitlines()
    assert zone == "CRON_TZ=America/New_York"
    assert line.startswith("45 16 * * 1-5 cd ")
    assert "retrain --config" in line
    assert f"NEXUS_HOME={nexus.home}" in line
    bad = nexus("schedule", "--cron", "--calendar", "XNYZ")
    assert bad.code == 1
    assert "'XNYZ' is not known" in bad.stderr


@pytest.mark.parametrize("args", [("retrain", "--config", "nope.yaml"), ("validate", "nope")])
def test_bad_arguments_are_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    nexus = Nexus(tmp_path / "home")
    result = nexus(*args)
    assert result.code == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
