"""First champions for an empty registry, so the live engine can start (``nexus up``)."""

from __future__ import annotations

from typing import Any

from nexus.registry import Registry
from nexus.store import Store
from nexus.training._config import ExperimentConfig
from nexus.training._retrain import RetrainReport, retrain
from nexus.training._trainer import Progress
from nexus.training._validate import ValidationConfig

__all__ = ["bootstrap_champions"]


def bootstrap_champions(
    store: Store,
    experiment: ExperimentConfig,
    registry: Registry,
    slots: tuple[str, ...],
    *,
    validation: ValidationConfig | None = None,
    progress: Progress | None = None,
) -> RetrainReport | None:
    """Train, validate and, where no champion exists, promote a first version of ``slots``.

    Runs the nightly job (:func:`~nexus.training.retrain`): challengers trained on
    every bar before the validation window and judged on it. A challenger the
    validation promotes is promoted as usual. One it keeps (on the simulator,
    last-return momentum is as strong as a first model) is still promoted when
    its slot has no champion at all, with a ``bootstrap`` reason that quotes the
    validation verdict and its figures, so a user can see the live engine started
    on a model that has not beaten the baselines. Slots with a champion are never
    touched.

    Returns
    -------
    RetrainReport or None
        What the job did; None when every slot already had a champion.
    """
    if all(registry.champion(slot) for slot in slots):
        return None
    report = retrain(store, experiment, registry, validation=validation, progress=progress)
    by_slot = {entry["slot"]: entry for entry in report.slots}
    for slot in slots:
        if registry.champion(slot) is None and registry.versions(slot):
            _promote_first(registry, slot, by_slot.get(slot, {}))
    return report


def _promote_first(registry: Registry, slot: str, entry: dict[str, Any]) -> None:
    version = entry.get("challenger") or registry.versions(slot)[-1]
    verdict = entry.get("reason", "no validation this run (already trained on these bars)")
    registry.promote(
        slot,
        version,
        reason=f"bootstrap: first champion so the live engine can start; validation: {verdict}",
        figures={**entry.get("figures", {}), "bootstrap": True},
    )
    entry["champion_after"] = version
    entry["action"] = f"{entry.get('action', 'up to date')}, bootstrap promote"
