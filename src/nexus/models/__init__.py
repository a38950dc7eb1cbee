"""Models: one :class:`Model` protocol, four implementations, calibration and ONNX export.

Every model maps feature windows (n, L, F) to calibrated probabilities of
DOWN, NEUTRAL, UP; follows the scikit-learn estimator contract (checked by
:func:`check_model`); saves to a directory; and exports one ONNX file that
ONNX Runtime runs in the live engine. See ``docs/models.md``.

- :class:`LogisticModel`: multinomial logistic regression (scikit-learn) on the last row.
- :class:`LightGBMModel`: LightGBM multiclass boosting on the last row.
- :class:`LSTMModel`, :class:`TransformerModel`: PyTorch, trained by one shared loop.
"""

from nexus.models._base import ModelBase
from nexus.models._calibration import IsotonicCalibration, NoCalibration, TemperatureScaling
from nexus.models._checks import check_model, onnx_predict
from nexus.models._lightgbm import LightGBMModel
from nexus.models._logistic import LogisticModel
from nexus.models._lstm import LSTMModel
from nexus.models._protocol import EpochCallback, Model
from nexus.models._registry import MODELS, load_model, make_model
from nexus.models._torch_training import TrainingHistory, TrainingSettings, fit_network
from nexus.models._transformer import TransformerModel

__all__ = [
    "MODELS",
    "EpochCallback",
    "IsotonicCalibration",
    "LSTMModel",
    "LightGBMModel",
    "LogisticModel",
    "Model",
    "ModelBase",
    "NoCalibration",
    "TemperatureScaling",
    "TrainingHistory",
    "TrainingSettings",
    "TransformerModel",
    "check_model",
    "fit_network",
    "load_model",
    "make_model",
    "onnx_predict",
]
