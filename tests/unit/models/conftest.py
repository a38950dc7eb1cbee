"""Small synthetic datasets with a learnable signal, and tiny models of every kind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nexus.datasets import Dataset
from nexus.models import LightGBMModel, LogisticModel, LSTMModel, ModelBase, TransformerModel

N_FEATURES = 6
LOOKBACK = 16


def make_dataset(n: int, seed: int, *, lookback: int = LOOKBACK, signal: float = 1.0) -> Dataset:
    """Windows (n, L, 6) whose label follows the last row's feature 0 and the recent mean of
    feature 1; features have non-zero means and unequal scales (standardisation matters).

    The class is UP when the score exceeds 0.45, DOWN below -0.45, NEUTRAL between, so the
    classes are roughly balanced, and a model reading the signal beats the majority class.
    """
    rng = np.random.default_rng(seed)
    raw = rng.standard_normal((n, lookback, N_FEATURES))
    score = signal * (0.8 * raw[:, -1, 0] + 0.5 * raw[:, -4:, 1].mean(axis=1))
    score = score + 0.4 * rng.standard_normal(n)
    y = np.where(score > 0.45, 2, np.where(score < -0.45, 0, 1)).astype(np.int64)
    offset = np.array([3.0, -1.0, 0.0, 10.0, 0.5, -4.0])
    scale = np.array([2.0, 0.5, 1.0, 5.0, 0.1, 1.0])
    X = (raw * scale + offset).astype(np.float32)
    ts = pd.date_range("2024-01-02 14:30", periods=n, freq="min", tz="UTC")
    index = pd.DataFrame({"symbol": "SIM", "ts": ts, "t_end": ts + pd.Timedelta(minutes=5)})
    weight = rng.uniform(0.5, 1.0, n)
    names = tuple(f"f{i}" for i in range(N_FEATURES))
    return Dataset(X=X, y=y, weight=weight, index=index, feature_names=names)


@pytest.fixture(scope="session")
def splits() -> tuple[Dataset, Dataset, Dataset]:
    """(train, valid, test): 600, 200 and 200 samples from one stream."""
    data = make_dataset(1000, seed=7)
    return (
        data.take(np.arange(600)),
        data.take(np.arange(600, 800)),
        data.take(np.arange(800, 1000)),
    )


TINY_DEEP = {
    "max_epochs": 10,
    "batch_size": 64,
    "learning_rate": 1e-2,
    "n_threads": 1,
    "patience": 3,
}

TINY_MODELS: dict[str, ModelBase] = {
    "logistic": LogisticModel(C=1.0),
    "lightgbm": LightGBMModel(n_estimators=60, num_leaves=7, early_stopping_rounds=10, n_threads=1),
    "lstm": LSTMModel(hidden_size=12, **TINY_DEEP),
    "transformer": TransformerModel(
        d_model=16, n_heads=2, num_layers=1, dim_feedforward=32, **TINY_DEEP
    ),
}
"""One small, fast model of every kind (fresh copies via ``clone``)."""


def clone(model: ModelBase) -> ModelBase:
    """An unfitted copy with the same parameters."""
    return type(model)(**model.get_params())
