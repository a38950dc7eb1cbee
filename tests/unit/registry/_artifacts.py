"""Real, tiny model versions: one fitted logistic model written the way training writes it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import yaml

from nexus.datasets import Dataset
from nexus.features import FeatureScaler, FeatureSpec
from nexus.models import LogisticModel
from nexus.registry import Registry
from nexus.training import scaled_onnx

LOOKBACK = 4
N_FEATURES = 3


@dataclass(frozen=True)
class Fitted:
    """A fitted model and its scaler, ready to be written as any number of versions."""

    model: LogisticModel
    scaler: FeatureScaler


def _dataset(n: int, seed: int) -> Dataset:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, LOOKBACK, N_FEATURES)).astype(np.float32)
    score = X[:, -1, 0] + 0.3 * rng.standard_normal(n)
    y = np.where(score > 0.4, 2, np.where(score < -0.4, 0, 1)).astype(np.int64)
    ts = pd.date_range("2024-01-02 14:30", periods=n, freq="min", tz="UTC")
    index = pd.DataFrame({"symbol": "SIM", "ts": ts, "t_end": ts + pd.Timedelta(minutes=2)})
    names = tuple(f"f{i}" for i in range(N_FEATURES))
    return Dataset(X=X, y=y, weight=np.ones(n), index=index, feature_names=names)


def fit_tiny() -> Fitted:
    """A logistic model fitted on 300 synthetic windows (well under a second)."""
    data = _dataset(300, seed=3)
    train, valid = data.take(np.arange(200)), data.take(np.arange(200, 300))
    scaler = FeatureScaler().fit(train.X.reshape(-1, N_FEATURES))
    return Fitted(LogisticModel(C=1.0).fit(train, valid), scaler)


def filler(fitted: Fitted, *, macro_f1: float = 0.4) -> Callable[[Path], None]:
    """A ``fill(folder)`` for :meth:`Registry.add` writing every file training writes."""

    def fill(folder: Path) -> None:
        fitted.model.save(folder / "model")
        fitted.model.export_onnx(folder / "core.onnx")
        merged = scaled_onnx(onnx.load(folder / "core.onnx"), fitted.scaler)
        onnx.save(merged, folder / "model.onnx")
        (folder / "core.onnx").unlink()
        fitted.scaler.save(folder / "scaler.json")
        (folder / "features.yaml").write_text(FeatureSpec.default().to_yaml())
        summary = {"macro_f1": macro_f1, "accuracy": 0.5, "log_loss": 1.0}
        (folder / "metrics.json").write_text(json.dumps({"summary": summary, "folds": []}))
        fingerprint = {"sha256": "ab" * 32, "symbols": ["SIM"], "interval": "1m", "n_bars": 300}
        (folder / "fingerprint.json").write_text(json.dumps(fingerprint))
        (folder / "experiment.yaml").write_text(yaml.safe_dump({"name": "tiny"}))

    return fill


def add_versions(registry: Registry, slot: str, fitted: Fitted, n: int) -> list[str]:
    """``n`` new versions of ``slot``, oldest first."""
    return [
        registry.add(slot, filler(fitted, macro_f1=0.4 + i / 100), tag="tiny") for i in range(n)
    ]
