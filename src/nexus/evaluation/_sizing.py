"""Position sizing: signals or probabilities -> target weights of equity, with caps."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from nexus.config import FrozenConfig

__all__ = ["SizingConfig", "apply_caps", "kelly_weights", "target_weights"]


class SizingConfig(FrozenConfig):
    """How a signal or a probability becomes a target weight of equity.

    ``fixed``: ``w = fraction * signal``.
    ``volatility``: ``w = signal * target_vol / (sigma * sqrt(periods_per_year))``,
    with ``sigma`` the per-bar volatility of the symbol's returns over the
    backtest's ``vol_lookback`` bars up to the signal bar.
    ``kelly``: ``w = fraction * kelly``, the log-optimal weight of a bet that
    returns ``+payoff`` with probability ``p_up``, ``-payoff`` with ``p_down``
    and nothing otherwise (see :func:`kelly_weights`); needs probabilities.

    Then every weight is clipped to ``[-max_weight, max_weight]`` and, where the
    gross weight of a bar (sum of absolute weights) exceeds ``max_leverage``,
    all weights of that bar are scaled down by the same factor.

    Parameters
    ----------
    method : {"fixed", "volatility", "kelly"}
        The sizing rule.
    fraction : float
        The size of a full signal (``fixed``) or the Kelly fraction (``kelly``).
    target_vol : float
        Annualised volatility each position aims at (``volatility``).
    payoff : float, optional
        The return of a win or a loss per unit of weight (``kelly``), for
        example the triple-barrier distance. Default: the symbol's per-bar
        volatility times ``sqrt(horizon)``.
    horizon : int
        Bars a bet lasts, for the default ``payoff``.
    max_weight : float
        Cap on the absolute weight of one symbol.
    max_leverage : float
        Cap on the gross weight of the portfolio.
    """

    method: Literal["fixed", "volatility", "kelly"] = "fixed"
    fraction: float = Field(default=1.0, gt=0)
    target_vol: float = Field(default=0.15, gt=0)
    payoff: float | None = Field(default=None, gt=0)
    horizon: int = Field(default=1, ge=1)
    max_weight: float = Field(default=1.0, gt=0)
    max_leverage: float = Field(default=1.0, gt=0)


def kelly_weights(p_up: np.ndarray, p_down: np.ndarray, payoff: np.ndarray | float) -> np.ndarray:
    """Full-Kelly weights for a three-outcome bet, element-wise.

    A weight ``w`` earns ``w * payoff`` with probability ``p_up``, loses
    ``w * payoff`` with ``p_down`` and earns nothing otherwise. Maximising
    ``E[log(1 + w R)]`` gives ``w = (p_up - p_down) / (payoff * (p_up + p_down))``
    (negative: a short). It is 0 where ``p_up + p_down`` is 0 or ``payoff`` is
    not positive and finite.

    Parameters
    ----------
    p_up, p_down : ndarray, shape (n,)
        Calibrated probabilities of UP and DOWN.
    payoff : ndarray, shape (n,), or float
        Return of a win (and of a loss) per unit of weight.

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    >>> kelly_weights(np.array([0.6, 0.3]), np.array([0.4, 0.3]), 0.5).round(6).tolist()
    [0.4, 0.0]
    """
    p_up = np.asarray(p_up, dtype=np.float64)
    p_down = np.asarray(p_down, dtype=np.float64)
    payoff = np.broadcast_to(np.asarray(payoff, dtype=np.float64), p_up.shape)
    denom = payoff * (p_up + p_down)
    ok = (denom > 0) & np.isfinite(denom)
    return np.where(ok, (p_up - p_down) / np.where(ok, denom, 1.0), 0.0)


def target_weights(
    config: SizingConfig,
    signal: np.ndarray,
    sigma: np.ndarray,
    periods_per_year: float,
    proba: np.ndarray | None = None,
) -> np.ndarray:
    """Target weights of equity before the caps, one per (bar, symbol).

    Parameters
    ----------
    config : SizingConfig
        The rule.
    signal : ndarray, shape (T, N)
        Direction or weight in [-1, 1]; NaN where a symbol has no bar.
    sigma : ndarray, shape (T, N)
        Per-bar volatility known at each bar (NaN during the warm-up: weight 0).
    periods_per_year : float
        Bars per year, to annualise ``sigma``.
    proba : ndarray, shape (T, N, 3), optional
        DOWN, NEUTRAL, UP probabilities (``kelly`` only).

    Returns
    -------
    ndarray, shape (T, N)
        Weights after the caps; NaN where ``signal`` is NaN.
    """
    if config.method == "fixed":
        raw = config.fraction * signal
    elif config.method == "volatility":
        ann = sigma * np.sqrt(periods_per_year)
        with np.errstate(divide="ignore", invalid="ignore"):
            raw = np.where(ann > 0, signal * config.target_vol / ann, 0.0)
    else:
        payoff = sigma * np.sqrt(config.horizon) if config.payoff is None else config.payoff
        raw = config.fraction * kelly_weights(proba[..., 2], proba[..., 0], payoff)
    raw = np.where(np.isnan(signal), np.nan, np.nan_to_num(raw, nan=0.0))
    return apply_caps(raw, config.max_weight, config.max_leverage)


def apply_caps(weights: np.ndarray, max_weight: float, max_leverage: float) -> np.ndarray:
    """Clip each weight to ``max_weight``, then scale bars whose gross exceeds ``max_leverage``.

    Parameters
    ----------
    weights : ndarray, shape (T, N)
        Weights (NaN is kept and counts as 0).
    max_weight : float
        Cap on each absolute weight.
    max_leverage : float
        Cap on each row's sum of absolute weights.

    Returns
    -------
    ndarray, shape (T, N)

    Examples
    --------
    >>> apply_caps(np.array([[0.9, -0.6, 0.2]]), 0.5, 1.0).tolist()
    [[0.4166666666666667, -0.4166666666666667, 0.16666666666666669]]
    """
    clipped = np.clip(weights, -max_weight, max_weight)
    gross = np.nansum(np.abs(clipped), axis=1, keepdims=True)
    scale = np.where(gross > max_leverage, max_leverage / np.where(gross > 0, gross, 1.0), 1.0)
    return clipped * scale
