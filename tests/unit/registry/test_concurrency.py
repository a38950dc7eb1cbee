"""Several processes promote and roll back one slot at once: model_config.json stays whole."""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

import pytest

from nexus.errors import RegistryError
from nexus.registry import Registry, read_state

from ._workers import churn, hold_lock, judge_and_roll_back

N_WORKERS = 4
N_OPS = 30


def _replay_is_consistent(registry: Registry, slot: str, versions: list[str]) -> None:
    """Every decision starts from the champion the one before it left: no update was lost."""
    state = registry.state(slot)
    champion = None
    for decision in state.history:
        assert decision.before == champion, decision
        champion = decision.champion
        assert champion in versions or (champion is None and decision.action == "keep")
    assert champion == state.champion


def test_concurrent_promote_rollback_and_record_never_tear_or_lose_an_update(
    registry: Registry, lstm: list[str]
) -> None:
    ctx = multiprocessing.get_context("spawn")
    seen = 0
    with ctx.Pool(N_WORKERS) as pool:
        pending = pool.starmap_async(
            churn, [(str(registry.home), "lstm", lstm, N_OPS, seed) for seed in range(N_WORKERS)]
        )
        while not pending.ready():  # read all along, as the live engine would
            if registry.config_path.exists():
                state = read_state(registry.config_path)  # raises if ever torn
                slot = state.slot("lstm")
                assert slot.champion in (None, *lstm)
                assert slot.previous in (None, *lstm)
                seen += 1
            time.sleep(0.005)
        results = pending.get(timeout=120)
    assert seen > 0
    succeeded = sum(r["ok"] for r in results)
    assert sum(r["ok"] + r["refused"] for r in results) == N_WORKERS * N_OPS
    assert succeeded > N_OPS  # the slot really changed hands many times
    state = registry.state("lstm")
    assert len(state.history) == succeeded
    assert state.champion in lstm
    assert state.previous in (None, *lstm)
    assert all(v in lstm for v in state.earlier)
    _replay_is_consistent(registry, "lstm", lstm)
    json.loads(registry.config_path.read_text())
    assert not list(registry.root.glob(".model_config.json.*"))


def test_a_monitor_rollback_racing_promotes_only_ever_rolls_back_what_it_judged(
    registry: Registry, lstm: list[str]
) -> None:
    registry.promote("lstm", lstm[0], reason="first")
    registry.promote("lstm", lstm[1], reason="second")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(3) as pool:
        promoting = pool.starmap_async(
            churn, [(str(registry.home), "lstm", lstm, N_OPS, seed) for seed in range(2)]
        )
        monitor = pool.apply_async(judge_and_roll_back, (str(registry.home), "lstm", N_OPS, 9))
        while not (promoting.ready() and monitor.ready()):
            read_state(registry.config_path)  # never torn, at any moment
            time.sleep(0.005)
        churned, judged = promoting.get(timeout=120), monitor.get(timeout=120)
    assert judged["ok"] > 0
    assert judged["ok"] + judged["refused"] == N_OPS
    # a rollback that landed always took down the very champion the monitor judged
    assert all(before == seen for seen, before in judged["pairs"])
    state = registry.state("lstm")
    assert len(state.history) == 2 + judged["ok"] + sum(r["ok"] for r in churned)
    _replay_is_consistent(registry, "lstm", lstm)
    json.loads(registry.config_path.read_text())


def test_a_rollback_expecting_another_champion_changes_nothing(
    registry: Registry, lstm: list[str]
) -> None:
    registry.promote("lstm", lstm[0], reason="first")
    registry.promote("lstm", lstm[1], reason="second")
    before = registry.config_path.read_bytes()
    with pytest.raises(RegistryError, match=f"no longer served by {lstm[0]}"):
        registry.rollback("lstm", reason="monitor", expected=lstm[0])
    assert registry.config_path.read_bytes() == before
    registry.rollback("lstm", reason="monitor", expected=lstm[1])
    assert registry.champion("lstm") == lstm[0]


def test_a_held_lock_makes_others_wait_and_a_killed_holder_frees_it(
    registry: Registry, lstm: list[str], tmp_path: Path
) -> None:
    registry.promote("lstm", lstm[0], reason="first")
    ready = tmp_path / "ready"
    lock = registry.root / "model_config.json.lock"
    ctx = multiprocessing.get_context("spawn")
    holder = ctx.Process(target=hold_lock, args=(str(lock), str(ready), 60.0))
    holder.start()
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert holder.is_alive()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        impatient = Registry(registry.home, lock_timeout=0.3)
        before = registry.config_path.read_bytes()
        with pytest.raises(RegistryError, match="locked by another process"):
            impatient.promote("lstm", lstm[1], reason="x")
        assert registry.config_path.read_bytes() == before
        holder.kill()  # dies holding the lock: the kernel releases it
        holder.join(timeout=30)
        Registry(registry.home, lock_timeout=10).promote("lstm", lstm[1], reason="after kill")
    finally:
        if holder.is_alive():
            holder.kill()
            holder.join()
    assert (registry.champion("lstm"), registry.previous("lstm")) == (lstm[1], lstm[0])
