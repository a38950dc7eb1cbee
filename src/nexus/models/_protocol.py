"""The one interface every Nexus model implements."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, Self, runtime_checkable

import numpy as np

from nexus.datasets import Dataset

__all__ = ["EpochCallback", "Model"]

EpochCallback = Callable[[int, float, float], None]
"""``on_epoch(epoch, train_loss, valid_loss)``, called after each epoch (boosting round for
LightGBM); ``epoch`` counts from 1. A loss a model does not compute is NaN. The CLI hooks its
progress bar here."""


@runtime_checkable
class Model(Protocol):
    """A 3-class probabilistic classifier of feature windows (DOWN, NEUTRAL, UP).

    Implementations follow the scikit-learn estimator contract: ``__init__``
    stores keyword hyper-parameters unchanged, ``fit`` validates them and
    learns, learned state ends in ``_``, ``fit`` returns ``self`` and a second
    ``fit`` starts from scratch. :func:`nexus.models.check_model` checks all of
    it, and more, for any implementation.
    """

    @property
    def name(self) -> str:
        """Short, stable model name used in configs and saved artifacts (``"lstm"``)."""
        ...

    @property
    def params(self) -> dict[str, Any]:
        """The hyper-parameters, as ``get_params()`` returns them."""
        ...

    def fit(self, train: Dataset, valid: Dataset, *, on_epoch: EpochCallback | None = None) -> Self:
        """Learn from ``train``; early-stop and calibrate on ``valid``; return ``self``."""
        ...

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, shape (n, 3), columns DOWN, NEUTRAL, UP.

        ``X`` has shape (n, L, F) with the training ``L`` and ``F``; tabular
        models read ``X[:, -1, :]``.
        """
        ...

    def save(self, path: Path) -> None:
        """Write the fitted model (with its calibrator) to the new directory ``path``."""
        ...

    @classmethod
    def load(cls, path: Path) -> Model:
        """Read a model that :meth:`save` wrote."""
        ...

    def export_onnx(self, path: Path) -> None:
        """Write an ONNX file: input ``x`` float32 (batch, L, F), output ``probabilities``
        float32 (batch, 3), calibrated, equal to :meth:`predict_proba` within 1e-5."""
        ...
