"""Risk: the limits that can veto a live recommendation.

:class:`RiskGate` keeps a paper book that follows the recommendations (one equal
slice per symbol, long on BUY, short on SELL, flat on HOLD) and vetoes a new
position when the book's gross exposure or drawdown is past its limit.

>>> from nexus.risk import RiskGate, RiskLimits
>>> gate = RiskGate(RiskLimits(max_exposure=0.5), universe=4)
>>> gate.review("A", "BUY").allowed, gate.review("B", "SELL").allowed
(True, True)
>>> gate.review("C", "BUY").allowed  # a third slice of four is 75% gross exposure
False
"""

from nexus.risk._gate import RiskCheck, RiskGate, RiskLimits

__all__ = ["RiskCheck", "RiskGate", "RiskLimits"]
