"""Training: experiment configs, walk-forward fitting, artifacts, tracking and the nightly job.

>>> from nexus.training import ExperimentConfig, run_experiment
"""

from nexus.training._artifacts import save_artifact, scaled_onnx
from nexus.training._bootstrap import bootstrap_champions
from nexus.training._config import (
    DataConfig,
    DatasetConfig,
    ExperimentConfig,
    HPOConfig,
    LabelConfig,
    ModelConfig,
    SplitConfig,
)
from nexus.training._prepare import (
    Prepared,
    load_bars,
    load_context,
    make_labels,
    prepare,
    split_train_valid,
)
from nexus.training._reports import (
    ModelBacktest,
    fold_report,
    model_backtest,
    permutation_importance,
)
from nexus.training._retrain import RetrainReport, retrain
from nexus.training._run import ExperimentReport, run_experiment
from nexus.training._schedule import SessionCloseTrigger, crontab_line, run_schedule
from nexus.training._tracking import MlflowTracker
from nexus.training._trainer import FoldResult, ModelResult, fit_fold, train_models
from nexus.training._validate import (
    Comparison,
    ValidationConfig,
    Verdict,
    apply_decision,
    compare,
    decide,
    judge,
    score_artifact,
    slot_specs,
    trained_until,
    validation_start,
)

__all__ = [
    "Comparison",
    "DataConfig",
    "DatasetConfig",
    "ExperimentConfig",
    "ExperimentReport",
    "FoldResult",
    "HPOConfig",
    "LabelConfig",
    "MlflowTracker",
    "ModelBacktest",
    "ModelConfig",
    "ModelResult",
    "Prepared",
    "RetrainReport",
    "SessionCloseTrigger",
    "SplitConfig",
    "ValidationConfig",
    "Verdict",
    "apply_decision",
    "bootstrap_champions",
    "compare",
    "crontab_line",
    "decide",
    "fit_fold",
    "fold_report",
    "judge",
    "load_bars",
    "load_context",
    "make_labels",
    "model_backtest",
    "permutation_importance",
    "prepare",
    "retrain",
    "run_experiment",
    "run_schedule",
    "save_artifact",
    "scaled_onnx",
    "score_artifact",
    "slot_specs",
    "split_train_valid",
    "train_models",
    "trained_until",
    "validation_start",
]
