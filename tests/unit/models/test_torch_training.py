"""The shared PyTorch loop: early stopping, best checkpoint, weighting, seeds, callbacks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nexus.datasets import Dataset
from nexus.models import LSTMModel, TrainingSettings, TransformerModel, fit_network
from nexus.models._data import class_weights
from nexus.models._networks import LSTMNetwork
from nexus.models._torch_training import evaluate_loss
from tests.unit.models.conftest import N_FEATURES, make_dataset


@pytest.fixture(scope="module")
def noise() -> tuple[Dataset, Dataset]:
    """No signal at all: a big network can only overfit, so validation loss rises early."""
    data = make_dataset(500, seed=3, signal=0.0)
    return data.take(np.arange(300)), data.take(np.arange(300, 500))


def test_early_stopping_stops_and_restores_the_best_epoch(noise: tuple[Dataset, Dataset]) -> None:
    train, valid = noise
    seen: list[tuple[int, float, float]] = []
    model = LSTMModel(
        hidden_size=48, dropout=0.0, learning_rate=2e-2, batch_size=32, max_epochs=40,
        patience=3, weight_decay=0.0, n_threads=1,
    )  # fmt: skip
    model.fit(train, valid, on_epoch=lambda *args: seen.append(args))
    history = model.history_
    epochs = len(history.valid_loss)
    assert history.stopped_early
    assert epochs == history.best_epoch + 3 < 40
    assert history.valid_loss[history.best_epoch - 1] == min(history.valid_loss)
    assert seen == [
        (e + 1, t, v)
        for e, (t, v) in enumerate(zip(history.train_loss, history.valid_loss, strict=True))
    ]
    settings = TrainingSettings.from_params(model.get_params())
    restored = evaluate_loss(model.network_, valid, settings, train)
    assert restored == pytest.approx(history.valid_loss[history.best_epoch - 1], rel=1e-5)


def test_min_delta_and_max_epochs(noise: tuple[Dataset, Dataset]) -> None:
    train, valid = noise
    model = TransformerModel(
        d_model=8, num_layers=1, dim_feedforward=8, max_epochs=2, n_threads=1, min_delta=10.0
    ).fit(train, valid)
    # nothing improves by 10 nats: the first epoch stays best, patience (5) is not reached
    assert model.history_.best_epoch == 1
    assert len(model.history_.valid_loss) == 2
    assert not model.history_.stopped_early


def test_focal_loss_with_gamma_zero_is_cross_entropy(noise: tuple[Dataset, Dataset]) -> None:
    train, valid = noise
    params = {"hidden_size": 8, "max_epochs": 2, "n_threads": 1}
    ce = LSTMModel(**params).fit(train, valid).history_
    focal0 = LSTMModel(**params, loss="focal", focal_gamma=0.0).fit(train, valid).history_
    focal2 = LSTMModel(**params, loss="focal", focal_gamma=2.0).fit(train, valid).history_
    np.testing.assert_allclose(focal0.valid_loss, ce.valid_loss, rtol=1e-6)
    assert all(f < c for f, c in zip(focal2.valid_loss, ce.valid_loss, strict=True))


def test_balanced_class_weights_keep_the_mass() -> None:
    y = np.array([0, 0, 0, 1, 2, 2])
    weight = np.array([1.0, 1.0, 1.0, 0.5, 1.0, 1.0])
    cw = class_weights(y, weight, "balanced")
    mass = np.bincount(y, weights=weight)
    np.testing.assert_allclose(cw, weight.sum() / (3 * mass))
    np.testing.assert_allclose(mass * cw, np.full(3, weight.sum() / 3))
    np.testing.assert_array_equal(class_weights(y, weight, None), np.ones(3))


def test_sample_weights_change_the_fit(noise: tuple[Dataset, Dataset]) -> None:
    train, valid = noise
    params = {"hidden_size": 8, "max_epochs": 1, "n_threads": 1}
    plain = LSTMModel(**params).fit(train, valid).history_.train_loss
    skewed = Dataset(
        train.X, train.y, np.linspace(0.01, 1, len(train)), train.index, train.feature_names
    )
    assert LSTMModel(**params).fit(skewed, valid).history_.train_loss != plain


def test_training_leaves_torch_global_state_alone(noise: tuple[Dataset, Dataset]) -> None:
    train, valid = noise
    threads = torch.get_num_threads()
    rng_state = torch.random.get_rng_state()
    LSTMModel(hidden_size=4, max_epochs=1, n_threads=1, random_state=5).fit(train, valid)
    assert torch.get_num_threads() == threads
    assert torch.equal(torch.random.get_rng_state(), rng_state)


def test_fit_network_is_seeded(noise: tuple[Dataset, Dataset]) -> None:
    train, valid = noise

    def build() -> torch.nn.Module:
        return LSTMNetwork(N_FEATURES, 4, 1, 0.0)

    runs = [
        fit_network(build, train, valid, TrainingSettings(max_epochs=2, seed=s, n_threads=1))[1]
        for s in (1, 1, 2)
    ]
    assert runs[0].valid_loss == runs[1].valid_loss != runs[2].valid_loss
