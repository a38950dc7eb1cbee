"""Metrics, baselines and significance tests (the backtester comes later)."""

from nexus.evaluation._metrics import (
    EPS,
    classification_metrics,
    conditional_baseline,
    edge_significance,
    majority_baseline,
    skill_significance,
)

__all__ = [
    "EPS",
    "classification_metrics",
    "conditional_baseline",
    "edge_significance",
    "majority_baseline",
    "skill_significance",
]
