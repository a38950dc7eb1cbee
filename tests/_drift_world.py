"""A simulated market with two trained champions, streamed bar by bar past the drift monitor.

Shared by the drift monitor's validation and integration tests. Two LightGBM
versions are trained on the history of a 5-minute market with a planted edge;
the newer is champion, the older previous. :func:`stream` then runs the live
market through the real ingest, live engine (ONNX, stored predictions) and
drift monitor, one check after every bar.
"""

from __future__ import annotations

import asyncio
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from nexus.bus import TOPIC_ALERTS, InProcessBus
from nexus.ingest import Ingestor
from nexus.live import LiveEngine
from nexus.monitoring import DriftMonitor, MonitorConfig
from nexus.registry import Registry
from nexus.sources.simulator import RegimeShift, SimulatorConfig, SimulatorSource
from nexus.store import DuckDBStore, Store
from nexus.training import ExperimentConfig, run_experiment

HISTORY = 20
ALPHA = 0.5
SLOT = "lightgbm"
BARS_PER_SESSION = 78
MARKET = {"symbols": 10, "sectors": 2, "sessions": HISTORY, "interval": "5m", "seed": 3}


def market(shift: RegimeShift | None = None) -> SimulatorConfig:
    """The market; its history is the same whatever ``shift`` (it starts live)."""
    return SimulatorConfig(**MARKET, alpha=ALPHA, shift=shift)


def experiment(seed: int) -> ExperimentConfig:
    """A fast LightGBM experiment on the market's bars."""
    return ExperimentConfig.model_validate(
        {
            "seed": seed,
            "data": {"interval": "5m"},
            "features": "default",
            "labels": {"kind": "triple_barrier", "horizon": 6, "vol_span": 50},
            "dataset": {"lookback": 1, "stride": 1, "weights": "none"},
            "splits": {"n_folds": 1, "test_size": 0.2, "min_train": 300, "min_test": 100},
            "models": [{"model": "lightgbm", "params": {"n_estimators": 60 + seed}}],
        }
    )


def train_pair(store: Store, home: Path) -> Registry:
    """Ingest the history, train two versions, promote the older then the newer."""
    Ingestor(store).run(SimulatorSource(market()))
    for seed in (1, 2):
        run_experiment(store, experiment(seed), home=home)
    registry = Registry(home, slots=(SLOT,))
    older, newer = registry.versions(SLOT)
    registry.promote(SLOT, older, reason="test: first champion")
    registry.promote(SLOT, newer, reason="test: second champion")
    return registry


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB store of the history and NEXUS_HOME with the two versions (train once a module)."""
    root = tmp_path_factory.mktemp("drift")
    with DuckDBStore(root / "nexus.duckdb") as store:
        train_pair(store, root / "home")
    return root


@pytest.fixture
def world(trained: Path, tmp_path: Path) -> Path:
    """A copy of ``trained`` of the test's own."""
    shutil.copytree(trained, tmp_path / "w")
    return tmp_path / "w"


@dataclass
class Run:
    """What a streamed future produced: each bar's checks, the alerts, the versions served."""

    checks: list[list] = field(default_factory=list)
    alerts: list = field(default_factory=list)
    served: list[str] = field(default_factory=list)

    def first(self, event: str) -> int | None:
        """The 1-based live bar whose check first had ``event`` (e.g. 'accuracy raised')."""
        for bar, checks in enumerate(self.checks, start=1):
            if any(event in c.events for c in checks):
                return bar
        return None

    def action(self, action: str) -> list[int]:
        """The 1-based live bars whose check did ``action`` (e.g. 'rollback')."""
        return [b for b, cs in enumerate(self.checks, 1) if any(c.action == action for c in cs)]

    def raised(self) -> list[tuple[int, str]]:
        """Every alarm raised, with its bar."""
        return [
            (bar, e)
            for bar, cs in enumerate(self.checks, 1)
            for c in cs
            for e in c.events
            if e.endswith("raised")
        ]


def stream(
    store: Store,
    registry: Registry,
    shift: RegimeShift | None,
    bars: int,
    *,
    config: MonitorConfig | None = None,
    after_rollback: int | None = None,
    between: Callable[[int, DriftMonitor], DriftMonitor | None] | None = None,
) -> Run:
    """Stream ``bars`` live bars; check after each. Stop ``after_rollback`` bars past one.

    ``between(bar, monitor)`` runs after each check; a monitor it returns
    replaces the running one (a restart).
    """
    run = Run()

    async def main() -> None:
        bus = InProcessBus()
        alerts = bus.subscribe(TOPIC_ALERTS)
        engine = LiveEngine(store, registry, bus, slots=(SLOT,))
        await engine.start()
        stop = asyncio.Event()
        task = asyncio.create_task(engine.run(stop))
        monitor = DriftMonitor(store, registry, bus=bus, config=config or MonitorConfig())
        ingestor = Ingestor(store, bus=bus)
        source = SimulatorSource(market(shift), speed=math.inf)
        for done in range(1, bars + 1):
            await ingestor.run_live(source, max_batches=1)
            while engine.processed < done:
                await asyncio.sleep(0.002)
            run.checks.append(monitor.check())
            run.served.append(engine.champions[0].version)
            if between is not None:
                monitor = between(done, monitor) or monitor
            rolled = run.action("rollback")
            if after_rollback is not None and rolled and done >= rolled[0] + after_rollback:
                break
        stop.set()
        await task
        while alerts.pending():
            run.alerts.append(await alerts.get())

    asyncio.run(main())
    return run
