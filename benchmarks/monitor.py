"""Drift monitor benchmark: how long one check of one champion takes, and its share of a bar.

Prints one JSON object. A simulated market of ``--symbols`` symbols and ``--sessions``
sessions of 1-minute bars is ingested into DuckDB, a LightGBM champion (the default feature
spec, the ``nexus up`` labels) is trained on it, then ``--bars`` live bars stream through the
real ingest and live engine (stored predictions) with one ``DriftMonitor.check()`` after
each. Reported: the check's median, p95 and max seconds (store reads, features of the window,
labels of the resolved predictions, PSI and KS of every feature, the stored check), and the
training time of the reference (``reference.json``) inside ``nexus train``.

Usage::

    python benchmarks/monitor.py [--symbols 20] [--sessions 10] [--bars 40]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from nexus.bus import InProcessBus
from nexus.ingest import Ingestor
from nexus.live import LiveEngine
from nexus.monitoring import DriftMonitor
from nexus.registry import Registry
from nexus.sources.simulator import SimulatorConfig, SimulatorSource
from nexus.store import DuckDBStore
from nexus.training import ExperimentConfig, run_experiment

SLOT = "lightgbm"


def _experiment() -> ExperimentConfig:
    return ExperimentConfig.model_validate(
        {
            "data": {"interval": "1m"},
            "labels": {"kind": "triple_barrier", "horizon": 15, "vol_span": 100},
            "dataset": {"lookback": 1, "stride": 5, "weights": "none"},
            "splits": {"n_folds": 1, "test_size": 0.2},
            "models": [{"model": "lightgbm", "params": {"n_estimators": 50}}],
        }
    )


async def _stream(store, registry, market, bars: int) -> list[float]:
    bus = InProcessBus()
    engine = LiveEngine(store, registry, bus, slots=(SLOT,))
    await engine.start()
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    monitor = DriftMonitor(store, registry, bus=bus)
    ingestor = Ingestor(store, bus=bus)
    source = SimulatorSource(market, speed=math.inf)
    seconds = []
    for done in range(1, bars + 1):
        await ingestor.run_live(source, max_batches=1)
        while engine.processed < done:
            await asyncio.sleep(0.002)
        began = time.perf_counter()
        monitor.check()
        seconds.append(time.perf_counter() - began)
    stop.set()
    await task
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--bars", type=int, default=40)
    args = parser.parse_args()
    market = SimulatorConfig(symbols=args.symbols, sessions=args.sessions, interval="1m")
    with tempfile.TemporaryDirectory() as root, DuckDBStore(Path(root) / "n.duckdb") as store:
        Ingestor(store).run(SimulatorSource(market))
        began = time.perf_counter()
        run_experiment(store, _experiment(), home=Path(root))
        trained = time.perf_counter() - began
        registry = Registry(Path(root), slots=(SLOT,))
        registry.promote(SLOT, registry.versions(SLOT)[0], reason="benchmark")
        reference = (registry.path(SLOT, registry.champion(SLOT)) / "reference.json").stat()
        seconds = np.array(asyncio.run(_stream(store, registry, market, args.bars))[1:])
    print(
        json.dumps(
            {
                "benchmark": "drift monitor check",
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "symbols": args.symbols,
                "interval": "1m",
                "window_minutes": 60,
                "checks": len(seconds),
                "check_s": {
                    "median": round(float(np.median(seconds)), 4),
                    "p95": round(float(np.quantile(seconds, 0.95)), 4),
                    "max": round(float(seconds.max()), 4),
                },
                "share_of_a_1m_bar": round(float(np.median(seconds)) / 60.0, 5),
                "train_s_with_reference": round(trained, 2),
                "reference_json_kb": round(reference.st_size / 1024, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
