"""Data-layer benchmark: simulate, ingest into DuckDB and PostgreSQL, read the latest bars.

Prints one JSON object. Targets (issue: foundation and data layer), on the 2-core
development machine:

- simulate 20 symbols x 1 year (252 sessions) of 1-minute bars (~2M bars) in <= 10 s
- DuckDB ingest >= 1M bars/s
- PostgreSQL ingest >= 150k bars/s
- last 120 bars of 20 symbols from DuckDB, p99 <= 10 ms

Usage::

    python benchmarks/ingest.py [--sessions 252] [--symbols 20] [--pg-url URL] [--no-pg]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from nexus.ingest import Ingestor
from nexus.sources import SourceBatch
from nexus.sources.simulator import SimulatorConfig, simulate
from nexus.store import Store, WriteBatch, open_store


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def bench_simulate(symbols: int, sessions: int) -> tuple[pd.DataFrame, dict]:
    config = SimulatorConfig(symbols=symbols, sessions=sessions, interval="1m")
    simulate(SimulatorConfig(symbols=2, sessions=2, interval="1m"))  # warm the calendar cache
    market, seconds = _timed(lambda: simulate(config))
    return market.bars, {
        "bars": len(market.bars),
        "seconds": round(seconds, 3),
        "bars_per_s": round(len(market.bars) / seconds),
    }


def bench_store_write(store: Store, bars: pd.DataFrame) -> dict:
    """Raw store throughput: one transaction per symbol, like the ingest pipeline."""
    groups = [g for _, g in bars.groupby("symbol", sort=False)]
    start = time.perf_counter()
    new = sum(store.write(WriteBatch(bars=g)).bars for g in groups)
    seconds = time.perf_counter() - start
    again, reseconds = _timed(lambda: sum(store.write(WriteBatch(bars=g)).bars for g in groups))
    return {
        "bars": int(new),
        "seconds": round(seconds, 3),
        "bars_per_s": round(new / seconds),
        "idempotent_rewrite_new_rows": int(again),
        "rewrite_seconds": round(reseconds, 3),
    }


class _FrameSource:
    """Yields pre-made bars per symbol, so the pipeline is timed without the simulator."""

    name = "simulator"

    def __init__(self, bars: pd.DataFrame) -> None:
        self._groups = [(s, g) for s, g in bars.groupby("symbol", sort=False)]

    def describe(self) -> dict:
        return {}

    def total(self) -> int:
        return len(self._groups)

    def fetch(self, *, since=None):
        for symbol, group in self._groups:
            yield SourceBatch(label=symbol, bars=group)


def bench_pipeline(store: Store, bars: pd.DataFrame) -> dict:
    """Validation + quarantine + transactional write, end to end."""
    report, seconds = _timed(lambda: Ingestor(store).run(_FrameSource(bars)))
    stored = report.total("stored")
    return {"bars": stored, "seconds": round(seconds, 3), "bars_per_s": round(stored / seconds)}


def bench_last_bars(store: Store, symbols: list[str], n: int = 120, repeats: int = 500) -> dict:
    store.last_bars(symbols, "1m", n)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        frame = store.last_bars(symbols, "1m", n)
        times.append(time.perf_counter() - start)
    ms = np.array(times) * 1000
    return {
        "rows": len(frame),
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
        "repeats": repeats,
    }


def _postgres(admin_url: str, bars: pd.DataFrame) -> dict:
    import psycopg

    name = f"nexus_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        with open_store(url) as store:
            write = bench_store_write(store, bars)
            last = bench_last_bars(store, sorted(bars["symbol"].unique()))
        return {"ingest": write, "last_bars_20x120": last}
    finally:
        with psycopg.connect(admin_url, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--sessions", type=int, default=252)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-pg", action="store_true", help="Skip PostgreSQL.")
    args = parser.parse_args()

    bars, sim = bench_simulate(args.symbols, args.sessions)
    symbols = sorted(bars["symbol"].unique())
    out: dict = {
        "machine": {"python": platform.python_version(), "cpus": _cpus()},
        "simulate": sim,
    }
    with tempfile.TemporaryDirectory() as tmp:
        with open_store(f"duckdb://{Path(tmp) / 'raw.duckdb'}") as store:
            out["duckdb_store_write"] = bench_store_write(store, bars)
            out["duckdb_last_bars_20x120"] = bench_last_bars(store, symbols)
        with open_store(f"duckdb://{Path(tmp) / 'pipeline.duckdb'}") as store:
            out["duckdb_ingest_pipeline"] = bench_pipeline(store, bars)
    if not args.no_pg:
        out["postgres"] = _postgres(args.pg_url, bars)
    print(json.dumps(out, indent=2))


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


if __name__ == "__main__":
    main()
