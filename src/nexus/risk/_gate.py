"""The live risk gate: exposure and drawdown limits over a paper book."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import Field

from nexus.config import FrozenConfig

__all__ = ["RiskCheck", "RiskGate", "RiskLimits"]

_SIDE = {"BUY": 1, "SELL": -1, "HOLD": 0}


class RiskLimits(FrozenConfig):
    """When the gate vetoes a new position.

    Parameters
    ----------
    max_exposure : float
        Largest gross exposure of the paper book, as a share of the universe
        (each open position is one equal slice; 0.5 = half the symbols).
    max_drawdown : float
        Drawdown of the paper book (from its peak since the engine started)
        beyond which no new position is opened; exits are always allowed.
    """

    max_exposure: float = Field(0.5, gt=0, le=1)
    max_drawdown: float = Field(0.10, gt=0, lt=1)


@dataclass(frozen=True, slots=True)
class RiskCheck:
    """The gate's answer for one recommendation: allowed or not, why, and its figures."""

    allowed: bool
    reason: str
    figures: Mapping[str, float] = field(default_factory=dict)


class RiskGate:
    """A paper book that follows the recommendations, and the limits on it.

    Parameters
    ----------
    limits : RiskLimits
    universe : int
        Number of symbols traded; each position is ``1 / universe`` of the book.
    positions : mapping of str to int, optional
        Open positions to start from (+1 long, -1 short), e.g. the latest stored
        recommendations.
    """

    def __init__(
        self, limits: RiskLimits, *, universe: int, positions: Mapping[str, int] | None = None
    ) -> None:
        self.limits = limits
        self.universe = max(1, int(universe))
        self.positions: dict[str, int] = {s: p for s, p in (positions or {}).items() if p}
        self._last: dict[str, float] = {}
        self.equity = 1.0
        self.peak = 1.0

    @property
    def exposure(self) -> float:
        """Gross exposure of the book as a share of the universe."""
        return len(self.positions) / self.universe

    @property
    def drawdown(self) -> float:
        """How far the book's equity is below its peak (0.05 = 5%)."""
        return 1.0 - self.equity / self.peak

    def mark(self, prices: Mapping[str, float]) -> None:
        """Mark the book to the new closes (call once per bar time, before reviewing)."""
        pnl = 0.0
        for symbol, price in prices.items():
            last = self._last.get(symbol)
            side = self.positions.get(symbol, 0)
            if side and last and price > 0 and math.isfinite(price):
                pnl += side * (price / last - 1.0) / self.universe
            if price > 0 and math.isfinite(price):
                self._last[symbol] = price
        self.equity *= 1.0 + pnl
        self.peak = max(self.peak, self.equity)

    def review(self, symbol: str, action: str) -> RiskCheck:
        """Allow or veto ``action`` for ``symbol`` and update the book with the outcome."""
        side = _SIDE[str(action)]
        current = self.positions.get(symbol, 0)
        opening = side != 0 and side != current
        exposure_after = (len(self.positions) + (current == 0)) / self.universe
        figures = {
            "exposure": self.exposure,
            "drawdown": self.drawdown,
            "max_exposure": self.limits.max_exposure,
            "max_drawdown": self.limits.max_drawdown,
        }
        reason = ""
        if opening and self.drawdown > self.limits.max_drawdown:
            reason = (
                f"risk gate: paper-book drawdown {self.drawdown:.1%} is past the "
                f"{self.limits.max_drawdown:.0%} limit; no new positions"
            )
        elif opening and current == 0 and exposure_after > self.limits.max_exposure + 1e-12:
            reason = (
                f"risk gate: gross exposure would reach {exposure_after:.0%}, over the "
                f"{self.limits.max_exposure:.0%} limit"
            )
        if reason:
            self.positions.pop(symbol, None)  # a vetoed reversal leaves the symbol flat
            return RiskCheck(False, reason, figures)
        if side:
            self.positions[symbol] = side
        else:
            self.positions.pop(symbol, None)
        return RiskCheck(True, "", figures)
