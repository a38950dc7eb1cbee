"""The LSTM classifier (seed 004's first model)."""

from __future__ import annotations

from typing import ClassVar

from torch import nn

from nexus.models._deep import TorchModel
from nexus.models._networks import LSTMNetwork
from nexus.models._params import Constraint, Interval, Options
from nexus.models._torch_training import TRAINING_CONSTRAINTS

__all__ = ["LSTMModel"]


class LSTMModel(TorchModel):
    """An LSTM over the window; the last hidden state feeds a 3-way softmax.

    Features are standardised inside the network with the training split's
    mean and std. Trained by the shared loop (``nexus.models._torch_training``),
    calibrated on the validation split.

    Parameters
    ----------
    hidden_size : int
        LSTM units per layer.
    num_layers : int
        Stacked LSTM layers.
    dropout : float
        Between LSTM layers (when more than one) and before the output layer.
    max_epochs, batch_size, learning_rate, weight_decay, patience, min_delta, grad_clip, \
loss, focal_gamma, class_weight, n_threads
        Training; see :class:`~nexus.models._torch_training.TrainingSettings`. The default
        ``batch_size`` is 128, not 256: on CPU the LSTM trains about a third faster per
        sample with 128 (its activations stay in cache).
    calibration : {"bcts", "temperature", "isotonic", None}
        Probability calibration fitted on the validation split, after the class
        weighting's prior shift is taken out (see ``ModelBase``); ``"bcts"`` also fits a
        bias per class, which matches the validation split's class frequencies.
    random_state : int
        Seeds weight initialisation, dropout and shuffling (``TrainingSettings.seed``).

    Attributes
    ----------
    network_ : LSTMNetwork
    history_ : TrainingHistory
    calibrator_, n_features_in_, lookback_, feature_names_in_
        See :class:`~nexus.models.ModelBase`.

    Examples
    --------
    >>> LSTMModel(hidden_size=32, max_epochs=10)
    LSTMModel(hidden_size=32, max_epochs=10)
    """

    name: ClassVar[str] = "lstm"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "hidden_size": [Interval(int, 1, None)],
        "num_layers": [Interval(int, 1, None)],
        "dropout": [Interval(float, 0, 1, closed="left")],
        "calibration": [Options(("bcts", "temperature", "isotonic", None))],
        **TRAINING_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        hidden_size: int = 64,
        num_layers: int = 1,
        dropout: float = 0.1,
        max_epochs: int = 50,
        batch_size: int = 128,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-4,
        patience: int = 5,
        min_delta: float = 0.0,
        grad_clip: float | None = 1.0,
        loss: str = "cross_entropy",
        focal_gamma: float = 2.0,
        class_weight: str | None = "balanced",
        calibration: str | None = "temperature",
        random_state: int = 0,
        n_threads: int | None = None,
    ) -> None:
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.patience = patience
        self.min_delta = min_delta
        self.grad_clip = grad_clip
        self.loss = loss
        self.focal_gamma = focal_gamma
        self.class_weight = class_weight
        self.calibration = calibration
        self.random_state = random_state
        self.n_threads = n_threads

    def _build(self) -> nn.Module:
        return LSTMNetwork(self.n_features_in_, self.hidden_size, self.num_layers, self.dropout)
