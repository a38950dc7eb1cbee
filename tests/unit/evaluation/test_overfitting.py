"""Deflated Sharpe ratio and the probability of backtest overfitting (CSCV)."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from nexus.errors import ConfigError, DataError
from nexus.evaluation import (
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
)
from nexus.evaluation._overfitting import _psr


def test_dsr_reproduces_the_papers_numerical_example() -> None:
    # Bailey & Lopez de Prado (2014), section 5: N = 100 trials, V[SR] = 1/2 (annualised),
    # best SR 2.5 annualised over T = 1250 daily returns, skewness -3, kurtosis 10:
    # SR0 = 0.1132 per day and DSR = 0.9004.
    sr0 = expected_max_sharpe(100, 0.5 / 250)
    assert sr0 == pytest.approx(0.1132, abs=5e-5)
    assert _psr(2.5 / np.sqrt(250), 1250, -3.0, 10.0, sr0) == pytest.approx(0.9004, abs=5e-5)


def test_psr_of_normal_returns_is_the_normal_cdf_of_the_t_like_statistic() -> None:
    r = np.random.default_rng(3).normal(0.0005, 0.01, 2000)
    sr = r.mean() / r.std(ddof=1)
    from scipy import stats

    g3, g4 = stats.skew(r), stats.kurtosis(r, fisher=False)
    z = sr * np.sqrt(1999) / np.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2)
    assert probabilistic_sharpe_ratio(r) == pytest.approx(stats.norm.cdf(z), rel=1e-12)


def test_dsr_falls_with_the_number_of_trials_and_equals_psr_for_one() -> None:
    r = np.random.default_rng(0).normal(0.001, 0.01, 1000)
    assert deflated_sharpe_ratio(r, 1) == pytest.approx(probabilistic_sharpe_ratio(r))
    values = [deflated_sharpe_ratio(r, n) for n in (1, 10, 100, 1000)]
    assert values == sorted(values, reverse=True)
    assert values[-1] < values[0] - 0.2
    sharpes = np.random.default_rng(1).normal(0, 0.05, 50)
    assert deflated_sharpe_ratio(r, 50, trial_sharpes=sharpes) == pytest.approx(
        deflated_sharpe_ratio(r, 50, sharpe_variance=float(np.var(sharpes, ddof=1)))
    )


def test_dsr_refuses_bad_input() -> None:
    with pytest.raises(DataError, match="at least 3"):
        deflated_sharpe_ratio(np.array([0.01, np.nan, 0.0, 0.02]), 10)
    with pytest.raises(ConfigError, match="n_trials"):
        deflated_sharpe_ratio(np.zeros(10) + 0.01, 0)


def _pbo_reference(m: np.ndarray, s: int) -> float:
    """CSCV written out literally, one combination at a time."""
    t = m.shape[0] - m.shape[0] % s
    blocks = np.array_split(m[m.shape[0] - t :], s)
    logits = []
    for train in combinations(range(s), s // 2):
        is_ = np.vstack([blocks[k] for k in train])
        oos = np.vstack([blocks[k] for k in range(s) if k not in train])
        best = np.argmax(is_.mean(0) / is_.std(0, ddof=1))
        sr = oos.mean(0) / oos.std(0, ddof=1)
        rank = (sr < sr[best]).sum() + ((sr == sr[best]).sum() + 1) / 2
        w = rank / (m.shape[1] + 1)
        logits.append(np.log(w / (1 - w)))
    return float(np.mean(np.array(logits) <= 0))


def test_pbo_matches_a_literal_implementation() -> None:
    rng = np.random.default_rng(7)
    m = rng.normal(0, 0.01, (203, 12)) + rng.normal(0, 0.001, 12)
    assert probability_of_backtest_overfitting(m, 8) == _pbo_reference(m, 8)


def test_pbo_is_one_when_the_in_sample_winner_always_loses_out_of_sample() -> None:
    rng = np.random.default_rng(0)
    a = np.r_[rng.normal(0.01, 0.01, 50), rng.normal(-0.01, 0.01, 50)]
    m = np.c_[a, a[::-1]]  # with two blocks, each configuration wins exactly where it later loses
    assert probability_of_backtest_overfitting(m, 2) == 1.0


def test_pbo_is_zero_for_a_dominant_configuration_and_near_half_for_noise() -> None:
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 0.01, (1000, 20))
    dominant = noise.copy()
    dominant[:, 0] += 0.01
    assert probability_of_backtest_overfitting(dominant, 10) == 0.0
    assert 0.3 < probability_of_backtest_overfitting(noise, 10) < 0.7


def test_pbo_refuses_bad_input() -> None:
    with pytest.raises(ConfigError, match="even"):
        probability_of_backtest_overfitting(np.zeros((100, 3)), 5)
    with pytest.raises(DataError, match="N >= 2"):
        probability_of_backtest_overfitting(np.zeros((100, 1)), 4)
    with pytest.raises(DataError, match="NaN"):
        probability_of_backtest_overfitting(np.full((100, 3), np.nan), 4)
