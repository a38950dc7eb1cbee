"""Selection-bias corrections: the deflated Sharpe ratio and the probability of overfitting.

References: D. Bailey and M. López de Prado, "The Deflated Sharpe Ratio: Correcting for
Selection Bias, Backtest Overfitting and Non-Normality" (2014); D. Bailey, J. Borwein,
M. López de Prado and Q. Zhu, "The Probability of Backtest Overfitting" (2016).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from scipy import stats

from nexus.errors import ConfigError, DataError

__all__ = [
    "deflated_sharpe_ratio",
    "expected_max_sharpe",
    "probabilistic_sharpe_ratio",
    "probability_of_backtest_overfitting",
]

_EULER_GAMMA = 0.5772156649015329


def _moments(returns: np.ndarray) -> tuple[float, int, float, float]:
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 1 or len(r) < 3 or not np.isfinite(r).all():
        raise DataError(
            f"returns must be a finite 1-d series of at least 3 values, got shape {r.shape}",
            fix="pass the per-period returns of the backtest (BacktestResult.returns)",
        )
    if np.ptp(r) == 0:  # constant returns: no risk, no information
        return 0.0, len(r), 0.0, 3.0
    sr = float(np.mean(r) / np.std(r, ddof=1))
    return sr, len(r), float(stats.skew(r)), float(stats.kurtosis(r, fisher=False))


def probabilistic_sharpe_ratio(returns: np.ndarray, benchmark: float = 0.0) -> float:
    """Probability that the true Sharpe ratio exceeds ``benchmark`` (per period, not annualised).

    ``PSR = Phi((SR - SR*) * sqrt(T - 1) / sqrt(1 - g3 * SR + (g4 - 1) / 4 * SR ** 2))``
    with ``SR`` the per-period Sharpe ratio of ``returns``, ``g3`` their
    skewness and ``g4`` their (non-excess) kurtosis.

    Parameters
    ----------
    returns : ndarray, shape (T,)
        Per-period returns.
    benchmark : float
        ``SR*``, per period.

    Returns
    -------
    float
    """
    sr, t, skew, kurt = _moments(returns)
    return _psr(sr, t, skew, kurt, benchmark)


def _psr(sr: float, t: int, skew: float, kurt: float, benchmark: float) -> float:
    var = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr**2
    return float(stats.norm.cdf((sr - benchmark) * np.sqrt(t - 1) / np.sqrt(max(var, 1e-12))))


def expected_max_sharpe(n_trials: int, variance: float) -> float:
    """Expected maximum Sharpe ratio of ``n_trials`` unskilled trials.

    ``sqrt(V) * ((1 - gamma) * Z(1 - 1/N) + gamma * Z(1 - 1/(N e)))``, with
    ``gamma`` Euler's constant and ``Z`` the standard normal quantile; 0 for
    one trial.

    Parameters
    ----------
    n_trials : int
        ``N``, the configurations tried.
    variance : float
        ``V``, the variance of the trials' Sharpe ratios.

    Examples
    --------
    >>> round(expected_max_sharpe(100, 0.5), 4)  # the paper's example, annualised
    1.7894
    """
    if n_trials < 1:
        raise ConfigError(f"n_trials is {n_trials}", fix="pass the number of trials run (>= 1)")
    if n_trials == 1:
        return 0.0
    z1 = stats.norm.ppf(1.0 - 1.0 / n_trials)
    z2 = stats.norm.ppf(1.0 - 1.0 / (n_trials * np.e))
    return float(np.sqrt(variance) * ((1.0 - _EULER_GAMMA) * z1 + _EULER_GAMMA * z2))


def deflated_sharpe_ratio(
    returns: np.ndarray,
    n_trials: int,
    *,
    trial_sharpes: np.ndarray | None = None,
    sharpe_variance: float | None = None,
) -> float:
    """The deflated Sharpe ratio: PSR against the best Sharpe that ``n_trials`` of luck expect.

    ``DSR = PSR(SR0)`` with ``SR0 = expected_max_sharpe(n_trials, V)``, all per
    period. ``V`` is the variance of the trials' Sharpe ratios: from
    ``trial_sharpes`` when given, else ``sharpe_variance``, else the sampling
    variance of this Sharpe ratio, ``(1 - g3 SR + (g4 - 1) / 4 SR^2) / (T - 1)``
    (trials that differ only by noise).

    Parameters
    ----------
    returns : ndarray, shape (T,)
        Per-period returns of the selected configuration.
    n_trials : int
        Configurations tried (an HPO sweep's trial count).
    trial_sharpes : ndarray, shape (n_trials,), optional
        Per-period Sharpe ratios of all trials.
    sharpe_variance : float, optional
        Their variance, when the ratios themselves are not at hand.

    Returns
    -------
    float
        A probability; above 0.95 the Sharpe ratio survives the selection.

    Examples
    --------
    >>> r = np.random.default_rng(0).normal(0.001, 0.01, 1000)
    >>> dsr_1, dsr_100 = deflated_sharpe_ratio(r, 1), deflated_sharpe_ratio(r, 100)
    >>> dsr_1 > dsr_100
    True
    """
    sr, t, skew, kurt = _moments(returns)
    if trial_sharpes is not None:
        variance = float(np.var(np.asarray(trial_sharpes, dtype=np.float64), ddof=1))
    elif sharpe_variance is not None:
        variance = float(sharpe_variance)
    else:
        variance = (1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr**2) / (t - 1)
    return _psr(sr, t, skew, kurt, expected_max_sharpe(n_trials, variance))


def probability_of_backtest_overfitting(returns: np.ndarray, n_splits: int = 16) -> float:
    """PBO by combinatorially symmetric cross-validation (CSCV).

    The rows (periods) are cut into ``n_splits`` equal blocks (the oldest
    ``T mod n_splits`` rows are dropped). For every choice of half the blocks
    as in-sample, the configuration with the best in-sample Sharpe ratio is
    ranked by its Sharpe ratio on the other half among all configurations:
    ``w = rank / (N + 1)`` (rank 1 the worst, ties averaged), logit
    ``log(w / (1 - w))``. PBO is the share of choices whose logit is <= 0,
    i.e. where the in-sample winner is at or below the out-of-sample median.

    Parameters
    ----------
    returns : ndarray, shape (T, N)
        Per-period returns of ``N >= 2`` configurations (an HPO sweep) over the
        same ``T`` periods.
    n_splits : int
        ``S``, even, >= 2.

    Returns
    -------
    float

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> skill = rng.normal(0, 0.01, (800, 10)) + np.linspace(0, 0.002, 10)
    >>> probability_of_backtest_overfitting(skill, 8) < 0.05
    True
    """
    m = np.asarray(returns, dtype=np.float64)
    _check_sweep(m, n_splits)
    blocks = m[m.shape[0] % n_splits :].reshape(n_splits, -1, m.shape[1])
    sums, squares = blocks.sum(axis=1), (blocks**2).sum(axis=1)  # (S, N)
    size = blocks.shape[1]
    chosen = np.array(list(combinations(range(n_splits), n_splits // 2)))
    mask = np.zeros((len(chosen), n_splits))
    np.put_along_axis(mask, chosen, 1.0, axis=1)
    is_sr = _sharpe(mask @ sums, mask @ squares, size * n_splits // 2)
    oos_sr = _sharpe((1 - mask) @ sums, (1 - mask) @ squares, size * n_splits // 2)
    best = np.argmax(is_sr, axis=1)
    winner = oos_sr[np.arange(len(best)), best][:, None]
    rank = (oos_sr < winner).sum(axis=1) + ((oos_sr == winner).sum(axis=1) + 1) / 2.0
    w = rank / (m.shape[1] + 1.0)
    return float(np.mean(np.log(w / (1.0 - w)) <= 0.0))


def _sharpe(total: np.ndarray, squares: np.ndarray, n: int) -> np.ndarray:
    mean = total / n
    var = np.maximum(squares / n - mean**2, 0.0) * n / (n - 1)
    std = np.sqrt(var)
    return np.where(std > 0, mean / np.where(std > 0, std, 1.0), 0.0)


def _check_sweep(m: np.ndarray, n_splits: int) -> None:
    if n_splits < 2 or n_splits % 2:
        raise ConfigError(f"n_splits is {n_splits}", fix="use an even number >= 2, e.g. 16")
    if m.ndim != 2 or m.shape[1] < 2 or m.shape[0] < 2 * n_splits:
        raise DataError(
            f"returns of shape {m.shape} are not a (T, N) sweep with N >= 2 configurations "
            f"and T >= {2 * n_splits} periods",
            fix="pass one column of per-period returns per configuration tried",
        )
    if not np.isfinite(m).all():
        raise DataError(
            "returns of the sweep hold NaN or infinite values",
            fix="align the configurations on common periods and fill or drop gaps",
        )
