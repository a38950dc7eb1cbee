"""The backtester: bars and signals (or probabilities) -> equity, positions, trades, metrics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import Field

from nexus.config import FrozenConfig
from nexus.domain import DEFAULT_CALENDAR
from nexus.errors import ConfigError
from nexus.evaluation._align import (
    Panel,
    align_probabilities,
    align_signals,
    bars_panel,
)
from nexus.evaluation._costs import CostModel
from nexus.evaluation._engine import Simulation, simulate
from nexus.evaluation._performance import metrics_and_underwater_start
from nexus.evaluation._periods import periods_per_year
from nexus.evaluation._sizing import SizingConfig, target_weights
from nexus.evaluation._trades import extract_trades
from nexus.evaluation._volatility import carry_last, rolling_volatility

__all__ = ["BacktestConfig", "BacktestResult", "backtest"]


class BacktestConfig(FrozenConfig):
    """How a backtest trades and accounts.

    Parameters
    ----------
    initial_cash : float
        Cash at the start.
    integer_shares : bool
        Hold whole shares only (positions are rounded towards zero).
    costs : CostModel
        Commission, half-spread, slippage and impact.
    sizing : SizingConfig
        Signals or probabilities -> target weights, with caps.
    vol_lookback : int
        Bars in the volatility estimate (sample standard deviation of
        close-to-close returns, up to the signal bar) that volatility
        targeting, Kelly's default payoff and the impact term use.
    rebalance_band : float
        A new target weight within this distance of the last one filled is not
        traded (0: trade every change; exits to 0 always trade).
    periods_per_year : float, optional
        Bars per year for annualising; inferred from ``interval`` and
        ``calendar`` when omitted.
    interval : str, optional
        The bar length (``"1d"``, ``"5m"``, ...); default: the ``interval``
        column of the bars, else the most common spacing of their timestamps.
    calendar : str
        The exchange calendar that counts bars per year.
    """

    initial_cash: float = Field(default=100_000.0, gt=0)
    integer_shares: bool = False
    costs: CostModel = Field(default_factory=CostModel)
    sizing: SizingConfig = Field(default_factory=SizingConfig)
    vol_lookback: int = Field(default=20, ge=2)
    rebalance_band: float = Field(default=0.0, ge=0)
    periods_per_year: float | None = Field(default=None, gt=0)
    interval: str | None = None
    calendar: str = DEFAULT_CALENDAR


@dataclass(frozen=True)
class BacktestResult:
    """What a backtest produced.

    Attributes
    ----------
    equity : Series, shape (T,)
        Cash plus positions at each bar's close, indexed by ``ts``.
    returns : Series, shape (T,)
        Simple returns of ``equity`` (the first against the initial cash).
    positions : DataFrame, shape (T, N)
        Shares held after each bar (``ts`` x symbol).
    trades : DataFrame, shape (k, 10)
        Round trips (:data:`nexus.evaluation.TRADE_COLUMNS`).
    costs : Series, shape (T,)
        Costs paid at each bar.
    metrics : dict
        See :func:`backtest`.
    periods_per_year : float
        The annualisation used.
    """

    equity: pd.Series
    returns: pd.Series
    positions: pd.DataFrame
    trades: pd.DataFrame
    costs: pd.Series
    metrics: dict[str, float]
    periods_per_year: float


def backtest(
    bars: pd.DataFrame,
    signals: pd.DataFrame | None = None,
    *,
    probabilities: pd.DataFrame | None = None,
    config: BacktestConfig | None = None,
) -> BacktestResult:
    """Trade ``signals`` (or model ``probabilities``) over ``bars`` and account for it.

    A signal (or probability) given for a symbol's bar at ``t`` becomes a
    target weight of equity (``config.sizing``) that is filled at the open of
    that symbol's next bar, never at ``t``; a signal at a symbol's last bar is
    never filled. It holds until the next signal for that symbol: bars
    without a row keep the previous one (none before the first). Each fill
    pays ``config.costs``. Order sizes use the equity marked at the fill bar's
    open: ``shares = w * equity / (open * (1 + linear cost rate) + per-share
    commission)``, so a weight of 1 is fully invested net of its costs.

    Parameters
    ----------
    bars : DataFrame, shape (n, >= 5)
        Long bars: ``symbol, ts, open, close, volume`` (Nexus' bar layout).
    signals : DataFrame, shape (m, 3), optional
        ``symbol, ts, signal``: direction or weight in [-1, 1].
    probabilities : DataFrame, shape (m, 5), optional
        ``symbol, ts, p_down, p_neutral, p_up`` instead of ``signals``; the
        direction is the arg-max class (DOWN -1, NEUTRAL 0, UP +1) and Kelly
        sizing uses the probabilities themselves.
    config : BacktestConfig, optional
        Defaults: 100,000 cash, fractional shares, fixed sizing, default costs.

    Returns
    -------
    BacktestResult
        ``metrics`` holds ``total_return, cagr, volatility, sharpe, sortino,
        calmar, max_drawdown, max_drawdown_bars, max_drawdown_days, turnover``
        (annual traded value over equity, one-way), ``exposure`` (share of
        bars holding a position), ``gross_exposure`` (mean gross position
        value over equity), ``n_trades, hit_rate, avg_trade_return,
        avg_trade_pnl`` (closed trades), ``total_costs, final_equity``.

    Raises
    ------
    AlignmentError
        Signals for unknown symbols or for timestamps without a bar, NaN,
        out-of-range or duplicate rows.
    ConfigError
        Neither or both of ``signals`` and ``probabilities``; Kelly sizing
        without probabilities.

    Examples
    --------
    >>> ts = pd.date_range("2024-01-02", periods=4, freq="B", tz="UTC")
    >>> bars = pd.DataFrame({"symbol": "A", "ts": ts, "open": [10.0, 11, 12, 13],
    ...                      "close": [10.5, 11.5, 12.5, 13.5], "volume": 1e6})
    >>> signals = pd.DataFrame({"symbol": "A", "ts": ts[:1], "signal": [1.0]})
    >>> free = BacktestConfig(initial_cash=1100, costs=CostModel(commission_bps=0,
    ...                       half_spread_bps=0, impact_coef=0))
    >>> result = backtest(bars, signals, config=free)
    >>> result.positions["A"].tolist()      # bought at the next open (11)
    [0.0, 100.0, 100.0, 100.0]
    >>> result.equity.tolist()
    [1100.0, 1150.0, 1250.0, 1350.0]
    """
    config = config or BacktestConfig()
    panel = bars_panel(bars)
    signal, proba = _inputs(panel, signals, probabilities, config)
    ppy = config.periods_per_year or periods_per_year(
        panel.ts, config.interval or _interval_column(bars), config.calendar
    )
    needs_sigma = config.sizing.method != "fixed" or config.costs.impact_coef > 0
    sigma = (
        rolling_volatility(panel.close, panel.valid, config.vol_lookback)
        if needs_sigma
        else np.full(panel.close.shape, np.nan)
    )
    weights = target_weights(config.sizing, signal, sigma, ppy, proba)
    sim = simulate(
        open_=panel.open,
        close=panel.close,
        volume=panel.volume,
        sigma=_shift(sigma),
        target=_shift(weights),
        valid=panel.valid,
        initial_cash=config.initial_cash,
        linear_rate=config.costs.linear_rate,
        per_share=config.costs.commission_per_share,
        impact_coef=config.costs.impact_coef,
        integer_shares=config.integer_shares,
        rebalance_band=config.rebalance_band,
    )
    return _result(panel, sim, config.initial_cash, ppy)


def _inputs(
    panel: Panel,
    signals: pd.DataFrame | None,
    probabilities: pd.DataFrame | None,
    config: BacktestConfig,
) -> tuple[np.ndarray, np.ndarray | None]:
    if (signals is None) == (probabilities is None):
        raise ConfigError(
            "backtest needs exactly one of signals and probabilities",
            fix="pass signals=frame (symbol, ts, signal) or probabilities=frame "
            "(symbol, ts, p_down, p_neutral, p_up)",
        )
    if probabilities is None:
        if config.sizing.method == "kelly":
            raise ConfigError(
                "Kelly sizing needs probabilities, but signals were given",
                fix="pass probabilities=..., or use sizing method 'fixed' or 'volatility'",
            )
        return align_signals(panel, signals), None
    proba = align_probabilities(panel, probabilities)
    direction = np.argmax(np.nan_to_num(proba, nan=-1.0), axis=2) - 1.0
    return np.where(np.isnan(proba[..., 0]), np.nan, direction), proba


def _interval_column(bars: pd.DataFrame) -> str | None:
    if "interval" not in bars.columns:
        return None
    values = pd.unique(bars["interval"])
    return str(values[0]) if len(values) == 1 else None


def _shift(values: np.ndarray) -> np.ndarray:
    """Row t gets row t-1 (NaN in row 0): what was decided at t-1 is executed at t."""
    out = np.empty_like(values)
    out[0] = np.nan
    out[1:] = values[:-1]
    return out


def _result(panel: Panel, sim: Simulation, cash0: float, ppy: float) -> BacktestResult:
    equity = pd.Series(sim.equity, index=panel.ts, name="equity")
    prev = np.r_[cash0, sim.equity[:-1]]
    returns = pd.Series(sim.equity / prev - 1.0, index=panel.ts, name="returns")
    positions = pd.DataFrame(sim.shares, index=panel.ts, columns=panel.symbols)
    positions.index.name, positions.columns.name = "ts", "symbol"
    trades = extract_trades(
        panel.ts,
        panel.symbols,
        open_=panel.open,
        close=panel.close,
        valid=panel.valid,
        shares=sim.shares,
        costs=sim.costs,
    )
    costs = pd.Series(sim.costs.sum(axis=1), index=panel.ts, name="costs")
    metrics = _metrics(panel, sim, returns.to_numpy(), trades, ppy, cash0)
    return BacktestResult(equity, returns, positions, trades, costs, metrics, ppy)


def _metrics(
    panel: Panel,
    sim: Simulation,
    returns: np.ndarray,
    trades: pd.DataFrame,
    ppy: float,
    cash0: float,
) -> dict[str, float]:
    out, start = metrics_and_underwater_start(returns, ppy)
    out["max_drawdown_days"] = _drawdown_days(panel.ts, start, out["max_drawdown_bars"])
    marks = carry_last(np.nan_to_num(panel.close), panel.valid)
    gross = np.nansum(np.abs(sim.shares * marks), axis=1)
    traded = np.nansum(np.abs(sim.traded * np.nan_to_num(panel.open)), axis=1)
    prev = np.r_[cash0, sim.equity[:-1]]
    safe = np.where(sim.equity > 0, sim.equity, np.nan)
    out["turnover"] = float(np.nanmean(traded / np.where(prev > 0, prev, np.nan)) * ppy)
    out["exposure"] = float(np.mean(gross > 0))
    out["gross_exposure"] = float(np.nanmean(gross / safe))
    done = trades[trades["closed"]]
    out["n_trades"] = len(done)
    out["hit_rate"] = float((done["pnl"] > 0).mean()) if len(done) else float("nan")
    out["avg_trade_return"] = float(done["return"].mean()) if len(done) else float("nan")
    out["avg_trade_pnl"] = float(done["pnl"].mean()) if len(done) else float("nan")
    out["total_costs"] = float(sim.costs.sum())
    out["final_equity"] = float(sim.equity[-1])
    return out


def _drawdown_days(ts: pd.DatetimeIndex, start: int, bars: int) -> float:
    """Calendar days of the longest drawdown: from its peak to recovery (or the last bar)."""
    if not bars:
        return 0.0
    peak = ts[start - 1] if start > 0 else ts[0]
    end = ts[min(start + bars, len(ts) - 1)]
    return float((end - peak) / pd.Timedelta(days=1))
