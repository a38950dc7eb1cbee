"""The backtester: fills at the next open, costs, cash accounting, sizing, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nexus.errors import AlignmentError, ConfigError, DataError
from nexus.evaluation import BacktestConfig, CostModel, SizingConfig, backtest

FREE = CostModel(commission_bps=0, half_spread_bps=0, slippage_bps=0, impact_coef=0)


def _bars(n: int = 60, symbols: tuple[str, ...] = ("A",), seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = pd.date_range("2024-01-02", periods=n, freq="B", tz="UTC")
    frames = []
    for k, sym in enumerate(symbols):
        close = 50.0 * (k + 1) * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
        open_ = close * np.exp(rng.normal(0, 0.005, n))
        volume = rng.integers(50_000, 100_000, n).astype(float)
        frames.append(
            pd.DataFrame({"symbol": sym, "ts": ts, "open": open_, "close": close, "volume": volume})
        )
    return pd.concat(frames, ignore_index=True)


def _signals(bars: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "symbol": bars["symbol"],
            "ts": bars["ts"],
            "signal": rng.choice([-1.0, 0.0, 1.0], len(bars)),
        }
    )


def _config(**kw) -> BacktestConfig:
    return BacktestConfig(periods_per_year=252, **kw)


# --- execution timing -------------------------------------------------------------------------


def test_a_signal_fills_at_the_next_open_not_its_own_bar() -> None:
    bars = _bars(10)
    signals = pd.DataFrame({"symbol": ["A"], "ts": [bars["ts"][3]], "signal": [1.0]})
    result = backtest(bars, signals, config=_config(costs=FREE, initial_cash=10_000))
    held = result.positions["A"].to_numpy()
    assert (held[:4] == 0).all()
    assert held[4] == pytest.approx(10_000 / bars["open"][4])
    assert result.trades["entry_ts"][0] == bars["ts"][4]
    assert result.trades["entry_price"][0] == bars["open"][4]


def test_the_signal_bar_and_the_fill_bars_close_do_not_change_the_fill() -> None:
    bars = _bars(10)
    signals = pd.DataFrame({"symbol": ["A"], "ts": [bars["ts"][3]], "signal": [1.0]})
    config = _config(costs=CostModel(impact_coef=0.0))
    base = backtest(bars, signals, config=config)
    moved = bars.copy()
    moved.loc[4, "close"] *= 1.5  # the fill bar's close: known only after the fill
    moved.loc[3, "open"] *= 1.5  # the signal bar's own open
    other = backtest(moved, signals, config=config)
    assert other.positions["A"].iloc[4] == base.positions["A"].iloc[4]
    assert other.costs.iloc[4] == base.costs.iloc[4]
    reopened = bars.copy()
    reopened.loc[4, "open"] *= 1.1  # the fill price itself does change the fill
    assert (
        backtest(reopened, signals, config=config).positions["A"].iloc[4]
        != base.positions["A"].iloc[4]
    )


def test_a_signal_at_the_last_bar_is_never_filled() -> None:
    bars = _bars(10, ("A", "B"))
    last = bars.groupby("symbol")["ts"].transform("max") == bars["ts"]
    signals = bars.loc[last, ["symbol", "ts"]].assign(signal=1.0)
    result = backtest(bars, signals, config=_config())
    assert (result.positions.to_numpy() == 0).all()
    assert result.trades.empty
    assert result.equity.iloc[-1] == 100_000.0


def test_a_symbol_without_the_next_bar_fills_at_its_following_bar() -> None:
    bars = _bars(8, ("A", "B"))
    bars = bars.drop(bars.index[(bars["symbol"] == "B") & (bars["ts"] == bars["ts"][3])])
    signals = pd.DataFrame({"symbol": ["B"], "ts": [bars["ts"][2]], "signal": [0.5]})
    result = backtest(bars, signals, config=_config(costs=FREE))
    held = result.positions["B"].to_numpy()
    assert (held[:4] == 0).all()
    b = bars[bars["symbol"] == "B"].set_index("ts")
    assert held[4] == pytest.approx(0.5 * 100_000 / b.loc[bars["ts"][4], "open"])


# --- costs ------------------------------------------------------------------------------------


def test_costs_add_up_as_specified() -> None:
    ts = pd.date_range("2024-01-02", periods=25, freq="B", tz="UTC")
    close = 100.0 * (1.0 + 0.01 * np.where(np.arange(25) % 2, 1.0, -1.0)).cumprod()
    bars = pd.DataFrame(
        {"symbol": "A", "ts": ts, "open": close * 1.001, "close": close, "volume": 40_000.0}
    )
    signals = pd.DataFrame({"symbol": "A", "ts": ts[[21, 23]], "signal": [1.0, 0.0]})
    costs = CostModel(
        commission_bps=2,
        commission_per_share=0.01,
        half_spread_bps=3,
        slippage_bps=5,
        impact_coef=0.5,
    )
    result = backtest(
        bars, signals, config=_config(costs=costs, initial_cash=1_000_000, vol_lookback=20)
    )
    rate = (2 + 3 + 5) * 1e-4
    # entry at bar 22's open: all-in net of linear costs
    p_in = bars["open"][22]
    q = 1_000_000 / (p_in * (1 + rate) + 0.01)
    sigma_in = pd.Series(close).pct_change()[2:22].std()  # 20 returns up to the signal bar 21
    cost_in = q * p_in * rate + q * 0.01 + q * p_in * 0.5 * sigma_in * np.sqrt(q / 40_000)
    assert result.positions["A"].iloc[22] == pytest.approx(q, rel=1e-12)
    assert result.costs.iloc[22] == pytest.approx(cost_in, rel=1e-12)
    # exit at bar 24's open
    p_out = bars["open"][24]
    sigma_out = pd.Series(close).pct_change()[4:24].std()
    cost_out = q * p_out * rate + q * 0.01 + q * p_out * 0.5 * sigma_out * np.sqrt(q / 40_000)
    assert result.costs.iloc[24] == pytest.approx(cost_out, rel=1e-12)
    final = 1_000_000 + q * (p_out - p_in) - cost_in - cost_out
    assert result.equity.iloc[-1] == pytest.approx(final, rel=1e-12)
    trade = result.trades.iloc[0]
    assert trade["costs"] == pytest.approx(cost_in + cost_out, rel=1e-12)
    assert trade["pnl"] == pytest.approx(q * (p_out - p_in) - cost_in - cost_out, rel=1e-9)
    # the engine and the public cost model agree
    again = costs.cost(
        np.array([q]), np.array([p_out]), np.array([40_000.0]), np.array([sigma_out])
    )
    assert again[0] == pytest.approx(cost_out, rel=1e-12)


def test_zero_volume_counts_as_full_participation() -> None:
    costs = CostModel(commission_bps=0, half_spread_bps=0, impact_coef=1.0)
    value = costs.cost(np.array([10.0]), np.array([20.0]), np.array([0.0]), np.array([0.02]))
    assert value[0] == pytest.approx(10 * 20 * 0.02)


# --- accounting -------------------------------------------------------------------------------


def test_cash_accounting_conserves_value_in_a_portfolio() -> None:
    bars = _bars(80, ("A", "B", "C"))
    bars = bars.drop(bars.index[5:9])  # A misses some bars
    result = backtest(bars, _signals(bars), config=_config(sizing=SizingConfig(max_leverage=1.0)))
    trades = result.trades
    assert len(trades) > 20
    assert 100_000 + trades["pnl"].sum() == pytest.approx(result.equity.iloc[-1], rel=1e-12)
    # equity = cash + positions at their last close, and costs reduce it one for one
    marks = bars.pivot(index="ts", columns="symbol", values="close").ffill().fillna(0.0)
    value = (result.positions * marks).sum(axis=1)
    trades_value = bars.pivot(index="ts", columns="symbol", values="open").fillna(0.0)
    spent = (result.positions.diff().fillna(result.positions) * trades_value).sum(axis=1)
    cash = 100_000 - (spent + result.costs).cumsum()
    np.testing.assert_allclose(result.equity, cash + value, rtol=1e-10)


def test_integer_shares_hold_whole_shares() -> None:
    bars = _bars(40, ("A", "B"))
    result = backtest(bars, _signals(bars), config=_config(integer_shares=True, initial_cash=7_777))
    held = result.positions.to_numpy()
    assert (held == np.trunc(held)).all()
    assert np.abs(held).sum() > 0


def test_a_constant_signal_is_bought_once_and_held() -> None:
    bars = _bars(30)
    signals = pd.DataFrame({"symbol": "A", "ts": bars["ts"][:1], "signal": [1.0]})
    result = backtest(bars, signals, config=_config())
    held = result.positions["A"].to_numpy()
    assert (held[1:] == held[1]).all()
    assert held[1] > 0
    assert (result.costs.to_numpy() > 0).sum() == 1


def test_rebalance_band_skips_small_changes() -> None:
    bars = _bars(60)
    signals = pd.DataFrame({"symbol": "A", "ts": bars["ts"], "signal": 1.0})
    vol = SizingConfig(method="volatility", target_vol=0.2, max_weight=3, max_leverage=3)
    every = backtest(bars, signals, config=_config(sizing=vol))
    banded = backtest(bars, signals, config=_config(sizing=vol, rebalance_band=0.5))
    n_every = int((every.costs > 0).sum())
    n_banded = int((banded.costs > 0).sum())
    assert n_every > 30
    assert 1 <= n_banded < n_every


# --- sizing -----------------------------------------------------------------------------------


def test_fixed_sizing_and_the_caps() -> None:
    bars = _bars(6, ("A", "B", "C"))
    t0 = bars["ts"][0]
    signals = pd.DataFrame({"symbol": ["A", "B", "C"], "ts": t0, "signal": [1.0, -1.0, 0.5]})
    sizing = SizingConfig(fraction=0.8, max_weight=0.6, max_leverage=1.2)
    result = backtest(bars, signals, config=_config(costs=FREE, sizing=sizing))
    # 0.8 * [1, -1, .5] -> clipped [.6, -.6, .4] (gross 1.6) -> scaled by 1.2 / 1.6
    opens = bars[bars["ts"] == bars["ts"][1]].set_index("symbol")["open"]
    weights = result.positions.iloc[1] * opens / 100_000
    np.testing.assert_allclose(weights.to_numpy(), [0.45, -0.45, 0.3], rtol=1e-12)


def test_volatility_targeting_scales_by_realised_volatility() -> None:
    bars = _bars(40)
    signals = pd.DataFrame({"symbol": "A", "ts": bars["ts"][[30]], "signal": [1.0]})
    sizing = SizingConfig(method="volatility", target_vol=0.1, max_weight=5, max_leverage=5)
    result = backtest(bars, signals, config=_config(costs=FREE, sizing=sizing, vol_lookback=10))
    sigma = bars["close"].pct_change()[21:31].std()
    weight = 0.1 / (sigma * np.sqrt(252))
    assert result.positions["A"].iloc[31] * bars["open"][31] / 100_000 == pytest.approx(weight)


def test_kelly_sizing_from_probabilities() -> None:
    bars = _bars(5, ("A", "B"))
    t0 = bars["ts"][0]
    proba = pd.DataFrame(
        {
            "symbol": ["A", "B"],
            "ts": t0,
            "p_down": [0.2, 0.5],
            "p_neutral": [0.5, 0.3],
            "p_up": [0.3, 0.2],
        }
    )
    sizing = SizingConfig(method="kelly", fraction=0.5, payoff=0.5, max_weight=10, max_leverage=10)
    result = backtest(bars, probabilities=proba, config=_config(costs=FREE, sizing=sizing))
    opens = bars[bars["ts"] == bars["ts"][1]].set_index("symbol")["open"]
    weights = (result.positions.iloc[1] * opens / 100_000).to_numpy()
    # w = 0.5 * (p_up - p_down) / (payoff * (p_up + p_down))
    np.testing.assert_allclose(weights, [0.5 * 0.1 / 0.25, 0.5 * -0.3 / 0.35], rtol=1e-12)
    capped = SizingConfig(method="kelly", payoff=0.05, max_weight=0.25, max_leverage=0.4)
    result = backtest(bars, probabilities=proba, config=_config(costs=FREE, sizing=capped))
    weights = (result.positions.iloc[1] * opens / 100_000).to_numpy()
    np.testing.assert_allclose(weights, [0.2, -0.2], rtol=1e-12)


def test_probabilities_trade_the_argmax_direction_with_fixed_sizing() -> None:
    bars = _bars(5)
    proba = pd.DataFrame(
        {
            "symbol": "A",
            "ts": bars["ts"][:3],
            "p_down": [0.6, 0.2, 0.1],
            "p_neutral": [0.3, 0.7, 0.2],
        }
    ).assign(p_up=lambda f: 1 - f["p_down"] - f["p_neutral"])
    result = backtest(bars, probabilities=proba, config=_config(costs=FREE))
    assert np.sign(result.positions["A"].to_numpy()).tolist() == [0, -1, 0, 1, 1]


# --- metrics ----------------------------------------------------------------------------------


def test_trade_metrics() -> None:
    bars = _bars(80, ("A", "B"))
    result = backtest(bars, _signals(bars), config=_config())
    m, done = result.metrics, result.trades[result.trades["closed"]]
    assert m["n_trades"] == len(done) > 10
    assert m["hit_rate"] == pytest.approx((done["pnl"] > 0).mean())
    assert m["avg_trade_return"] == pytest.approx(done["return"].mean())
    assert 0 < m["exposure"] <= 1
    assert m["turnover"] > 0
    assert m["total_costs"] == pytest.approx(result.costs.sum())


def test_periods_per_year_is_inferred_from_the_calendar() -> None:
    bars = _bars(30)
    result = backtest(bars, _signals(bars), config=BacktestConfig())
    assert result.periods_per_year == 252.0  # XNYS sessions in 2024


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda s: s.assign(symbol="ZZZ"), "have no bars: ZZZ"),
        (lambda s: s.assign(ts=s["ts"] + pd.Timedelta(hours=1)), "where the symbol has no bar"),
        (lambda s: s.assign(signal=np.nan), "NaN"),
        (lambda s: s.assign(signal=2.0), r"outside \[-1, 1\]"),
        (lambda s: pd.concat([s, s]), "duplicate"),
        (lambda s: s.drop(columns="signal"), "lack columns"),
    ],
)
def test_signals_that_do_not_align_are_refused(change, match) -> None:
    bars = _bars(10)
    with pytest.raises(DataError, match=match) as info:
        backtest(bars, change(_signals(bars)), config=_config())
    assert info.value.fix


def test_misaligned_signals_raise_alignment_error() -> None:
    bars = _bars(10)
    with pytest.raises(AlignmentError, match="signals"):
        backtest(bars, _signals(bars).assign(symbol="ZZZ"), config=_config())


def test_probabilities_must_sum_to_one() -> None:
    bars = _bars(5)
    proba = pd.DataFrame(
        {"symbol": "A", "ts": bars["ts"], "p_down": 0.5, "p_neutral": 0.5, "p_up": 0.5}
    )
    with pytest.raises(AlignmentError, match="is not 1"):
        backtest(bars, probabilities=proba, config=_config())


def test_config_errors() -> None:
    bars = _bars(5)
    with pytest.raises(ConfigError, match="exactly one"):
        backtest(bars, config=_config())
    kelly = _config(sizing=SizingConfig(method="kelly"))
    with pytest.raises(ConfigError, match="Kelly sizing needs probabilities"):
        backtest(bars, _signals(bars), config=kelly)
    with pytest.raises(ValueError, match="extra"):
        CostModel(comission_bps=1)  # type: ignore[call-arg]


def test_bad_bars_are_refused() -> None:
    bars = _bars(5)
    with pytest.raises(DataError, match="duplicate"):
        backtest(pd.concat([bars, bars]), _signals(bars), config=_config())
    with pytest.raises(DataError, match="'open' has 1 missing"):
        backtest(bars.assign(open=bars["open"].where(bars.index != 2)), _signals(bars))


def test_row_order_of_the_bars_does_not_matter() -> None:
    """Symbol-major, time-major (both laid out by reshape) and shuffled (scattered) agree."""
    bars = _bars(40, ("A", "B", "C"))
    signals = _signals(bars)
    by_symbol = bars.sort_values(["symbol", "ts"]).reset_index(drop=True)
    by_time = bars.sort_values(["ts", "symbol"]).reset_index(drop=True)
    shuffled = bars.sample(frac=1.0, random_state=3).reset_index(drop=True)
    gappy = by_symbol.drop(index=[5, 50]).reset_index(drop=True)  # not a full grid
    results = [backtest(b, signals, config=_config()) for b in (by_symbol, by_time, shuffled)]
    for other in results[1:]:
        pd.testing.assert_series_equal(other.equity, results[0].equity)
        pd.testing.assert_frame_equal(other.positions, results[0].positions)
    kept = signals.merge(gappy[["symbol", "ts"]])
    assert len(backtest(gappy, kept, config=_config()).equity) == len(results[0].equity)
