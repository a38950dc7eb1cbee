"""The nightly job (seed 004's overnight pipeline): retrain challengers, validate, promote or not.

In order: take the job lock; check corporate actions since the champions were
trained (adjusted reads apply them); build features, labels and windows on every
stored bar before the validation window; train one challenger per registry slot
the experiment configures; score champion and challenger on the validation
window (the newest sessions, which neither saw); promote the challenger or keep
the champion, recording the decision and its figures in ``model_config.json``;
return a report. Idempotent: a second run on the same stored bars finds every
slot's challenger (same model and parameters) already trained on exactly those
bars and does nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from filelock import FileLock, Timeout

from nexus.errors import ConfigError, RegistryError
from nexus.registry import Registry
from nexus.store import Store
from nexus.training._artifacts import save_artifact
from nexus.training._config import ExperimentConfig, ModelConfig
from nexus.training._prepare import Prepared, load_bars, load_context, prepare
from nexus.training._reports import model_backtest
from nexus.training._trainer import ModelResult, Progress, train_models
from nexus.training._validate import (
    ValidationConfig,
    apply_decision,
    judge,
    slot_specs,
    validation_start,
)

__all__ = ["LOCK_FILE", "RetrainReport", "retrain"]

LOCK_FILE = "retrain.lock"
"""Under ``NEXUS_HOME``: held by the running job, released by the OS if it dies."""


@dataclass(slots=True)
class RetrainReport:
    """What one run of the nightly job did."""

    started: str
    window_start: str = ""
    actions_since: str | None = None
    fingerprint: str = ""
    corporate_actions: list[dict[str, Any]] = field(default_factory=list)
    slots: list[dict[str, Any]] = field(default_factory=list)
    finished: str = ""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "started": self.started,
            "finished": self.finished,
            "window_start": self.window_start,
            "corporate_actions_since": self.actions_since,
            "fingerprint": self.fingerprint,
            "corporate_actions": self.corporate_actions,
            "slots": self.slots,
        }


def retrain(
    store: Store,
    experiment: ExperimentConfig,
    registry: Registry,
    *,
    validation: ValidationConfig | None = None,
    progress: Progress | None = None,
) -> RetrainReport:
    """Run the nightly job once; see the module docstring.

    Raises
    ------
    RegistryError
        If another run holds the lock.
    ConfigError
        If the experiment trains none of the registry's slots.
    DataError
        If the store lacks the bars for training and the validation window.
    """
    validation = validation or ValidationConfig()
    report = RetrainReport(started=_now())
    with _job_lock(registry.home / LOCK_FILE):
        _run(store, experiment, registry, validation, progress, report)
    report.finished = _now()
    return report


def _run(
    store: Store,
    experiment: ExperimentConfig,
    registry: Registry,
    validation: ValidationConfig,
    progress: Progress | None,
    report: RetrainReport,
) -> None:
    start = validation_start(store, experiment, validation.sessions)
    config = _training_config(experiment, start, registry.slots())
    report.window_start = str(start)
    report.actions_since, report.corporate_actions = _corporate_actions(store, config, registry)
    prepared = prepare(store, config)
    report.fingerprint = prepared.fingerprint
    todo = []
    for model in config.models:
        if _trained(registry, model, prepared.fingerprint):
            report.slots.append({"slot": model.slot_name, "action": "up to date"})
        else:
            todo.append(model)
    if not todo:
        return
    only = config.model_copy(update={"models": todo})
    results = train_models(prepared, only, progress=progress)
    bars = load_bars(store, experiment.data.model_copy(update={"end": None}))
    for result in results:
        entry = _judge(store, registry, result, prepared, only, bars, start, validation)
        report.slots.append(entry)


@contextlib.contextmanager
def _job_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise RegistryError(
            f"another nexus retrain is running (it holds {path})",
            fix="wait for it to finish; the lock is released when that process ends",
        ) from None
    try:
        yield
    finally:
        lock.release()


def _training_config(
    experiment: ExperimentConfig, start: pd.Timestamp, slots: tuple[str, ...]
) -> ExperimentConfig:
    """The experiment, trained on every bar before the validation window, for the slots."""
    models = [m for m in experiment.models if m.slot_name in slots]
    if not models:
        trains = ", ".join(m.slot_name for m in experiment.models)
        raise ConfigError(
            f"the experiment trains {trains}, none of the registry slots {', '.join(slots)}",
            fix="add models for those slots (model: lstm, ...) or set NEXUS_MODEL_SLOTS",
        )
    data = experiment.data.model_copy(update={"end": start.date()})
    return experiment.model_copy(update={"data": data, "models": models})


def _corporate_actions(
    store: Store, config: ExperimentConfig, registry: Registry
) -> tuple[str | None, list[dict[str, Any]]]:
    """Actions whose ex-date falls after the oldest champion's training data ended.

    Returns that date (None without champions: then every stored action) and the actions.
    """
    ends = []
    for slot in registry.slots():
        champion = registry.champion(slot)
        recorded = _recorded(registry, slot, champion, "fingerprint.json") if champion else None
        if recorded and "last_ts" in recorded:
            ends.append(pd.Timestamp(recorded["last_ts"]))
    actions = store.read_corporate_actions(config.data.symbols)
    since = min(ends).tz_convert(None) if ends else None
    if since is not None and not actions.empty:
        actions = actions.loc[pd.to_datetime(actions["ex_date"]) > since]
    rows = [{k: str(v) for k, v in row.items()} for row in actions.to_dict("records")]
    return (None if since is None else str(since)), rows


def _trained(registry: Registry, model: ModelConfig, fingerprint: str) -> bool:
    """Whether the slot already has a version of this model trained on exactly these bars."""
    wanted = model.model_dump(mode="json")
    for version in registry.versions(model.slot_name):
        bars = _recorded(registry, model.slot_name, version, "fingerprint.json")
        experiment = _recorded(registry, model.slot_name, version, "experiment.yaml")
        same_bars = bool(bars) and bars.get("sha256") == fingerprint
        if same_bars and experiment and wanted in experiment.get("models", []):
            return True
    return False


def _recorded(registry: Registry, slot: str, version: str, name: str) -> dict[str, Any] | None:
    """A version's JSON or YAML record, read without loading the model; None if unreadable.

    Enough to tell what data and settings a version was trained with; loading
    (and checksum verification) is left to the validation that uses it.
    """
    try:
        loaded = yaml.safe_load((registry.path(slot, version) / name).read_text())
    except (OSError, yaml.YAMLError):
        return None
    return loaded if isinstance(loaded, dict) else None


def _judge(
    store: Store,
    registry: Registry,
    result: ModelResult,
    prepared: Prepared,
    config: ExperimentConfig,
    bars: pd.DataFrame,
    start: pd.Timestamp,
    validation: ValidationConfig,
) -> dict[str, Any]:
    """Register the challenger, judge it, promote or keep; write its backtest report."""
    slot = result.config.slot_name
    version = save_artifact(registry, result, prepared, config).name
    before = registry.champion(slot)
    context = load_context(store, bars, slot_specs(registry, slot, version))
    decision = judge(registry, slot, version, bars, start, validation, context)
    apply_decision(registry, slot, version, decision)
    report = registry.home / "reports" / f"retrain-{slot}-{version}.html"
    artifact = registry.load(slot, version)
    model_backtest(store, artifact, start=start, report=report, bars=bars, context=context)
    return {
        "report": str(report),
        "slot": slot,
        "action": decision.action,
        "challenger": version,
        "champion_before": before,
        "champion_after": registry.champion(slot),
        "reason": decision.reason,
        "figures": decision.figures,
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
