"""The live risk gate: exposure and drawdown limits on a paper book."""

from __future__ import annotations

import pydantic
import pytest

from nexus.risk import RiskGate, RiskLimits


def test_exposure_limit_vetoes_new_positions_only():
    gate = RiskGate(RiskLimits(max_exposure=0.5), universe=4)
    assert gate.review("A", "BUY").allowed
    assert gate.review("B", "SELL").allowed
    check = gate.review("C", "BUY")
    assert not check.allowed
    assert "gross exposure would reach 75%" in check.reason
    assert check.figures["exposure"] == 0.5
    assert gate.review("A", "BUY").allowed  # keeping a position is not an entry
    assert gate.review("A", "HOLD").allowed  # exits always pass
    assert gate.exposure == 0.25


def test_drawdown_limit_stops_entries_but_not_exits():
    gate = RiskGate(RiskLimits(max_exposure=1.0, max_drawdown=0.05), universe=2)
    gate.mark({"A": 100.0, "B": 50.0})
    assert gate.review("A", "BUY").allowed
    gate.mark({"A": 70.0, "B": 50.0})  # A -30% on half the book: -15%
    assert gate.drawdown == pytest.approx(0.15)
    check = gate.review("B", "SELL")
    assert not check.allowed
    assert "drawdown 15.0%" in check.reason
    assert gate.review("A", "HOLD").allowed
    assert gate.positions == {}


def test_vetoed_reversal_leaves_the_symbol_flat():
    gate = RiskGate(RiskLimits(max_drawdown=0.01), universe=1, positions={"A": 1})
    gate.mark({"A": 100.0})
    gate.mark({"A": 90.0})
    assert not gate.review("A", "SELL").allowed
    assert gate.positions == {}


def test_limits_reject_nonsense():
    with pytest.raises(pydantic.ValidationError):
        RiskLimits(max_exposure=0)
    with pytest.raises(pydantic.ValidationError):
        RiskLimits(max_drawdown=1.5)
    with pytest.raises(pydantic.ValidationError):
        RiskLimits(max_exposur=0.5)
