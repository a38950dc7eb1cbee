"""What LSTMModel and TransformerModel share: standardisation, the loop, persistence, ONNX."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from torch import nn

from nexus.datasets import Dataset
from nexus.models._base import ModelBase
from nexus.models._data import feature_moments
from nexus.models._onnx import torch_logits_model
from nexus.models._protocol import EpochCallback
from nexus.models._torch_training import (
    TrainingHistory,
    TrainingSettings,
    fit_network,
    predict_logits,
    torch_session,
)

__all__ = ["TorchModel"]

_WEIGHTS = "network.pt"


class TorchModel(ModelBase):
    """Base of the PyTorch models: subclasses only say how to build their network.

    Attributes
    ----------
    network_ : nn.Module
        In eval mode, with the best validation epoch's weights and the training
        split's feature mean and std in its first layer.
    history_ : TrainingHistory
        Losses per epoch, best epoch, whether it stopped early.
    """

    @abstractmethod
    def _build(self) -> nn.Module:
        """A new network for ``n_features_in_`` and ``lookback_`` (its first layer ``scale``)."""

    def _settings(self) -> TrainingSettings:
        return TrainingSettings.from_params(self.get_params())

    def _fit(self, train: Dataset, valid: Dataset, on_epoch: EpochCallback | None) -> None:
        mean, std = feature_moments(train.X)

        def build() -> nn.Module:
            network = self._build()
            network.scale.set(mean, std)
            return network

        self.network_, self.history_ = fit_network(build, train, valid, self._settings(), on_epoch)

    def _logits(self, X: np.ndarray) -> np.ndarray:
        return predict_logits(self.network_, X, self.get_params()["n_threads"])

    def _save_state(self, folder: Path) -> dict[str, Any]:
        torch.save(self.network_.state_dict(), folder / _WEIGHTS)
        return {"history": self.history_.to_json(), "weights": _WEIGHTS}

    def _load_state(self, folder: Path, state: dict[str, Any]) -> None:
        with torch_session(0, None):  # building draws initial weights; keep the caller's RNG
            network = self._build()
        network.load_state_dict(torch.load(folder / state["weights"], weights_only=True))
        self.network_ = network.eval()
        self.history_ = TrainingHistory.from_json(state["history"])

    def _onnx_logits(self) -> onnx.ModelProto:
        return torch_logits_model(self.network_, self.lookback_, self.n_features_in_)
