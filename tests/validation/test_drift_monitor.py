"""The drift monitor on the simulator: regime changes are caught and rolled back, calm is not.

Two LightGBM versions are trained on 20 sessions of a 10-symbol, 5-minute market
with a planted edge (``alpha = 0.5``); the newer is champion, the older previous.
The market then streams on, bar by bar, through the real ingest, live engine
(ONNX inference, stored predictions) and drift monitor (a check after every bar),
in one of three futures: volatility tripled, the planted edge flipped, or the
same regime. The history is bit-for-bit the same in all three (``RegimeShift``
starts at the first live session), so the champions are trained once.
"""

from __future__ import annotations

from pathlib import Path

from nexus.registry import Registry
from nexus.sources.simulator import RegimeShift
from nexus.store import DuckDBStore
from tests._drift_world import (
    ALPHA,
    BARS_PER_SESSION,
    HISTORY,
    SLOT,
    Run,
    stream,
)

# what the tests promise (measured on this market: see each test)
VOLATILITY_ALARM_WITHIN = 40  # bars after the change (measured 29: 120 minutes of drift)
VOLATILITY_ROLLBACK_WITHIN = 70  # (measured 53: 240 minutes of drift)
FLIP_ROLLBACK_WITHIN = 90  # (measured 74: 200 resolved, then under the floor for 240 minutes)


def _run(world: Path, shift: RegimeShift | None, bars: int, **options) -> Run:
    with DuckDBStore(world / "nexus.duckdb") as store:
        return stream(store, Registry(world / "home", slots=(SLOT,)), shift, bars, **options)


def test_tripled_volatility_is_detected_and_rolled_back(world: Path) -> None:
    registry = Registry(world / "home", slots=(SLOT,))
    older, newer = registry.versions(SLOT)
    run = _run(world, RegimeShift(session=HISTORY, vol_scale=3.0), 80, after_rollback=2)
    alarm, rollbacks = run.first("data_drift raised"), run.action("rollback")
    print(f"tripled volatility: data drift at bar {alarm}, rollbacks at bars {rollbacks}")
    assert alarm is not None
    assert alarm <= VOLATILITY_ALARM_WITHIN
    assert rollbacks
    assert rollbacks[0] <= VOLATILITY_ROLLBACK_WITHIN
    assert len(rollbacks) == 1
    # the registry rolled back atomically, and the engine serves the older model without a restart
    assert registry.champion(SLOT) == older
    assert registry.history(SLOT)[-1].action == "rollback"
    assert "severe data drift" in registry.history(SLOT)[-1].reason
    assert run.served[rollbacks[0] - 1] == newer
    assert run.served[-1] == older
    kinds = [a.kind for a in run.alerts]
    assert kinds.index("data_drift") < kinds.index("severe_drift") < kinds.index("rollback")
    rollback = run.alerts[kinds.index("rollback")]
    assert rollback.level == "critical"
    assert rollback.details["to"] == older
    with DuckDBStore(world / "nexus.duckdb") as store:
        stored = store.read_alerts()
        assert set(stored["id"]) == {a.id for a in run.alerts}  # every alert stored once
        checks = store.read_drift(SLOT)
        assert len(checks) == sum(len(c) for c in run.checks)


def test_a_flipped_edge_is_caught_by_realised_accuracy_and_rolled_back(world: Path) -> None:
    registry = Registry(world / "home", slots=(SLOT,))
    older, _ = registry.versions(SLOT)
    run = _run(world, RegimeShift(session=HISTORY, alpha=-ALPHA), 100, after_rollback=2)
    rollbacks = run.action("rollback")
    print(f"flipped edge: accuracy alarm at bar {run.first('accuracy raised')}, rollbacks at bars "
          f"{rollbacks}")  # fmt: skip
    assert rollbacks
    assert rollbacks[0] <= FLIP_ROLLBACK_WITHIN
    assert run.first("accuracy raised") == rollbacks[0]
    # the features look as they always did: no data drift, only the outcomes changed
    assert run.first("data_drift raised") is None
    judged = next(c for c in run.checks[rollbacks[0] - 1] if c.action == "rollback")
    assert judged.accuracy < judged.accuracy_ref - 0.1
    assert registry.champion(SLOT) == older
    assert "realised accuracy under the floor" in registry.history(SLOT)[-1].reason


def test_a_stable_week_raises_at_most_one_false_alarm(world: Path) -> None:
    registry = Registry(world / "home", slots=(SLOT,))
    champion = registry.champion(SLOT)
    week = 5 * BARS_PER_SESSION
    run = _run(world, None, week)
    raised = run.raised()
    judged = sum(1 for cs in run.checks for c in cs if c.severity is not None)
    print(f"stable week: {len(raised)} alarm(s) in {judged} checks over {week} bars: {raised}")
    assert len(raised) <= 1
    assert run.action("rollback") == []
    assert registry.champion(SLOT) == champion
    assert judged > 0.8 * week  # the window is judged nearly every bar, not skipped
