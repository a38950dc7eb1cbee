"""Online features: one bar time of 1, 20 and 500 symbols through ``update_arrays``.

Prints one JSON object. Target (issue: feature pipeline), on the 2-core development
machine: one symbol, one bar, p99 <= 200 us. The 20- and 500-symbol figures are the
live engine's feature stage without the engine around it (docs/features.md,
docs/benchmarks.md).

Usage::

    python benchmarks/online_features.py [--bars 1500] [--symbols 1 20 500]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from nexus.features import FeaturePipeline
from nexus.sources.simulator import SimulatorConfig, simulate

_OHLCV = ["open", "high", "low", "close", "volume"]


def _case(symbols: int, bars: int) -> dict:
    pipeline = FeaturePipeline()
    sessions = 2 + -(-(bars + pipeline.warmup) // 390)  # 390 one-minute bars a session
    market = SimulatorConfig(symbols=max(2, symbols), sectors=2, sessions=sessions, interval="1m")
    frame = simulate(market).bars
    frame = frame[frame.symbol.isin(sorted(frame.symbol.unique())[:symbols])]
    times = np.sort(frame.ts.unique())[-bars:]
    started = time.perf_counter()
    online = pipeline.online().warm(frame[frame.ts < times[0]])
    warm_s = time.perf_counter() - started
    steps = [
        (t, f.symbol.tolist(), f[_OHLCV].to_numpy())
        for t, f in frame[frame.ts >= times[0]].groupby("ts", sort=True)
    ]
    took = []
    for ts, names, ohlcv in steps:
        started = time.perf_counter()
        online.update_arrays(ts.to_datetime64(), names, ohlcv)
        took.append(time.perf_counter() - started)
    us = np.asarray(took[20:]) * 1e6  # the first calls compile and fill caches
    frames = _frame_us(pipeline, frame, times) if symbols <= 20 else None
    return {
        "symbols": symbols,
        "bar_times": len(us),
        "update_us": {q: round(float(np.percentile(us, float(q))), 1) for q in ("50", "99")},
        "update_us_per_symbol_p50": round(float(np.percentile(us, 50)) / symbols, 2),
        "warm_ms": round(warm_s * 1e3, 1),
        "update_frame_us": frames,
    }


def _frame_us(pipeline: FeaturePipeline, frame, times: np.ndarray) -> dict:
    """``update`` with a DataFrame in and out, the same bar times."""
    online = pipeline.online().warm(frame[frame.ts < times[0]])
    took = []
    for _, bars in frame[frame.ts >= times[0]].groupby("ts", sort=True):
        started = time.perf_counter()
        online.update(bars)
        took.append(time.perf_counter() - started)
    us = np.asarray(took[20:]) * 1e6
    return {q: round(float(np.percentile(us, float(q))), 1) for q in ("50", "99")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1500, help="Bar times timed per case.")
    parser.add_argument("--symbols", type=int, nargs="+", default=[1, 20, 500])
    args = parser.parse_args()
    cases = [_case(n, args.bars if n < 100 else min(args.bars, 300)) for n in args.symbols]
    print(json.dumps({"cases": cases, "cpus": os.cpu_count()}, indent=2))


if __name__ == "__main__":
    main()
