from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, brier_score_loss, f1_score, log_loss, precision_score

from nexus.evaluation import (
    classification_metrics,
    conditional_baseline,
    edge_significance,
    majority_baseline,
    paired_f1_significance,
    skill_significance,
)
from nexus.evaluation._metrics import _score_per_shift


@pytest.fixture
def sample() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 500)
    proba = rng.dirichlet([1, 1, 1], 500)
    proba[np.arange(250), y[:250]] += 1.0  # half the rows lean to the truth
    return y, proba / proba.sum(axis=1, keepdims=True)


def test_metrics_match_scikit_learn(sample) -> None:
    y, proba = sample
    pred = proba.argmax(axis=1)
    m = classification_metrics(y, proba)
    assert m["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert m["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro"))
    assert m["macro_f1_updown"] == pytest.approx(f1_score(y, pred, labels=[0, 2], average="macro"))
    assert m["precision_up"] == pytest.approx(precision_score(y, pred, labels=[2], average="macro"))
    assert m["log_loss"] == pytest.approx(log_loss(y, proba, labels=[0, 1, 2]))
    up_brier = brier_score_loss(y == 2, proba[:, 2])
    assert m["brier"] > up_brier  # summed over three classes


def test_baselines() -> None:
    train_y = np.array([2, 2, 2, 0, 1])
    assert majority_baseline(train_y, 4).argmax(axis=1).tolist() == [2, 2, 2, 2]
    key_train = np.array([1, 1, 1, -1, 0])
    cond = conditional_baseline(np.array([2, 2, 2, 0, 0]), key_train, np.array([1, -1, 0]))
    assert cond.argmax(axis=1).tolist() == [2, 0, 0]
    assert np.allclose(cond.sum(axis=1), 1.0)


def test_edge_significance_detects_a_real_edge_and_not_a_coin() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 4000) * 2  # DOWN or UP
    base = majority_baseline(y, len(y))
    good = np.eye(3)[np.where(rng.random(len(y)) < 0.56, y, 2 - y)]
    coin = np.eye(3)[rng.integers(0, 2, len(y)) * 2]
    assert edge_significance(y, good, base) < 1e-3  # the smallest a 2000-draw bootstrap gives
    assert edge_significance(y, coin, base) > 0.01


def test_edge_significance_counts_correlated_samples_once() -> None:
    # 20 symbols that always move together: 200 bar times, not 4000 independent samples
    rng = np.random.default_rng(2)
    moves = rng.integers(0, 2, 200) * 2
    y = np.repeat(moves, 20)
    calls = np.repeat(np.where(rng.random(200) < 0.56, moves, 2 - moves), 20)
    model, base = np.eye(3)[calls], np.eye(3)[np.full(len(y), 2)]
    clusters = np.repeat(np.arange(200), 20)
    assert edge_significance(y, model, base) < 0.01
    assert edge_significance(y, model, base, clusters=clusters) > 0.01


@pytest.mark.parametrize("metric", ["macro_f1", "accuracy"])
def test_skill_significance_scores_every_shift_like_the_direct_computation(metric: str) -> None:
    rng = np.random.default_rng(3)
    y, pred = rng.integers(0, 3, 257), rng.integers(0, 3, 257)
    scores = _score_per_shift(y, pred, metric)
    for k in (0, 1, 2, 100, 256):
        direct = classification_metrics(y, np.eye(3)[np.roll(pred, k)])[metric]
        assert scores[k] == pytest.approx(direct, abs=1e-12)


def test_skill_significance_is_uniform_without_skill_and_small_with_it() -> None:
    rng = np.random.default_rng(4)
    p_null = []
    for _ in range(200):
        y = rng.integers(0, 3, 400)
        p_null.append(skill_significance(y, np.eye(3)[rng.choice(3, 400, p=[0.5, 0.2, 0.3])]))
    assert 0.02 <= np.mean(np.array(p_null) < 0.05) <= 0.09  # nominal 5%
    y = rng.integers(0, 3, 400)
    calls = np.where(rng.random(400) < 0.3, y, rng.integers(0, 3, 400))
    assert skill_significance(y, np.eye(3)[calls]) < 0.01


def test_skill_significance_is_not_fooled_by_two_unrelated_trends() -> None:
    """Regimes in both series: a shuffle would call chance alignment skill; rotation does not."""
    rng = np.random.default_rng(5)
    false_alarms = 0
    for _ in range(100):
        y = np.repeat(rng.integers(0, 3, 20), 50)  # 20 regimes of 50 samples
        calls = np.repeat(rng.integers(0, 3, 20), 50)
        false_alarms += skill_significance(y, np.eye(3)[calls], block=1) < 0.05
    assert false_alarms <= 10


def test_skill_significance_orders_samples_by_cluster_and_skips_near_shifts() -> None:
    rng = np.random.default_rng(6)
    ts = np.repeat(np.arange(300), 4)  # 4 symbols per bar time
    y = rng.integers(0, 3, len(ts))
    order = rng.permutation(len(ts))
    proba = np.eye(3)[y]
    shuffled = skill_significance(y[order], proba[order], clusters=ts[order], block=5)
    assert shuffled == skill_significance(y, proba, clusters=ts, block=5)
    assert shuffled < 0.001
    assert skill_significance(y[:1], proba[:1]) == 1.0
    with pytest.raises(ValueError, match="'brier' is not"):
        skill_significance(y, proba, metric="brier")


def test_paired_f1_difference_matches_the_metric_and_resamples_clusters() -> None:
    rng = np.random.default_rng(7)
    ts = np.repeat(np.arange(400), 5)
    y = rng.integers(0, 3, len(ts))
    a, b = rng.dirichlet([1, 1, 1], len(ts)), rng.dirichlet([1, 1, 1], len(ts))
    diff, p = paired_f1_significance(y, a, b, clusters=ts, block=3, n_boot=500)
    expected = (
        classification_metrics(y, a)["macro_f1_updown"]
        - classification_metrics(y, b)["macro_f1_updown"]
    )
    assert diff == pytest.approx(expected, abs=1e-12)
    assert 0.05 < p < 0.95  # two coins
    order = rng.permutation(len(ts))
    again = paired_f1_significance(
        y[order], a[order], b[order], clusters=ts[order], block=3, n_boot=500
    )
    assert again == pytest.approx((diff, p))
    better = np.eye(3)[np.where(rng.random(len(ts)) < 0.4, y, a.argmax(axis=1))]
    assert paired_f1_significance(y, better, a, clusters=ts)[1] < 0.001
    assert paired_f1_significance(y, a, better, clusters=ts)[1] > 0.99
    assert paired_f1_significance(y[:0], a[:0], b[:0]) == (0.0, 1.0)


def test_paired_f1_is_calibrated_between_two_equal_models() -> None:
    rng = np.random.default_rng(8)
    small = 0
    for _ in range(100):
        y = rng.integers(0, 3, 300)
        calls = [
            np.eye(3)[np.where(rng.random(300) < 0.2, y, rng.integers(0, 3, 300))] for _ in "ab"
        ]
        small += paired_f1_significance(y, *calls, n_boot=300)[1] < 0.05
    assert small <= 12  # nominal 5 of 100
