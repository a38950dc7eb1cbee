"""Return-based performance metrics, with empyrical's definitions."""

from __future__ import annotations

import numpy as np

__all__ = ["drawdown", "longest_underwater", "performance_metrics"]


def drawdown(returns: np.ndarray) -> np.ndarray:
    """Drawdown after each period: wealth over its running peak, minus 1 (<= 0).

    The peak includes the starting wealth, so a loss in the first period is a
    drawdown.

    Parameters
    ----------
    returns : ndarray, shape (T,)
        Simple per-period returns.

    Returns
    -------
    ndarray, shape (T,)

    Examples
    --------
    >>> drawdown(np.array([0.1, -0.5, 0.5, 0.5])).round(3).tolist()
    [0.0, -0.5, -0.25, 0.0]
    """
    wealth = np.cumprod(1.0 + np.asarray(returns, dtype=np.float64))
    peak = np.maximum.accumulate(np.maximum(wealth, 1.0))
    return wealth / peak - 1.0


def longest_underwater(dd: np.ndarray) -> tuple[int, int]:
    """Length and start index of the longest run of periods with ``dd < 0``."""
    under = np.r_[False, dd < 0, False].astype(np.int8)
    edges = np.diff(under)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if not len(starts):
        return 0, -1
    k = int(np.argmax(ends - starts))
    return int(ends[k] - starts[k]), int(starts[k])


def performance_metrics(returns: np.ndarray, periods_per_year: float) -> dict[str, float]:
    """CAGR, volatility, Sharpe, Sortino, Calmar and drawdown of a return series.

    The definitions are empyrical's (risk-free rate 0): ``sharpe`` is
    ``mean / std * sqrt(P)`` with the sample standard deviation (ddof 1);
    ``sortino`` is ``mean * P / (sqrt(mean(min(r, 0) ** 2)) * sqrt(P))``;
    ``cagr`` is ``prod(1 + r) ** (P / T) - 1``; ``max_drawdown`` is the worst
    :func:`drawdown`; ``calmar`` is ``cagr / |max_drawdown|`` (NaN without a
    drawdown). ``max_drawdown_bars`` is the longest run of periods spent below
    an earlier peak.

    Parameters
    ----------
    returns : ndarray, shape (T,)
        Simple per-period returns.
    periods_per_year : float
        ``P``, periods per year.

    Returns
    -------
    dict
        ``total_return, cagr, volatility, sharpe, sortino, calmar,
        max_drawdown, max_drawdown_bars``.

    Examples
    --------
    >>> m = performance_metrics(np.array([0.01, -0.02, 0.03, 0.0]), 252)
    >>> round(m["sharpe"], 4), round(m["max_drawdown"], 4), m["max_drawdown_bars"]
    (3.8129, -0.02, 1)
    """
    return metrics_and_underwater_start(returns, periods_per_year)[0]


def metrics_and_underwater_start(
    returns: np.ndarray, periods_per_year: float
) -> tuple[dict[str, float], int]:
    """:func:`performance_metrics` and the start index of the longest drawdown (-1: none)."""
    r = np.asarray(returns, dtype=np.float64)
    n = len(r)
    total = float(np.prod(1.0 + r) - 1.0) if n else float("nan")
    cagr = (1.0 + total) ** (periods_per_year / n) - 1.0 if n else float("nan")
    std = float(np.std(r, ddof=1)) if n > 1 else float("nan")
    mean = float(np.mean(r)) if n else float("nan")
    downside = float(np.sqrt(np.mean(np.minimum(r, 0.0) ** 2))) if n else float("nan")
    dd = drawdown(r)
    max_dd = float(dd.min()) if n else float("nan")
    bars, start = longest_underwater(dd)
    return {
        "total_return": total,
        "cagr": float(cagr),
        "volatility": std * float(np.sqrt(periods_per_year)),
        "sharpe": _ratio(mean, std) * float(np.sqrt(periods_per_year)),
        "sortino": _ratio(mean * periods_per_year, downside * np.sqrt(periods_per_year)),
        "calmar": _ratio(float(cagr), abs(max_dd)) if max_dd < 0 else float("nan"),
        "max_drawdown": max_dd,
        "max_drawdown_bars": bars,
    }, start


def _ratio(num: float, den: float) -> float:
    if not np.isfinite(den) or den == 0.0:
        return float("nan")
    return float(num / den)
