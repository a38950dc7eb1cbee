"""The backtester against its peers: backtesting.py's equity curve, empyrical's metrics.

backtesting.py fills market orders at the next bar's open and charges its ``commission``
on entry and exit; handing it a commission function that computes Nexus' whole cost model
(commission, half-spread, slippage, per-share fee and square-root impact, with the same
volatility estimate) makes the two simulate the same costs. backtesting.py sizes a
relative order from the cash at the fill and cannot reverse a position in one order the
way a target weight does, so the signals pass through flat for a bar between a long and
a short, and every position is closed before the last bar.
"""

from __future__ import annotations

import warnings

import empyrical
import numpy as np
import pandas as pd
import pytest
from backtesting import Backtest, Strategy
from backtesting.test import GOOG

from nexus.evaluation import BacktestConfig, CostModel, SizingConfig, backtest

FRACTION = 0.9
LOOKBACK = 20
COSTS = CostModel(
    commission_bps=2.0,
    commission_per_share=0.005,
    half_spread_bps=3.0,
    slippage_bps=1.0,
    impact_coef=0.3,
)


def _goog_signals() -> np.ndarray:
    """A 10/30 moving-average crossover on GOOG, long/short, via one flat bar, flat at the end."""
    close = GOOG["Close"]
    raw = np.sign((close.rolling(10).mean() - close.rolling(30).mean()).fillna(0.0)).to_numpy()
    flips = np.r_[False, raw[1:] * raw[:-1] < 0]
    signal = np.where(flips, 0.0, raw)
    signal[-5:] = 0.0
    return signal


def _bars() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": "GOOG",
            "ts": pd.to_datetime(GOOG.index).tz_localize("UTC"),
            "open": GOOG["Open"].to_numpy(),
            "close": GOOG["Close"].to_numpy(),
            "volume": GOOG["Volume"].to_numpy(),
        }
    )


def _peer_run(signal: np.ndarray, cash: float) -> pd.Series:
    """backtesting.py on the same signals, with Nexus' cost model as its commission."""
    sigma = GOOG["Close"].pct_change().rolling(LOOKBACK).std().shift(1).to_numpy()
    volume = GOOG["Volume"].to_numpy()
    seen: dict[str, object] = {}

    def commission(size: float, price: float) -> float:
        q = abs(size)
        linear = q * price * COSTS.linear_rate + q * COSTS.commission_per_share
        if q < 1:  # backtesting.py's sizing call (size is the relative fraction)
            return linear
        i = len(seen["data"]) - 1  # the bar being filled
        s = 0.0 if np.isnan(sigma[i]) else sigma[i]
        return linear + q * price * COSTS.impact_coef * s * np.sqrt(q / volume[i])

    class Follow(Strategy):
        def init(self) -> None:
            seen["data"] = self.data

        def next(self) -> None:
            i = len(self.data) - 1
            if signal[i] == signal[i - 1]:
                return
            if self.position:
                self.position.close()
            if signal[i] > 0:
                self.buy(size=FRACTION)
            elif signal[i] < 0:
                self.sell(size=FRACTION)

    with warnings.catch_warnings():  # backtesting.py calls pandas APIs that pandas 3 deprecates
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        return Backtest(GOOG, Follow, cash=cash, commission=commission).run()


@pytest.fixture(scope="module")
def both() -> tuple[object, object]:
    signal = _goog_signals()
    config = BacktestConfig(
        initial_cash=100_000.0,
        integer_shares=True,
        costs=COSTS,
        sizing=SizingConfig(method="fixed", fraction=FRACTION),
        vol_lookback=LOOKBACK,
        periods_per_year=252,
    )
    signals = pd.DataFrame({"symbol": "GOOG", "ts": _bars()["ts"], "signal": signal})
    ours = backtest(_bars(), signals, config=config)
    return ours, _peer_run(signal, config.initial_cash)


def test_equity_matches_backtesting_py_on_goog(both) -> None:
    ours, peer = both
    theirs = peer["_equity_curve"]["Equity"].to_numpy()
    assert len(peer["_trades"]) > 40  # the comparison exercises many round trips
    assert ours.metrics["total_costs"] > 1000.0  # the costs are material, not a rounding error
    np.testing.assert_allclose(ours.equity.to_numpy(), theirs, rtol=1e-6, atol=0)


def test_trades_match_backtesting_py(both) -> None:
    ours, peer = both
    theirs = peer["_trades"]
    mine = ours.trades
    assert mine["closed"].all()
    np.testing.assert_array_equal(mine["size"].to_numpy(), theirs["Size"].to_numpy())
    np.testing.assert_allclose(mine["entry_price"], theirs["EntryPrice"], rtol=1e-12)
    np.testing.assert_allclose(mine["exit_price"], theirs["ExitPrice"], rtol=1e-12)
    # backtesting.py's per-trade PnL recomputes the entry commission at the exit bar (its
    # cash is right), so compare the gross profit and check our costs close the books
    gross = theirs["Size"] * (theirs["ExitPrice"] - theirs["EntryPrice"])
    np.testing.assert_allclose(mine["pnl"] + mine["costs"], gross, rtol=1e-9)
    final = peer["_equity_curve"]["Equity"].iloc[-1]
    assert 100_000.0 + mine["pnl"].sum() == pytest.approx(final, rel=1e-9)
    entry = pd.to_datetime(theirs["EntryTime"]).dt.tz_localize("UTC").to_numpy()
    assert (mine["entry_ts"].to_numpy() == entry).all()


def test_metrics_match_empyrical(both) -> None:
    ours, _ = both
    r = ours.returns
    m = ours.metrics
    expected = {
        "cagr": empyrical.cagr(r, annualization=252),
        "volatility": empyrical.annual_volatility(r, annualization=252),
        "sharpe": empyrical.sharpe_ratio(r, annualization=252),
        "sortino": empyrical.sortino_ratio(r, annualization=252),
        "calmar": empyrical.calmar_ratio(r, annualization=252),
        "max_drawdown": empyrical.max_drawdown(r),
    }
    for name, value in expected.items():
        assert m[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name
