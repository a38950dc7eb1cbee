"""What a model learns to predict: triple-barrier and fixed-horizon labels, and sample weights.

Every rule takes a bar frame (:data:`nexus.domain.BAR_COLUMNS`) and returns one
row per labelled decision bar with :data:`LABEL_COLUMNS`: ``symbol``, ``ts`` (the
decision bar; the decision is taken at its close), ``label`` (-1, 0, +1),
``t_touch`` (the bar that ended the label), ``t_end`` (when the label is known,
the close of ``t_touch``), ``ret`` (log return to the exit) and ``both`` (the
ending bar touched both barriers). The rules are in ``docs/labels_and_splits.md``.
"""

from nexus.labels._bars import LABEL_COLUMNS
from nexus.labels._fixed_horizon import fixed_horizon
from nexus.labels._triple_barrier import ewm_volatility, triple_barrier
from nexus.labels._weights import uniqueness_weights

__all__ = [
    "LABEL_COLUMNS",
    "ewm_volatility",
    "fixed_horizon",
    "triple_barrier",
    "uniqueness_weights",
]
