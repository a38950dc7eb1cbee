"""The one training loop of every PyTorch model.

:func:`fit_network` builds a network and trains it with AdamW on shuffled
mini-batches, weighting each sample by ``Dataset.weight`` times its class
weight, with cross-entropy or focal loss and gradient clipping. After each
epoch it measures the same objective on the validation split, keeps a copy of
the best weights, stops after ``patience`` epochs without improvement and
restores the best weights. Seeds and the thread count apply inside the call
only: the caller's RNG state and thread count are restored afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from nexus.datasets import Dataset
from nexus.errors import ConfigError
from nexus.models._data import class_weights
from nexus.models._params import Interval, Options
from nexus.models._protocol import EpochCallback

__all__ = [
    "TRAINING_CONSTRAINTS",
    "TrainingHistory",
    "TrainingSettings",
    "evaluate_loss",
    "fit_network",
    "predict_logits",
    "torch_session",
]

_EVAL_BATCH = 4096

TRAINING_CONSTRAINTS = {
    "max_epochs": [Interval(int, 1, None)],
    "batch_size": [Interval(int, 1, None)],
    "learning_rate": [Interval(float, 0, None, closed="neither")],
    "weight_decay": [Interval(float, 0, None)],
    "patience": [Interval(int, 1, None)],
    "min_delta": [Interval(float, 0, None)],
    "grad_clip": [Interval(float, 0, None, closed="neither"), Options((None,))],
    "loss": [Options(("cross_entropy", "focal"))],
    "focal_gamma": [Interval(float, 0, None)],
    "class_weight": [Options(("balanced", None))],
    "random_state": [Interval(int, 0, 2**32 - 1)],
    "n_threads": [Interval(int, 1, None), Options((None,))],
}
"""Constraints of the training hyper-parameters every deep model shares."""


@dataclass(frozen=True, slots=True)
class TrainingSettings:
    """How :func:`fit_network` trains; the deep models' training hyper-parameters.

    Parameters
    ----------
    max_epochs : int
        Upper bound on passes over the training data.
    batch_size : int
        Samples per optimiser step.
    learning_rate, weight_decay : float
        AdamW's.
    patience : int
        Epochs without a validation-loss improvement larger than ``min_delta`` before stopping.
    min_delta : float
        Smallest decrease of the validation loss that counts as an improvement.
    grad_clip : float or None
        Maximum global gradient norm; None disables clipping.
    loss : {"cross_entropy", "focal"}
        Focal loss multiplies each sample's cross-entropy by ``(1 - p_true) ** focal_gamma``.
    focal_gamma : float
    class_weight : {"balanced", None}
        ``"balanced"``: inverse class frequency in ``train`` (see ``class_weights``).
    seed : int
        Seeds weight initialisation, dropout (``torch.manual_seed``) and shuffling (numpy).
    n_threads : int or None
        ``torch.set_num_threads`` during the call; None keeps the current count.
    """

    max_epochs: int = 50
    batch_size: int = 256
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    patience: int = 5
    min_delta: float = 0.0
    grad_clip: float | None = 1.0
    loss: str = "cross_entropy"
    focal_gamma: float = 2.0
    class_weight: str | None = "balanced"
    seed: int = 0
    n_threads: int | None = None

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> TrainingSettings:
        """The settings among a model's hyper-parameters (``random_state`` is ``seed``)."""
        chosen = {k: params[k] for k in cls.__slots__ if k != "seed"}
        return cls(**chosen, seed=params["random_state"])


@dataclass(slots=True)
class TrainingHistory:
    """Per-epoch losses of one training run.

    Attributes
    ----------
    train_loss, valid_loss : list of float
        Weighted objective per epoch (train: running mean with dropout on).
    best_epoch : int
        The epoch (from 1) whose weights were kept.
    stopped_early : bool
        Whether patience ran out before ``max_epochs``.
    """

    train_loss: list[float] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "train_loss": self.train_loss,
            "valid_loss": self.valid_loss,
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
        }

    @classmethod
    def from_json(cls, state: dict[str, Any]) -> TrainingHistory:
        """Rebuild from :meth:`to_json`."""
        return cls(**state)


@contextmanager
def torch_session(seed: int | None, n_threads: int | None) -> Iterator[None]:
    """Seed torch and set its thread count inside; restore the caller's state after.

    Parameters
    ----------
    seed : int or None
        ``torch.manual_seed`` inside a forked RNG state; None leaves the RNG alone.
    n_threads : int or None
        ``torch.set_num_threads`` inside; None leaves the count alone.
    """
    previous = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        if n_threads is not None:
            torch.set_num_threads(n_threads)
        try:
            yield
        finally:
            torch.set_num_threads(previous)


class _Objective:
    """Per-sample loss times class weight times sample weight, normalised by weight mass."""

    def __init__(self, settings: TrainingSettings, weights: np.ndarray) -> None:
        self.focal = settings.loss == "focal"
        self.gamma = settings.focal_gamma
        self.class_weight = torch.as_tensor(weights, dtype=torch.float32)

    def sums(
        self, logits: torch.Tensor, y: torch.Tensor, w: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(weighted loss sum, weight mass) of one batch."""
        log_p = torch.log_softmax(logits, dim=1).gather(1, y[:, None]).squeeze(1)
        loss = -log_p
        if self.focal:
            loss = loss * (1.0 - log_p.exp()).clamp_min(0.0).pow(self.gamma)
        mass = w * self.class_weight[y]
        return (loss * mass).sum(), mass.sum()


@dataclass(slots=True)
class _Tensors:
    """A split's windows (numpy, shared, not copied), labels and weights (torch)."""

    X: np.ndarray
    y: torch.Tensor
    w: torch.Tensor

    @classmethod
    def of(cls, data: Dataset) -> _Tensors:
        return cls(
            np.ascontiguousarray(data.X, dtype=np.float32),
            torch.from_numpy(np.asarray(data.y, dtype=np.int64)),
            torch.from_numpy(np.asarray(data.weight, dtype=np.float32)),
        )

    def windows(self, rows: np.ndarray | slice) -> torch.Tensor:
        """Windows at ``rows`` as a tensor. numpy's ``take`` copies whole rows; torch's
        advanced indexing gathered a (256, 60, 40) batch about 20x slower (torch 2.13)."""
        if isinstance(rows, slice):
            return torch.from_numpy(self.X[rows])
        return torch.from_numpy(self.X.take(rows, axis=0))


def fit_network(
    build: Callable[[], nn.Module],
    train: Dataset,
    valid: Dataset,
    settings: TrainingSettings,
    on_epoch: EpochCallback | None = None,
) -> tuple[nn.Module, TrainingHistory]:
    """Build a network and train it with early stopping; return it with the best weights.

    Parameters
    ----------
    build : callable
        Returns a new network mapping float32 (batch, L, F) to logits (batch, 3);
        called inside the seeded session so its initial weights are reproducible.
    train : Dataset
        Checked training split (see ``check_fit_data``).
    valid : Dataset
        Checked validation split, for early stopping.
    settings : TrainingSettings
        Optimiser, batches, loss, early stopping, seed and threads.
    on_epoch : callable, optional
        ``on_epoch(epoch, train_loss, valid_loss)`` after each epoch, ``epoch`` from 1.

    Returns
    -------
    network : nn.Module
        In eval mode, holding the weights of the best validation epoch.
    history : TrainingHistory

    Raises
    ------
    ConfigError
        If the loss becomes NaN or infinite (learning rate too high).
    """
    weights = class_weights(np.asarray(train.y), np.asarray(train.weight), settings.class_weight)
    objective = _Objective(settings, weights)
    with torch_session(settings.seed, settings.n_threads):
        network = build()
        history = _train(
            network, _Tensors.of(train), _Tensors.of(valid), objective, settings, on_epoch
        )
    network.eval()
    return network, history


def _train(
    network: nn.Module,
    train: _Tensors,
    valid: _Tensors,
    objective: _Objective,
    settings: TrainingSettings,
    on_epoch: EpochCallback | None,
) -> TrainingHistory:
    optimizer = torch.optim.AdamW(
        network.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    rng = np.random.default_rng(settings.seed)
    history = TrainingHistory()
    best_loss, best_state, waited = math.inf, _copy_state(network), 0
    for epoch in range(1, settings.max_epochs + 1):
        train_loss = _train_epoch(network, optimizer, train, objective, settings, rng)
        valid_loss = _evaluate(network, valid, objective)
        _check_finite(epoch, train_loss, valid_loss)
        history.train_loss.append(train_loss)
        history.valid_loss.append(valid_loss)
        if on_epoch is not None:
            on_epoch(epoch, train_loss, valid_loss)
        if valid_loss < best_loss - settings.min_delta:
            best_loss, best_state, waited = valid_loss, _copy_state(network), 0
            history.best_epoch = epoch
        else:
            waited += 1
            if waited >= settings.patience:
                history.stopped_early = epoch < settings.max_epochs
                break
    network.load_state_dict(best_state)
    return history


def _train_epoch(
    network: nn.Module,
    optimizer: torch.optim.Optimizer,
    data: _Tensors,
    objective: _Objective,
    settings: TrainingSettings,
    rng: np.random.Generator,
) -> float:
    network.train()
    order = rng.permutation(len(data.y))
    total, mass = 0.0, 0.0
    for start in range(0, len(order), settings.batch_size):
        rows = order[start : start + settings.batch_size]
        picked = torch.from_numpy(rows)
        loss_sum, batch_mass = objective.sums(
            network(data.windows(rows)), data.y[picked], data.w[picked]
        )
        if batch_mass.item() <= 0:
            continue
        optimizer.zero_grad(set_to_none=True)
        (loss_sum / batch_mass).backward()
        if settings.grad_clip is not None:
            nn.utils.clip_grad_norm_(network.parameters(), settings.grad_clip)
        optimizer.step()
        total += loss_sum.item()
        mass += batch_mass.item()
    return total / mass if mass > 0 else math.nan


@torch.no_grad()
def _evaluate(network: nn.Module, data: _Tensors, objective: _Objective) -> float:
    network.eval()
    total, mass = 0.0, 0.0
    for start in range(0, len(data.y), _EVAL_BATCH):
        part = slice(start, start + _EVAL_BATCH)
        loss_sum, batch_mass = objective.sums(
            network(data.windows(part)), data.y[part], data.w[part]
        )
        total += loss_sum.item()
        mass += batch_mass.item()
    return total / mass if mass > 0 else math.nan


def evaluate_loss(
    network: nn.Module, data: Dataset, settings: TrainingSettings, train: Dataset
) -> float:
    """The training objective of ``network`` on ``data`` (class weights from ``train``)."""
    weights = class_weights(np.asarray(train.y), np.asarray(train.weight), settings.class_weight)
    with torch_session(None, settings.n_threads):
        return _evaluate(network, _Tensors.of(data), _Objective(settings, weights))


@torch.no_grad()
def predict_logits(network: nn.Module, X: np.ndarray, n_threads: int | None) -> np.ndarray:
    """Logits (n, 3) float64 of float32 windows ``X`` (n, L, F), in eval mode and batches."""
    network.eval()
    tensor = torch.from_numpy(X)
    with torch_session(None, n_threads):
        parts = [network(tensor[i : i + _EVAL_BATCH]) for i in range(0, len(X), _EVAL_BATCH)]
    return torch.cat(parts).double().numpy()


def _copy_state(network: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in network.state_dict().items()}


def _check_finite(epoch: int, train_loss: float, valid_loss: float) -> None:
    if not (math.isfinite(train_loss) and math.isfinite(valid_loss)):
        raise ConfigError(
            f"training diverged at epoch {epoch}: train loss {train_loss}, valid {valid_loss}",
            fix="lower learning_rate, keep grad_clip on, or check the features' scale",
        )
