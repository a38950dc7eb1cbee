"""Process entry points for the concurrency tests (importable by spawned children)."""

from __future__ import annotations

import random
import time
from pathlib import Path

from filelock import FileLock

from nexus.errors import RegistryError
from nexus.registry import Registry


def churn(home: str, slot: str, versions: list[str], n_ops: int, seed: int) -> dict[str, int]:
    """Promote, roll back and record at random; count what succeeded and what was refused."""
    registry = Registry(Path(home))
    rng = random.Random(seed)
    done = {"ok": 0, "refused": 0}
    for _ in range(n_ops):
        roll = rng.random()
        try:
            if roll < 0.5:
                registry.promote(slot, rng.choice(versions), reason=f"worker {seed}")
            elif roll < 0.85:
                registry.rollback(slot, reason=f"worker {seed}")
            else:
                registry.record(slot, "keep", version=rng.choice(versions), reason=f"w{seed}")
            done["ok"] += 1
        except RegistryError:  # already champion, or nothing to roll back to
            done["refused"] += 1
    return done


def hold_lock(lock_path: str, ready: str, seconds: float) -> None:
    """Take the registry lock, say so by creating ``ready``, and sit on it."""
    with FileLock(lock_path):
        Path(ready).touch()
        time.sleep(seconds)


def judge_and_roll_back(home: str, slot: str, n_ops: int, seed: int) -> dict[str, object]:
    """The drift monitor's move: read the champion, judge it a while, roll back only that one.

    Returns how many rollbacks landed, how many were refused because a promote
    came in between (or there was nothing to roll back to), and each landed
    rollback's (judged, rolled back) pair.
    """
    registry = Registry(Path(home))
    rng = random.Random(seed)
    done: dict[str, object] = {"ok": 0, "refused": 0, "pairs": []}
    for _ in range(n_ops):
        judged = registry.champion(slot)
        time.sleep(rng.uniform(0, 0.01))  # a check takes a while; a promote may land meanwhile
        try:
            decision = registry.rollback(slot, reason="drift monitor: test", expected=judged)
        except RegistryError:
            done["refused"] += 1
            continue
        done["ok"] += 1
        done["pairs"].append((judged, decision.before))
    return done
