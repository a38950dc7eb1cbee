"""Training: experiment configs, walk-forward fitting, artifacts and tracking.

>>> from nexus.training import ExperimentConfig, run_experiment
"""

from nexus.training._artifacts import save_artifact, scaled_onnx
from nexus.training._config import (
    DataConfig,
    DatasetConfig,
    ExperimentConfig,
    HPOConfig,
    LabelConfig,
    ModelConfig,
    SplitConfig,
)
from nexus.training._prepare import Prepared, load_bars, make_labels, prepare, split_train_valid
from nexus.training._run import ExperimentReport, run_experiment
from nexus.training._tracking import MlflowTracker
from nexus.training._trainer import FoldResult, ModelResult, fit_fold, train_models

__all__ = [
    "DataConfig",
    "DatasetConfig",
    "ExperimentConfig",
    "ExperimentReport",
    "FoldResult",
    "HPOConfig",
    "LabelConfig",
    "MlflowTracker",
    "ModelConfig",
    "ModelResult",
    "Prepared",
    "SplitConfig",
    "fit_fold",
    "load_bars",
    "make_labels",
    "prepare",
    "run_experiment",
    "save_artifact",
    "scaled_onnx",
    "split_train_valid",
    "train_models",
]
