"""The drift monitor: checks every champion on each new bar, alerts, and rolls back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pandas as pd
import yaml

from nexus.domain import Interval
from nexus.errors import NexusError
from nexus.features import FeatureSpec
from nexus.monitoring._config import MonitorConfig
from nexus.monitoring._metrics import MonitorMetrics
from nexus.monitoring._notify import Notifier
from nexus.monitoring._reference import read_reference
from nexus.monitoring._watch import SlotCheck, Watch
from nexus.monitoring._window import LiveWindow, newest_bar, read_window, realised, window_features
from nexus.registry import Registry
from nexus.store import Store, WriteBatch

__all__ = ["DriftMonitor"]

log = logging.getLogger("nexus.monitoring")

_ALERT_LEVELS = {
    "data_drift": ("warning", "data drift"),
    "severe_drift": ("critical", "severe data drift"),
    "confidence": ("warning", "concept drift: confidence"),
    "accuracy": ("critical", "concept drift: realised accuracy under the floor"),
    "macro_f1": ("warning", "concept drift: realised macro-F1"),
}


class DriftMonitor:
    """Watches each slot's champion for data and concept drift; rolls back when it is severe.

    On every new bar time of a champion's interval (looked for every
    ``config.every_seconds``) it scores the rolling live window against the
    champion's reference (``reference.json``): each feature's PSI and KS, the
    mean calibrated confidence of the stored predictions, and the realised
    accuracy and macro-F1 of those whose triple-barrier outcome is known. Alarms
    need ``persistence`` consecutive checks to rise or clear. Severe data drift
    or an accuracy under the floor, held for ``severe_persistence`` checks,
    rolls the slot back to its previous champion through the registry (only if
    the judged version is still champion; never within ``cooldown_minutes`` of
    the last rollback; never to a missing or corrupt artifact). The live engine
    picks the change up from ``model_config.json`` before its next bar.

    Every check is stored (``drift`` table) with its alarm streaks, so a
    restarted monitor carries on where it stopped; alerts go to the bus, the
    sinks and the store. A check that fails (the store unreachable) is logged,
    alerted once and retried with backoff; it counts towards no alarm.

    Parameters
    ----------
    store : Store
    registry : Registry
    bus : Bus, optional
        Alerts are published on :data:`~nexus.bus.TOPIC_ALERTS`.
    config : MonitorConfig, optional
    sinks : sequence of AlertSink
        Also get every alert (for example the log and a webhook).
    metrics : MonitorMetrics, optional
    slots : sequence of str, optional
        The slots watched (default: every registry slot that has a champion).
    """

    def __init__(
        self,
        store: Store,
        registry: Registry,
        *,
        bus=None,
        config: MonitorConfig | None = None,
        sinks: Sequence = (),
        metrics: MonitorMetrics | None = None,
        slots: Sequence[str] | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.config = config if config is not None else MonitorConfig()
        self.metrics = metrics if metrics is not None else MonitorMetrics()
        self.notifier = Notifier(bus, sinks, self.metrics)
        self.slots = tuple(slots) if slots else None
        self.watches: dict[str, Watch] = {}
        self.last: dict[str, SlotCheck] = {}
        self.state = "stopped"
        self.problem = ""
        self.failures = 0
        self._refused: dict[str, datetime] = {}
        self._told: set[tuple[str, str, str]] = set()

    # -- the service -----------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Check every ``every_seconds`` until ``stop`` is set; back off while checks fail."""
        stop = stop or asyncio.Event()
        self.state = "running"
        try:
            while not stop.is_set():
                delay = await asyncio.to_thread(self.step)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=delay)
        finally:
            self.state = "stopped"
            self.notifier.close()

    def step(self) -> float:
        """One safe pass: check, or log and alert a failure; return seconds until the next."""
        try:
            self.check()
        except Exception as exc:  # the monitor keeps running whatever a pass meets
            return self._failed(exc)
        if self.failures:
            self.notifier.raise_(
                "info",
                "monitor_recovered",
                f"drift monitor: checks work again after {self.failures} failed attempt(s)",
            )
            self.failures = 0
            self._flush([])
        self.state, self.problem = "running", ""
        return self.config.every_seconds

    def _failed(self, exc: Exception) -> float:
        self.failures += 1
        self.metrics.errors.inc()
        delay = min(
            self.config.retry_seconds * 2 ** (self.failures - 1), self.config.max_retry_seconds
        )
        self.state, self.problem = "retrying", f"{type(exc).__name__}: {exc}"
        log.warning(
            "drift monitor: check failed (%s); retrying in %.0f s; nothing is judged meanwhile",
            self.problem,
            delay,
            extra={"failures": self.failures},
        )
        if self.failures == 1:
            self.notifier.raise_(
                "warning",
                "monitor_error",
                f"drift monitor: a check failed ({exc}); retrying, no decision meanwhile",
                details={"error": str(exc), "retry_seconds": delay},
            )
        return delay

    def status(self) -> dict:
        """What the monitor is doing, for ``/api/health`` and ``nexus monitor``."""
        return {
            "state": self.state,
            "problem": self.problem,
            "failures": self.failures,
            "slots": {slot: check.to_dict() for slot, check in self.last.items()},
        }

    # -- one pass --------------------------------------------------------------------------

    def check(self) -> list[SlotCheck]:
        """Check every watched champion that has a new bar; store and return the checks.

        Raises
        ------
        Exception
            Whatever the store raises when it cannot be read or written (``step``
            turns it into a logged retry).
        """
        self._sync()
        checks: list[SlotCheck] = []
        by_interval: dict[str, list[Watch]] = {}
        for watch in self.watches.values():
            by_interval.setdefault(watch.interval, []).append(watch)
        series = self.store.series() if by_interval else None
        for interval, watches in by_interval.items():
            newest = newest_bar(series, interval)
            due = [w for w in watches if newest is not None and w.last_bar != newest]
            if not due:
                continue
            window = read_window(
                self.store,
                series,
                interval,
                newest,
                self.config.window_minutes,
                self._history(due),
            )
            predictions = self._predictions(window, due)
            shared = _Shared(self.store, window)
            for watch in due:
                checks.append(self._check(watch, window, predictions, shared))
        self._flush(checks)
        return checks

    def _flush(self, checks: list[SlotCheck]) -> None:
        alerts = self.notifier.held()
        drift = pd.DataFrame([c.row() for c in checks]) if checks else None
        if drift is None and alerts.empty:
            return
        self.store.write(WriteBatch(alerts=alerts if not alerts.empty else None, drift=drift))
        self.notifier.stored(len(alerts))

    def _history(self, watches: list[Watch]) -> int:
        """Bars per symbol to read: the feature window after its warm-up, and the outcome
        window with its horizon after the labels' volatility warm-up."""
        step = Interval.parse(watches[0].interval).timedelta
        features = int(pd.Timedelta(minutes=self.config.window_minutes) / step) + 1
        outcomes = int(pd.Timedelta(minutes=self.config.outcome_minutes) / step) + 1
        need = 0
        for w in watches:
            labels = w.labels
            need = max(
                need,
                features + w.pipeline.warmup,
                outcomes + labels.horizon + 3 * labels.vol_span,
            )
        return need + 2

    def _predictions(self, window: LiveWindow, watches: list[Watch]) -> pd.DataFrame:
        """Stored predictions of both windows and the longest horizon before the newest bar."""
        step = Interval.parse(window.interval).timedelta
        horizon = max(w.labels.horizon for w in watches)
        span = pd.Timedelta(minutes=max(self.config.window_minutes, self.config.outcome_minutes))
        start = window.newest - span - (horizon + 1) * step
        return self.store.read_predictions(interval=window.interval, start=start.to_pydatetime())

    def _check(
        self, watch: Watch, window: LiveWindow, predictions: pd.DataFrame, shared: _Shared
    ) -> SlotCheck:
        now = datetime.now(UTC)
        if watch.reference is None:
            watch.last_bar = window.newest
            return self._unjudged(watch, now, window.newest)
        mine = predictions.loc[
            (predictions["model"] == watch.slot) & (predictions["version"] == watch.version)
        ]
        mine = mine.assign(ts=pd.to_datetime(mine["ts"], utc=True))
        known = realised(mine, shared.labels(watch.labels))
        span = pd.Timedelta(minutes=self.config.outcome_minutes)
        if not known.empty:
            known = known.loc[known["ts"] > known["ts"].max() - span]
        features = shared.features(watch.pipeline)
        check = watch.check(
            now, window.newest, features, mine.loc[mine["ts"] > window.start], known
        )
        check = self._act(watch, check)
        self.last[watch.slot] = check
        self.metrics.observe(check)
        return check

    def _unjudged(self, watch: Watch, now: datetime, bar_ts: pd.Timestamp) -> SlotCheck:
        check = SlotCheck(
            at=now,
            slot=watch.slot,
            version=watch.version,
            bar_ts=bar_ts,
            status="no_reference",
            note=f"{watch.slot}/{watch.version} has no reference.json; drift is not judged",
        )
        self.last[watch.slot] = check
        self.metrics.observe(check)
        return check

    # -- alerts and rollback ---------------------------------------------------------------

    def _act(self, watch: Watch, check: SlotCheck) -> SlotCheck:
        for event in check.events:
            name, change = event.rsplit(" ", 1)
            self._alert_event(watch, check, name, change)
        if not (watch.wants_rollback and self.config.rollback):
            return check
        action = self._rollback(watch, check)
        return replace(check, action=action)

    def _alert_event(self, watch: Watch, check: SlotCheck, name: str, change: str) -> None:
        level, what = _ALERT_LEVELS[name]
        figures = _figures(check)
        if change == "cleared":
            message = f"{watch.slot}/{watch.version}: {what} cleared"
            self.notifier.raise_("info", name, message, slot=watch.slot, details=figures)
            return
        message = f"{watch.slot}/{watch.version}: {what} ({_describe(name, check)})"
        self.notifier.raise_(level, name, message, slot=watch.slot, details=figures)

    def _rollback(self, watch: Watch, check: SlotCheck) -> str:
        slot, now = watch.slot, datetime.now(UTC)
        cooldown = timedelta(minutes=self.config.cooldown_minutes)
        last = self._last_rollback(slot)
        refused = self._refused.get(slot)
        blocked = [t for t in (last, refused) if t is not None and now - t < cooldown]
        if blocked:
            self._tell_once(
                watch,
                "cooldown",
                "warning",
                f"{slot}/{watch.version}: {_why(watch)} persists; the slot was "
                f"{'rolled back' if max(blocked) == last else 'refused a rollback'} at "
                f"{max(blocked):%Y-%m-%d %H:%M} UTC, so no rollback before "
                f"{max(blocked) + cooldown:%Y-%m-%d %H:%M} UTC (cooldown)",
                check,
            )
            return "cooldown"
        why = _why(watch)
        try:
            decision = self.registry.rollback(
                slot,
                reason=f"drift monitor: {why}",
                figures={k: v for k, v in _figures(check).items() if v is not None},
                expected=watch.version,
            )
        except NexusError as exc:
            self._refused[slot] = now
            self.notifier.raise_(
                "critical",
                "rollback_refused",
                f"{slot}/{watch.version}: {why}, but the rollback was refused: {exc}",
                slot=slot,
                details={**_figures(check), "error": str(exc)},
            )
            return "rollback refused"
        self.metrics.rollbacks.labels(slot=slot).inc()
        self.notifier.raise_(
            "critical",
            "rollback",
            f"{slot}: rolled back from {watch.version} to {decision.champion} ({why})",
            slot=slot,
            details={**_figures(check), "from": watch.version, "to": decision.champion},
        )
        log.warning("drift monitor rolled %s back from %s to %s", slot, watch.version,
                    decision.champion)  # fmt: skip
        self.watches.pop(slot, None)
        return "rollback"

    def _last_rollback(self, slot: str) -> datetime | None:
        times = [d.time for d in self.registry.history(slot) if d.action == "rollback"]
        return max(times) if times else None

    def _tell_once(self, watch: Watch, kind: str, level: str, message: str, check) -> None:
        key = (watch.slot, watch.version, kind)
        if key in self._told:
            return
        self._told.add(key)
        self.notifier.raise_(level, kind, message, slot=watch.slot, details=_figures(check))

    # -- which champions ---------------------------------------------------------------------

    def _sync(self) -> None:
        """Watch each slot's current champion; a new champion gets a fresh watch."""
        slots = self.slots or self.registry.slots()
        served = {}
        for slot in slots:
            version = self.registry.champion(slot)
            if version is None:
                self.watches.pop(slot, None)
                continue
            served[slot] = version
            current = self.watches.get(slot)
            if current is not None and current.version == version:
                continue
            watch = self._watch(slot, version)
            if watch is None:
                self.watches.pop(slot, None)
                continue
            self.watches[slot] = watch
        self.metrics.watch(served)

    def _watch(self, slot: str, version: str) -> Watch | None:
        """A watch of ``slot``'s ``version``; None (with one alert) when it cannot be read."""
        folder = self.registry.path(slot, version)
        verified = self.registry.verify(slot, version)
        try:
            if not verified.ok:
                raise NexusError(f"model {slot}/{version} is corrupt: {verified.problem}")
            experiment = yaml.safe_load((folder / "experiment.yaml").read_text())
            reference = read_reference(folder)
            watch = Watch(
                slot,
                version,
                str(experiment.get("data", {}).get("interval", "1m")),
                FeatureSpec.from_yaml(folder / "features.yaml"),
                _label_config(experiment),
                reference,
                self.config,
            )
        except (NexusError, OSError, ValueError, yaml.YAMLError) as exc:
            key = (slot, version, "unreadable")
            if key not in self._told:
                self._told.add(key)
                log.warning("drift monitor: cannot watch %s/%s: %s", slot, version, exc)
                self.notifier.raise_(
                    "warning",
                    "monitor_error",
                    f"{slot}/{version} cannot be watched: {exc}; drift is not judged",
                    slot=slot,
                )
            return None
        if reference is None:
            self._no_reference(slot, version)
        else:
            self._note_window(slot, version, reference.window_minutes)
            self._restore(watch)
        log.info("drift monitor: watching %s/%s", slot, version)
        return watch

    def _note_window(self, slot: str, version: str, measured: float) -> None:
        if measured != measured or abs(measured - self.config.window_minutes) < 1e-9:
            return
        log.warning(
            "drift monitor: %s/%s's chance levels were measured on %g-minute windows and this "
            "monitor's window is %g minutes; its feature levels are approximate (a shorter "
            "window strays further by chance)",
            slot, version, measured, self.config.window_minutes,
        )  # fmt: skip

    def _no_reference(self, slot: str, version: str) -> None:
        key = (slot, version, "no_reference")
        if key in self._told:
            return
        self._told.add(key)
        message = (
            f"{slot}/{version} has no drift reference (trained before Nexus saved "
            "reference.json); its drift is not judged and it is never rolled back for drift. "
            "Retrain it to monitor it"
        )
        log.warning("drift monitor: %s", message)
        self.notifier.raise_("warning", "no_reference", message, slot=slot)

    def _restore(self, watch: Watch) -> None:
        """Carry on the alarm streaks of the last stored check of this version, if recent."""
        stored = self.store.read_drift(watch.slot, limit=1)
        if stored.empty:
            return
        last = stored.iloc[-1]
        age = datetime.now(UTC) - pd.Timestamp(last["at"]).to_pydatetime()
        if last["version"] != watch.version or age > timedelta(
            minutes=2 * self.config.window_minutes
        ):
            return
        try:
            state = json.loads(last["details"]).get("alarms") or {}
        except (TypeError, ValueError):
            return
        watch.restore(state)
        if pd.notna(last["bar_ts"]):
            watch.last_bar = pd.Timestamp(last["bar_ts"]).tz_convert("UTC")
        log.info("drift monitor: %s/%s carries on from its check at %s", watch.slot,
                 watch.version, last["at"])  # fmt: skip


class _Shared:
    """One pass's window features per feature spec and labels per label rule.

    The champions of the dual decision usually share both: each is computed once.
    """

    def __init__(self, store: Store, window: LiveWindow) -> None:
        self.store = store
        self.window = window
        self._features: dict[str, pd.DataFrame] = {}
        self._labels: dict[str, pd.DataFrame] = {}

    def features(self, pipeline) -> pd.DataFrame:
        key = pipeline.spec.config_id
        if key not in self._features:
            self._features[key] = window_features(self.window, pipeline, **self._context(pipeline))
        return self._features[key]

    def labels(self, rule) -> pd.DataFrame:
        key = rule.config_id
        if key not in self._labels:
            self._labels[key] = _labels(self.window.bars, rule)
        return self._labels[key]

    def _context(self, pipeline) -> dict:
        if not (pipeline.needs_news or pipeline.macro_series) or self.window.bars.empty:
            return {}
        from nexus.training import load_context

        context = load_context(self.store, self.window.bars, [pipeline.spec])
        return {"news": context.news, "macro": context.macro}


def _why(watch: Watch) -> str:
    return "severe data drift" if watch.severe.on else "realised accuracy under the floor"


def _label_config(experiment: dict):
    from nexus.training import LabelConfig

    return LabelConfig(**(experiment.get("labels") or {}))


def _labels(bars: pd.DataFrame, labels) -> pd.DataFrame:
    from nexus.training import make_labels

    if bars.empty:
        return pd.DataFrame(columns=["symbol", "ts", "label"])
    return make_labels(bars, labels)


def _figures(check: SlotCheck) -> dict:
    out = check.to_dict()
    return {k: out[k] for k in (
        "version", "bar_ts", "status", "data_score", "drifted", "confidence", "confidence_ref",
        "accuracy", "accuracy_ref", "macro_f1", "macro_f1_ref", "n_window", "n_resolved",
        "top_features",
    )}  # fmt: skip


def _describe(name: str, check: SlotCheck) -> str:
    if name in ("data_drift", "severe_drift"):
        top = ", ".join(f"{f.name} PSI {f.psi:.2f}" for f in
                        sorted(check.features, key=lambda f: -f.psi)[:3])  # fmt: skip
        return f"{check.drifted:.0%} of features drifting; {top}"
    if name == "confidence":
        return f"mean confidence {check.confidence:.3f} vs {check.confidence_ref:.3f} in validation"
    if name == "accuracy":
        return (
            f"accuracy {check.accuracy:.3f} on {check.n_resolved} resolved predictions vs "
            f"{check.accuracy_ref:.3f} in validation"
        )
    return f"macro-F1 {check.macro_f1:.3f} vs {check.macro_f1_ref:.3f} in validation"
