"""The simulation loop: target weights -> fills at the next open, cash, shares, costs.

The loop is sequential in time (each bar's order sizes depend on the equity
left by the previous bars) and runs compiled with numba; across symbols it is
a plain inner loop over a contiguous row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

__all__ = ["Simulation", "simulate"]


@dataclass(frozen=True)
class Simulation:
    """What the loop produces.

    Attributes
    ----------
    equity, cash : ndarray, shape (T,)
        Cash plus positions at each bar's close, and the cash alone.
    shares : ndarray, shape (T, N)
        Shares held after each bar.
    traded : ndarray, shape (T, N)
        Shares bought (+) or sold (-) at each bar's open.
    costs : ndarray, shape (T, N)
        Cash paid in costs for those fills.
    """

    equity: np.ndarray
    cash: np.ndarray
    shares: np.ndarray
    traded: np.ndarray
    costs: np.ndarray


def simulate(
    *,
    open_: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    sigma: np.ndarray,
    target: np.ndarray,
    valid: np.ndarray,
    initial_cash: float,
    linear_rate: float,
    per_share: float,
    impact_coef: float,
    integer_shares: bool,
    rebalance_band: float,
) -> Simulation:
    """Fill ``target`` weights at each bar's open and account for cash.

    Parameters
    ----------
    open_, close, volume : ndarray, shape (T, N)
        Prices and volume; any value where ``valid`` is False is ignored.
    sigma : ndarray, shape (T, N)
        Per-bar volatility used by the impact term (known before the fill).
    target : ndarray, shape (T, N)
        Weight of equity to hold after the fill at bar t's open, decided at an
        earlier bar; NaN: no order.
    valid : ndarray of bool, shape (T, N)
        Whether the symbol has a bar at t (no bar: no fill, marked at its last close).
    initial_cash : float
        Cash at the start.
    linear_rate, per_share, impact_coef : float
        The cost model (:class:`nexus.evaluation.CostModel`).
    integer_shares : bool
        Round every position towards zero to whole shares.
    rebalance_band : float
        A new target closer than this to the last one filled is not traded
        (exits to 0 always are).

    Returns
    -------
    Simulation
    """
    arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in (open_, close, volume, sigma)]
    target = np.ascontiguousarray(target, dtype=np.float64)
    out = _loop(
        *arrays,
        target,
        np.ascontiguousarray(valid, dtype=np.bool_),
        float(initial_cash),
        float(linear_rate),
        float(per_share),
        float(impact_coef),
        bool(integer_shares),
        float(rebalance_band),
    )
    return Simulation(*out)


@numba.njit(cache=True, nogil=True)
def _loop(
    open_, close, volume, sigma, target, valid, cash0, rate, per_share, impact, integer, band
):  # pragma: no cover - compiled
    n_t, n = open_.shape
    shares, last_close, last_target = np.zeros(n), np.zeros(n), np.zeros(n)
    equity, cash_out = np.empty(n_t), np.empty(n_t)
    held, traded, costs = np.empty((n_t, n)), np.zeros((n_t, n)), np.zeros((n_t, n))
    cash = cash0
    ruined = False
    for t in range(n_t):
        e_open = cash
        for i in range(n):
            if shares[i] != 0.0:
                e_open += shares[i] * (open_[t, i] if valid[t, i] else last_close[i])
        ruined = ruined or e_open <= 0.0
        for i in range(n):
            w = 0.0 if ruined else target[t, i]
            if valid[t, i] and _wants_order(w, last_target[i], shares[i], band):
                last_target[i] = w
                want = w * max(e_open, 0.0) / (open_[t, i] * (1.0 + rate) + per_share)
                q = (math.trunc(want) if integer else want) - shares[i]
                if q != 0.0:
                    c = _cost(
                        abs(q), open_[t, i], volume[t, i], sigma[t, i], rate, per_share, impact
                    )
                    cash -= q * open_[t, i] + c
                    shares[i] += q
                    traded[t, i], costs[t, i] = q, c
        eq = cash
        for i in range(n):
            if valid[t, i]:
                last_close[i] = close[t, i]
            eq += shares[i] * last_close[i]
            held[t, i] = shares[i]
        equity[t], cash_out[t] = eq, cash
    return equity, cash_out, held, traded, costs


@numba.njit(cache=True, nogil=True)
def _wants_order(w, last, held, band):  # pragma: no cover - compiled
    """A target is traded when it moved more than ``band`` (any move if 0), or exits."""
    if math.isnan(w) or (w == 0.0 and held == 0.0):
        return False
    return abs(w - last) > band or (w == 0.0 and band > 0.0) or (band == 0.0 and w != last)


@numba.njit(cache=True, nogil=True)
def _cost(q, price, volume, sigma, rate, per_share, impact):  # pragma: no cover - compiled
    """:meth:`CostModel.cost` of one fill of ``q`` shares."""
    part = q / volume if volume > 0.0 else 1.0
    s = 0.0 if math.isnan(sigma) else sigma
    return q * price * (rate + impact * s * math.sqrt(part)) + q * per_share
