"""Call thresholds chosen on validation data, never by hand."""

from __future__ import annotations

import numpy as np
import pytest

from nexus.errors import DataError
from nexus.evaluation import select_threshold


def _calibrated(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from the probabilities themselves: perfectly calibrated forecasts."""
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet([2.0, 4.0, 2.0], size=n)
    y = np.array([rng.choice(3, p=p) for p in proba])
    return y, proba


def test_weak_calls_that_are_noise_raise_the_threshold():
    # top-class UP/DOWN calls below 0.5 are wrong (the truth is NEUTRAL); above 0.6 right
    rng = np.random.default_rng(1)
    strength = rng.uniform(0.36, 0.8, size=4_000)
    side = rng.choice([0, 2], size=4_000)
    proba = np.zeros((4_000, 3))
    proba[np.arange(4_000), side] = strength
    proba[:, 1] = (1 - strength) * 0.6
    proba[np.arange(4_000), 2 - side] = (1 - strength) * 0.4
    y = np.where(strength >= 0.6, side, 1)
    choice = select_threshold(y, proba)
    assert choice.value == pytest.approx(0.6)
    assert choice.precision == 1.0
    argmax = select_threshold(y, proba, grid=(0.34,))
    assert argmax.precision < 0.5 < choice.score
    assert choice.to_dict()["n"] == 4_000


def test_the_choice_scores_at_least_every_other_threshold():
    y, proba = _calibrated(5_000, 1)
    choice = select_threshold(y, proba)
    for t in (0.34, 0.4, 0.5, 0.6):
        assert choice.score >= select_threshold(y, proba, grid=(t,)).score


def test_min_call_rate_keeps_some_calls():
    y, proba = _calibrated(2_000, 2)
    choice = select_threshold(y, proba, min_call_rate=0.2)
    assert choice.call_rate >= 0.2


def test_no_skill_falls_back_to_lowest_threshold_when_nothing_is_called():
    y = np.ones(50, dtype=int)
    proba = np.tile([0.2, 0.6, 0.2], (50, 1))
    assert select_threshold(y, proba).value == pytest.approx(0.34)


def test_bad_shapes_are_refused():
    with pytest.raises(DataError, match="probabilities"):
        select_threshold(np.zeros(3, dtype=int), np.zeros((4, 3)))
