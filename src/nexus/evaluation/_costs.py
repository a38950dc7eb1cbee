"""The trading cost model: commission, half-spread, slippage and square-root market impact."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from nexus.config import FrozenConfig

__all__ = ["CostModel"]

_BPS = 1e-4


class CostModel(FrozenConfig):
    """What one fill costs, in cash, charged on every trade (entries, exits, rebalances).

    For a fill of ``q`` shares (absolute) at price ``p`` in a bar with volume
    ``V``, with ``sigma`` the per-bar volatility of the symbol's returns::

        cost = q * p * (commission_bps + half_spread_bps + slippage_bps) / 1e4
             + q * commission_per_share
             + q * p * impact_coef * sigma * sqrt(q / V)

    The last term is the square-root impact law: the price moves against the
    trade by ``impact_coef * sigma * sqrt(participation)`` of the price. A
    bar with no volume counts as full participation (``q / V = 1``).

    Parameters
    ----------
    commission_bps : float
        Commission as basis points of the traded value.
    commission_per_share : float
        Commission per share traded, in cash.
    half_spread_bps : float
        Half the bid-ask spread, in basis points: paid on every fill, so a
        round trip pays the full spread.
    slippage_bps : float
        Any further execution shortfall, in basis points of the traded value.
    impact_coef : float
        The coefficient of the square-root impact term (0 turns impact off).

    Examples
    --------
    >>> costs = CostModel(commission_bps=1, half_spread_bps=2, impact_coef=0.5)
    >>> float(costs.cost(np.array([100.0]), np.array([50.0]), np.array([10_000.0]),
    ...                  np.array([0.02]))[0])  # 0.15 + 0.5 * 0.02 * 0.1 * 5000
    6.5
    """

    commission_bps: float = Field(default=1.0, ge=0)
    commission_per_share: float = Field(default=0.0, ge=0)
    half_spread_bps: float = Field(default=1.0, ge=0)
    slippage_bps: float = Field(default=0.0, ge=0)
    impact_coef: float = Field(default=0.1, ge=0)

    @property
    def linear_rate(self) -> float:
        """The proportional part of the cost, as a fraction of the traded value."""
        return (self.commission_bps + self.half_spread_bps + self.slippage_bps) * _BPS

    def cost(
        self, shares: np.ndarray, price: np.ndarray, volume: np.ndarray, sigma: np.ndarray
    ) -> np.ndarray:
        """Cash cost of fills, element-wise.

        Parameters
        ----------
        shares : ndarray, shape (n,)
            Shares traded (the sign is ignored).
        price : ndarray, shape (n,)
            Fill prices.
        volume : ndarray, shape (n,)
            Volume of the bar each fill happens in.
        sigma : ndarray, shape (n,)
            Per-bar volatility of the symbol's returns (NaN counts as 0).

        Returns
        -------
        ndarray, shape (n,)
        """
        q = np.abs(np.asarray(shares, dtype=np.float64))
        price = np.asarray(price, dtype=np.float64)
        volume = np.asarray(volume, dtype=np.float64)
        sigma = np.nan_to_num(np.asarray(sigma, dtype=np.float64))
        participation = np.where(volume > 0, q / np.where(volume > 0, volume, 1.0), 1.0)
        impact = self.impact_coef * sigma * np.sqrt(participation)
        return q * price * (self.linear_rate + impact) + q * self.commission_per_share
