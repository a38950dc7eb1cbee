"""Backtester benchmark, side by side with vectorbt on the same signals and costs.

Prints one JSON object. Targets (issue 4, "Performance"), on the 2-core development machine:

- 500 symbols x 10 years of daily bars with costs: <= 0.5 s
- one symbol x 1M bars: <= 0.2 s

Each case times Nexus' whole ``backtest()`` call (long bar and signal frames in; equity,
returns, positions, round-trip trades and metrics out) and vectorbt's ``Portfolio.from_orders``
on the same target weights, filled at the next open, plus its value curve and trade records.
What vectorbt cannot express is left out of both sides: its fees are a fraction of the traded
value (commission + half-spread) and a fixed fee per order, so there is no per-share commission
and no square-root impact here; its ``targetpercent`` orders size on the portfolio value at the
fill without reserving the costs, where Nexus sizes net of them. vectorbt starts from wide
arrays; Nexus' time includes pivoting the long frames. The first call of each pays numba
compilation and is excluded (median of ``--repeat`` runs after one warm-up).

Usage::

    python benchmarks/backtest.py [--repeat 5] [--no-vectorbt]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings

import numpy as np
import pandas as pd

from nexus.evaluation import BacktestConfig, CostModel, SizingConfig, backtest

COMMISSION_BPS, HALF_SPREAD_BPS, SLIPPAGE_BPS = 1.0, 2.0, 1.0


def market(
    symbols: int, bars: int, freq: str, windows: tuple[int, int], seed: int = 0
) -> dict[str, np.ndarray]:
    """Random-walk prices and a moving-average crossover signal, as (T, N) arrays."""
    rng = np.random.default_rng(seed)
    daily = freq == "B"
    ret = rng.normal(0.0002 if daily else 0.0, 0.015 if daily else 0.0008, (bars, symbols))
    close = 50.0 * np.exp(np.cumsum(ret, axis=0))
    open_ = close * np.exp(rng.normal(0, 0.002, (bars, symbols)))
    volume = rng.integers(100_000, 1_000_000, (bars, symbols)).astype(float)
    c = np.cumsum(np.vstack([np.zeros((1, symbols)), close]), axis=0)
    short, long = windows
    fast = (c[short:] - c[:-short])[long - short :] / short
    slow = (c[long:] - c[:-long]) / long
    signal = np.zeros((bars, symbols))
    signal[long - 1 :] = np.sign(fast - slow)
    start = "2014-01-02" if freq == "B" else "2000-01-03"
    ts = pd.date_range(start, periods=bars, freq=freq, tz="UTC")
    return {"ts": ts, "open": open_, "close": close, "volume": volume, "signal": signal}


def long_frames(m: dict, weight: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    t, n = m["close"].shape
    symbols = np.array([f"S{k:03d}" for k in range(n)])
    sym = np.tile(symbols, t)
    ts = np.repeat(m["ts"], n)
    bars = pd.DataFrame(
        {
            "symbol": sym,
            "ts": ts,
            "open": m["open"].ravel(),
            "close": m["close"].ravel(),
            "volume": m["volume"].ravel(),
        }
    )
    signals = pd.DataFrame({"symbol": sym, "ts": ts, "signal": (m["signal"] * 1.0).ravel()})
    return bars, signals


def run_nexus(bars: pd.DataFrame, signals: pd.DataFrame, config: BacktestConfig):
    return backtest(bars, signals, config=config)


def run_vectorbt(m: dict, weight: float, init_cash: float):
    import vectorbt as vbt

    target = m["signal"] * weight
    changed = np.vstack([target[:1] != 0, target[1:] != target[:-1]])
    orders = np.where(changed, target, np.nan)
    size = np.vstack([np.full((1, orders.shape[1]), np.nan), orders[:-1]])  # next bar's open
    pf = vbt.Portfolio.from_orders(
        close=m["close"],
        size=size,
        size_type="targetpercent",
        price=m["open"],
        fees=(COMMISSION_BPS + HALF_SPREAD_BPS) * 1e-4,
        slippage=SLIPPAGE_BPS * 1e-4,
        init_cash=init_cash,
        cash_sharing=True,
        group_by=True,
        call_seq="auto",
        freq="1D",
    )
    value = pf.value()
    return pf, value, pf.trades.count()


def timed(fn, repeat: int) -> tuple[object, float, list[float]]:
    out = fn()  # warm-up: numba compilation, lazy imports
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, float(np.median(times)), times


def case(name: str, m: dict, weight: float, ppy: float | None, repeat: int, vbt: bool) -> dict:
    bars, signals = long_frames(m, weight)
    costs = CostModel(
        commission_bps=COMMISSION_BPS,
        half_spread_bps=HALF_SPREAD_BPS,
        slippage_bps=SLIPPAGE_BPS,
        impact_coef=0.0,
    )
    config = BacktestConfig(
        initial_cash=1_000_000.0,
        costs=costs,
        sizing=SizingConfig(fraction=weight),
        periods_per_year=ppy,
    )
    result, seconds, times = timed(lambda: run_nexus(bars, signals, config), repeat)
    with_impact = config.model_copy(update={"costs": costs.model_copy(update={"impact_coef": 0.1})})
    _, seconds_impact, _ = timed(lambda: run_nexus(bars, signals, with_impact), repeat)
    out = {
        "case": name,
        "bars": len(bars),
        "symbols": int(m["close"].shape[1]),
        "nexus_seconds": round(seconds, 4),
        "nexus_runs": [round(t, 4) for t in times],
        "nexus_seconds_with_impact": round(seconds_impact, 4),
        "nexus_trades": len(result.trades),
        "nexus_final_equity": round(float(result.equity.iloc[-1]), 2),
    }
    if vbt:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (_pf, value, n_trades), vseconds, vtimes = timed(
                lambda: run_vectorbt(m, weight, config.initial_cash), repeat
            )
        final = float(np.asarray(value)[-1])
        out |= {
            "vectorbt_seconds": round(vseconds, 4),
            "vectorbt_runs": [round(t, 4) for t in vtimes],
            "vectorbt_trades": int(np.sum(n_trades)),
            "vectorbt_final_equity": round(final, 2),
            "final_equity_rel_diff": round(abs(out["nexus_final_equity"] / final - 1), 6),
            "ratio_nexus_over_vectorbt": round(seconds / vseconds, 3),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-vectorbt", action="store_true")
    args = parser.parse_args()
    vbt = not args.no_vectorbt
    portfolio = market(500, 2520, "B", (10, 40))
    single = market(1, 1_000_000, "min", (100, 400))
    out = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
        },
        "targets_seconds": {"500x10y_daily": 0.5, "1x1M": 0.2},
        "results": [
            case("500 symbols x 10 years daily", portfolio, 1 / 500, None, args.repeat, vbt),
            case("1 symbol x 1M bars", single, 1.0, 252 * 390, args.repeat, vbt),
        ],
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
