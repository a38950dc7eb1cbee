"""Experiment configs: what to train, on which data, validated how (YAML -> typed, frozen)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from nexus.config import FrozenConfig, read_yaml
from nexus.domain import Interval
from nexus.registry import check_name

__all__ = [
    "DataConfig",
    "DatasetConfig",
    "ExperimentConfig",
    "HPOConfig",
    "LabelConfig",
    "ModelConfig",
    "SplitConfig",
]


class DataConfig(FrozenConfig):
    """Which stored bars to learn from (``symbols: null`` = every stored symbol)."""

    symbols: list[str] | None = None
    interval: str = "1m"
    start: date | None = None
    end: date | None = None

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: str) -> str:
        return Interval.parse(value).value


class LabelConfig(FrozenConfig):
    """The target: triple-barrier or fixed-horizon direction over ``horizon`` bars."""

    kind: Literal["triple_barrier", "fixed_horizon"] = "triple_barrier"
    horizon: int = Field(15, ge=1)
    upper: float = Field(2.0, gt=0)
    lower: float = Field(2.0, gt=0)
    vol_span: int = Field(100, ge=2)
    threshold: float = Field(0.0, ge=0)


class DatasetConfig(FrozenConfig):
    """Windows of ``lookback`` bars, a decision every ``stride`` bars."""

    lookback: int = Field(60, ge=1)
    stride: int = Field(5, ge=1)
    weights: Literal["uniqueness", "none"] = "uniqueness"


class SplitConfig(FrozenConfig):
    """Walk-forward folds on time, purged and embargoed by the label horizon."""

    kind: Literal["walk_forward", "purged_kfold"] = "walk_forward"
    n_folds: int = Field(3, ge=1)
    mode: Literal["expanding", "rolling"] = "expanding"
    test_size: float = Field(0.15, gt=0)
    valid_size: float = Field(0.15, gt=0, lt=1)
    min_train: int = Field(200, ge=1)
    min_test: int = Field(50, ge=1)


class ModelConfig(FrozenConfig):
    """One model to train: ``model`` names it (lightgbm, logistic, lstm, transformer)."""

    model: str
    slot: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("slot")
    @classmethod
    def _check_slot(cls, value: str | None) -> str | None:
        return None if value is None else check_name(value, what="slot")

    @property
    def slot_name(self) -> str:
        """Where the trained model's versions are kept (default: the model name)."""
        return self.slot or self.model


class HPOConfig(FrozenConfig):
    """Optuna search: ``trials`` > 0 tunes ``model`` over ``space`` on the first fold."""

    trials: int = Field(0, ge=0)
    model: str = "lightgbm"
    metric: Literal["log_loss", "macro_f1", "accuracy"] = "log_loss"
    space: dict[str, dict[str, Any]] = Field(default_factory=dict)


class ExperimentConfig(FrozenConfig):
    """A whole training experiment (``configs/experiments/*.yaml``).

    Examples
    --------
    >>> cfg = ExperimentConfig(models=[{"model": "lightgbm"}])
    >>> cfg.labels.kind, cfg.dataset.lookback, cfg.models[0].model
    ('triple_barrier', 60, 'lightgbm')
    """

    name: str = "default"
    seed: int = 7
    data: DataConfig = Field(default_factory=DataConfig)
    features: str = "default"
    labels: LabelConfig = Field(default_factory=LabelConfig)
    dataset: DatasetConfig = Field(default_factory=DatasetConfig)
    splits: SplitConfig = Field(default_factory=SplitConfig)
    models: list[ModelConfig] = Field(min_length=1)
    hpo: HPOConfig = Field(default_factory=HPOConfig)

    @classmethod
    def from_yaml(cls, path: Path | str) -> ExperimentConfig:
        """Read and validate an experiment file.

        Raises
        ------
        SourceNotFoundError, ConfigError
            If the file is missing, not YAML or not a mapping; pydantic's
            ``ValidationError`` names any unknown or invalid field.
        """
        raw = read_yaml(path, what="experiment config", example="configs/experiments/default.yaml")
        return cls.model_validate(raw)
