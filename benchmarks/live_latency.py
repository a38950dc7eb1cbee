"""Live latency: from a bar's arrival on the bus to the recommendation at WebSocket clients.

Prints one JSON object. Targets (issue: live engine and API), 2 CPU cores, loopback:

- 20 symbols at one bar per symbol per second, 100 connected clients: p99 <= 50 ms
- 500 symbols: p99 <= 250 ms
- no message lost for clients that keep up
- over a 10-minute soak, resident memory grows < 5%

One process runs what ``nexus up`` runs (simulated live feed -> store -> bus -> live
engine with LSTM and Transformer champions through ONNX Runtime -> API hub -> uvicorn);
a second process holds the WebSocket clients, so the clients do not share the server's
CPU time slice accounting. Latency is the clients' receive time minus the time the
feed published the bar on the bus (one machine, one wall clock).

Usage::

    python benchmarks/live_latency.py [--symbols 20] [--clients 100] [--seconds 120]
    python benchmarks/live_latency.py --symbols 20 --clients 100 --seconds 600   # soak
    python benchmarks/live_latency.py --symbols 500 --client-symbols 5   # dashboard-like clients
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from nexus.bus import TOPIC_BARS, TOPIC_SIGNALS, InProcessBus
from nexus.cli._runtime import settle_for_serving
from nexus.config import Settings
from nexus.ingest import Ingestor
from nexus.live import LiveEngine, LiveMetrics
from nexus.registry import Registry
from nexus.sources.simulator import SimulatorConfig, SimulatorSource
from nexus.store import DuckDBStore
from nexus.training import ExperimentConfig, run_experiment

SLOTS = ("lstm", "transformer")


class TimedBus(InProcessBus):
    """The in-process bus, noting when each bar time's bars and signals were published."""

    def __init__(self) -> None:
        super().__init__()
        self.published: dict[str, float] = {}
        self.signalled: dict[str, float] = {}
        self.rewarmed: dict[str, float] = {}

    def publish(self, topic, message):
        if topic == TOPIC_BARS:
            self.published[message.ts.isoformat()] = time.time()
        elif topic == TOPIC_SIGNALS:
            self.signalled[message.ts.isoformat()] = time.time()
            if "rewarm" in message.timings:
                self.rewarmed[message.ts.isoformat()] = message.timings["rewarm"]
        return super().publish(topic, message)


def _champions(home: Path) -> Registry:
    """LSTM and Transformer champions (one epoch each) trained on a small simulated market."""
    config = ExperimentConfig.model_validate(
        {
            "data": {"interval": "1m"},
            "dataset": {"lookback": 60, "stride": 10},
            "splits": {"n_folds": 1, "test_size": 0.2},
            "models": [
                {"model": "lstm", "params": {"max_epochs": 1}},
                {"model": "transformer", "params": {"max_epochs": 1}},
            ],
        }
    )
    with DuckDBStore(home / "train.duckdb") as store:
        market = SimulatorConfig(symbols=4, sectors=2, sessions=4, interval="1m", seed=11)
        Ingestor(store).run(SimulatorSource(market))
        run_experiment(store, config, home=home)
    registry = Registry(home, slots=SLOTS)
    for slot in SLOTS:
        registry.promote(slot, registry.versions(slot)[-1], reason="benchmark")
    return registry


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return math.nan


async def _sample_rss(samples: list[tuple[float, float]], stop: asyncio.Event) -> None:
    start = time.time()
    while not stop.is_set():
        samples.append((time.time() - start, _rss_mb()))
        await asyncio.sleep(5)


async def _serve(args, home: Path, store: DuckDBStore, registry: Registry) -> dict:
    bus = TimedBus()
    metrics = LiveMetrics()
    engine = LiveEngine(store, registry, bus, slots=SLOTS, metrics=metrics)
    await engine.start()
    settle_for_serving()  # as nexus up does
    try:
        return await _serve_frozen(args, home, store, registry, bus, engine, metrics)
    finally:
        gc.unfreeze()


async def _serve_frozen(args, home, store, registry, bus, engine, metrics) -> dict:
    from nexus.api import create_app
    from nexus.cli._runtime import run_until_stopped, server

    app = create_app(
        settings=Settings(home=home),
        store=store,
        registry=registry,
        bus=bus,
        engine_status=engine.status,
        metrics=metrics.registry,
    )
    port = args.port
    web = server(app, "127.0.0.1", port)
    stop = asyncio.Event()
    out = home / "clients.json"
    rss: list[tuple[float, float]] = []

    async def drive() -> None:
        await asyncio.sleep(2.0)  # server up
        urls = _client_urls(f"ws://127.0.0.1:{port}/ws/stream", store, args)
        (home / "urls.json").write_text(json.dumps(urls))
        clients = subprocess.Popen(
            [sys.executable, __file__, "--client", str(home / "urls.json"),
             "--seconds", str(args.seconds + 20), "--out", str(out)]
        )  # fmt: skip
        await asyncio.sleep(3.0 + args.clients * 0.02)  # every client connected
        feed_stop = asyncio.Event()
        market = _market(args.symbols)
        feed = asyncio.ensure_future(
            Ingestor(store, bus=bus).run_live(SimulatorSource(market, speed=60), stop=feed_stop)
        )
        sampler = asyncio.ensure_future(_sample_rss(rss, feed_stop))
        await asyncio.sleep(args.seconds)
        feed_stop.set()
        await feed
        await sampler
        await asyncio.sleep(2.0)
        clients.terminate()  # they write their records on SIGTERM
        await asyncio.to_thread(clients.wait, 30)
        stop.set()

    await run_until_stopped(stop, web, engine.run(stop), drive())
    received = json.loads(out.read_text())
    return _summary(args, bus, received, rss, engine)


def _pcts(values_s) -> dict:
    ms = np.asarray(values_s) * 1e3
    if not len(ms):
        return {"p50": None, "p99": None, "max": None}
    return {
        "p50": round(float(np.percentile(ms, 50)), 2),
        "p99": round(float(np.percentile(ms, 99)), 2),
        "max": round(float(ms.max()), 2),
    }


def _summary(args, bus: TimedBus, received: list, rss, engine) -> dict:
    published = bus.published
    latencies, calm, lost = [], [], 0
    for client in received:
        got = {ts: at for ts, at, _n in client}
        for ts, sent in published.items():
            if ts in got:
                latencies.append(got[ts] - sent)
                if ts not in bus.rewarmed:
                    calm.append(got[ts] - sent)
            else:
                lost += 1
    engine_s = [bus.signalled[t] - at for t, at in published.items() if t in bus.signalled]
    steady = [m for t, m in rss if t >= 60] or [m for _, m in rss]
    stages = engine.status()["timings"]
    return {
        "symbols": args.symbols,
        "clients": args.clients,
        "client_symbols": args.client_symbols or "all",
        "seconds": args.seconds,
        "bar_times": len(published),
        "deliveries": len(latencies),
        "lost": lost,
        "latency_ms": _pcts(latencies),
        # bar times whose corporate actions (a split or dividend on the new day) made the
        # engine rebuild its windows from the store, and every other bar time
        "rewarms": [
            {"ts": ts, "rewarm_ms": round(v * 1e3, 1)} for ts, v in sorted(bus.rewarmed.items())
        ],
        "latency_ms_without_rewarms": _pcts(calm),
        "engine_ms": _pcts(engine_s),
        "last_stage_ms": {k: round(v * 1e3, 2) for k, v in stages.items()},
        "rss_mb": {
            "first": round(steady[0], 1) if steady else None,
            "last": round(steady[-1], 1) if steady else None,
            "growth_pct": round(100 * (steady[-1] / steady[0] - 1), 2) if steady else None,
            "samples_from_s": 60 if any(t >= 60 for t, _ in rss) else 0,
        },
    }


def _market(symbols: int) -> SimulatorConfig:
    return SimulatorConfig(symbols=symbols, sectors=min(4, symbols), sessions=2, interval="1m")


def _client_urls(base: str, store: DuckDBStore, args) -> list[str]:
    """One stream URL per client: every symbol, or ``--client-symbols K`` of them each."""
    if not args.client_symbols:
        return [base] * args.clients
    names = sorted(store.series()["symbol"].astype(str).unique())
    k = min(args.client_symbols, len(names))
    picks = [[names[(i * k + j) % len(names)] for j in range(k)] for i in range(args.clients)]
    return [f"{base}?symbols={','.join(p)}" for p in picks]


async def _clients(urls: list[str], seconds: float, out: Path) -> None:
    import signal

    import websockets

    n = len(urls)
    records: list[list] = [[] for _ in range(n)]
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

    async def one(i: int) -> None:
        async with websockets.connect(urls[i], max_size=2**24) as ws:
            async for text in ws:
                at = time.time()
                # read the header only: a full json.loads of every message by 100 clients in
                # one process would put this process's own queueing into the figures
                if text.startswith('{"type":"recommendation"'):
                    head = json.loads(text[: text.index(',"data":')] + "}")
                    records[i].append((head["ts"], at, text.count('"action":')))

    tasks = [asyncio.ensure_future(one(i)) for i in range(n)]
    await asyncio.wait(
        [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(asyncio.sleep(seconds))],
        return_when=asyncio.FIRST_COMPLETED,
    )
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    out.write_text(json.dumps(records))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument(
        "--client-symbols",
        type=int,
        default=0,
        help="Symbols each client subscribes to (0, the default: every symbol).",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        urls = json.loads(Path(args.client).read_text())
        asyncio.run(_clients(urls, args.seconds, Path(args.out)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        started = time.perf_counter()
        registry = _champions(home)
        store = DuckDBStore(home / "live.duckdb")
        Ingestor(store).run(SimulatorSource(_market(args.symbols)))
        setup_s = time.perf_counter() - started
        result = asyncio.run(_serve(args, home, store, registry))
        store.close()
    result["setup_s"] = round(setup_s, 1)
    result["cpus"] = os.cpu_count()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
