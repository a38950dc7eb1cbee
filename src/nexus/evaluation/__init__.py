"""Metrics, baselines, significance tests and the backtester (costs, sizing, overfitting)."""

from nexus.evaluation._align import PROBA_COLUMNS
from nexus.evaluation._backtest import BacktestConfig, BacktestResult, backtest
from nexus.evaluation._costs import CostModel
from nexus.evaluation._metrics import (
    EPS,
    classification_metrics,
    conditional_baseline,
    edge_significance,
    majority_baseline,
    paired_f1_significance,
    skill_significance,
)
from nexus.evaluation._overfitting import (
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
)
from nexus.evaluation._performance import drawdown, performance_metrics
from nexus.evaluation._periods import infer_interval, periods_per_year
from nexus.evaluation._sizing import SizingConfig, kelly_weights
from nexus.evaluation._threshold import ThresholdChoice, select_threshold
from nexus.evaluation._trades import TRADE_COLUMNS

__all__ = [
    "EPS",
    "PROBA_COLUMNS",
    "TRADE_COLUMNS",
    "BacktestConfig",
    "BacktestResult",
    "CostModel",
    "SizingConfig",
    "ThresholdChoice",
    "backtest",
    "classification_metrics",
    "conditional_baseline",
    "deflated_sharpe_ratio",
    "drawdown",
    "edge_significance",
    "expected_max_sharpe",
    "infer_interval",
    "kelly_weights",
    "majority_baseline",
    "paired_f1_significance",
    "performance_metrics",
    "periods_per_year",
    "probabilistic_sharpe_ratio",
    "probability_of_backtest_overfitting",
    "select_threshold",
    "skill_significance",
]
