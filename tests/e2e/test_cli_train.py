"""``nexus train`` as a user runs it: artifacts, ONNX parity, tracking, and bad configs."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from nexus.features import FeatureScaler
from nexus.models import load_model

from .conftest import Nexus, Result

SMALL = """
name: tiny
labels: {horizon: 5}
dataset: {lookback: 20, stride: 3}
splits: {n_folds: 2, min_train: 100, min_test: 50}
models:
  - model: lightgbm
    params: {n_estimators: 50}
  - model: lstm
    params: {max_epochs: 2, hidden_size: 8}
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Nexus, dict]:
    root = tmp_path_factory.mktemp("train")
    nexus = Nexus(root / "home")
    assert nexus("ingest", "sim", "--symbols", "3", "--sessions", "6", "--alpha", "0.2").code == 0
    config = root / "tiny.yaml"
    config.write_text(SMALL)
    result = nexus("train", "--config", str(config), "--json")
    assert result.code == 0, result.stderr
    return nexus, result.json()


def test_report_scores_every_model_and_fold_against_baselines(trained) -> None:
    _, report = trained
    assert [m["model"] for m in report["models"]] == ["lightgbm", "lstm"]
    for model in report["models"]:
        assert len(model["folds"]) == report["folds"] == 2
        for fold in model["folds"]:
            assert set(fold["baselines"]) == {"majority", "last_return_sign"}
            for key in (
                "accuracy",
                "macro_f1",
                "precision_up",
                "recall_up",
                "precision_down",
                "recall_down",
                "log_loss",
                "brier",
            ):
                assert 0 <= fold["metrics"][key] <= 10


def test_artifact_is_complete_and_checksummed(trained) -> None:
    _, report = trained
    folder = Path(report["models"][0]["artifact"])
    files = {p.name for p in folder.iterdir()}
    assert {
        "model",
        "model.onnx",
        "scaler.json",
        "features.yaml",
        "metrics.json",
        "fingerprint.json",
        "experiment.yaml",
        "manifest.json",
    } <= files
    manifest = json.loads((folder / "manifest.json").read_text())
    for name, digest in manifest.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    assert json.loads((folder / "fingerprint.json").read_text())["sha256"] == report["fingerprint"]
    assert not list(folder.parent.glob(".tmp-*"))


@pytest.mark.parametrize("position", [0, 1])
def test_onnx_with_its_scaler_equals_the_native_model(trained, position: int) -> None:
    _, report = trained
    folder = Path(report["models"][position]["artifact"])
    model = load_model(folder / "model")
    scaler = FeatureScaler.load(folder / "scaler.json")
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(20, model.lookback_, model.n_features_in_)).astype(np.float32)
    raw = raw * scaler.scale_.astype(np.float32) + scaler.center_.astype(np.float32)
    n, L, F = raw.shape
    scaled = scaler.transform(raw.reshape(n * L, F)).reshape(n, L, F).astype(np.float32)
    native = model.predict_proba(scaled)
    session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    onnx_out = session.run(["probabilities"], {"x": raw})[0]
    np.testing.assert_allclose(onnx_out, native, atol=1e-5)


def test_runs_are_tracked_in_mlflow(trained) -> None:
    nexus, report = trained
    with sqlite3.connect(nexus.home / "mlflow.db") as db:
        runs = {row[0] for row in db.execute("select run_uuid from runs")}
    assert {m["mlflow_run"] for m in report["models"]} <= runs


def test_trained_versions_are_in_the_registry_verified_and_promotable(trained) -> None:
    nexus, report = trained
    listed = nexus("models", "list", "--json")
    assert listed.code == 0, listed.stderr
    slots = {s["slot"]: s for s in listed.json()["slots"]}
    for model in report["models"]:
        folder = Path(model["artifact"])
        entry = slots[model["slot"]]
        assert [v["version"] for v in entry["versions"]] == [folder.name]
        assert entry["versions"][0]["model"] == model["model"]
        assert entry["champion"] is None  # training never promotes; validation decides
    version = Path(report["models"][0]["artifact"]).name
    assert nexus("models", "promote", "lightgbm", version).code == 0
    shown = nexus("models", "show", "lightgbm", "--json")
    assert shown.code == 0, shown.stderr
    assert shown.json()["check"]["ok"] is True
    assert shown.json()["version"] == version
    assert shown.json()["fingerprint"]["sha256"] == report["fingerprint"]


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file with 2 simulated symbols x 3 sessions, copied by each test."""
    nexus = Nexus(tmp_path_factory.mktemp("small") / "home")
    assert nexus("ingest", "sim", "--symbols", "2", "--sessions", "3").code == 0
    return nexus.home / "nexus.duckdb"


def assert_refused(result: Result, nexus: Nexus, *fragments: str) -> None:
    assert result.code == 1, result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("nexus: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    models = nexus.home / "models"
    assert not models.exists() or not any(models.rglob("model.onnx"))


@pytest.mark.parametrize(
    ("yaml_text", "fragments"),
    [
        ("models: [{model: lstn}]", ("lstn", "lstm")),
        ("models: [{model: lightgbm, params: {num_leafs: 3}}]", ("num_leafs",)),
        ("modles: [{model: lightgbm}]", ("modles",)),
        ("features: {path}\nmodels: [{model: lightgbm}]", ("rsii",)),
        ("dataset: {lookback: 100000}\nmodels: [{model: lightgbm}]", ("100000",)),
        ("splits: {n_folds: 40, min_train: 5000}\nmodels: [{model: lightgbm}]", ("fold",)),
        ("data: {symbols: [NOPE]}\nmodels: [{model: lightgbm}]", ("NOPE",)),
        ("data: {interval: 1h}\nmodels: [{model: lightgbm}]", ("no 1h bars",)),
    ],
)
def test_bad_configs_are_one_line_and_write_no_model(
    small_store: Path, tmp_path: Path, yaml_text: str, fragments: tuple[str, ...]
) -> None:
    nexus = Nexus(tmp_path / "home")
    nexus.home.mkdir()
    shutil.copy(small_store, nexus.home / "nexus.duckdb")
    spec = tmp_path / "features.yaml"
    spec.write_text("features:\n  rsii: {periods: [14]}\n")
    config = tmp_path / "bad.yaml"
    config.write_text(yaml_text.replace("{path}", str(spec)))
    assert_refused(nexus("train", "--config", str(config)), nexus, *fragments)
