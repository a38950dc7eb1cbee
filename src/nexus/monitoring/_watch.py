"""One champion under watch: its reference, its alarms, and what one check finds."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from nexus.evaluation import classification_metrics
from nexus.features import FeaturePipeline, FeatureSpec
from nexus.monitoring._alarm import Alarm
from nexus.monitoring._config import MonitorConfig
from nexus.monitoring._reference import DriftReference
from nexus.monitoring._stats import ks_statistic, psi

__all__ = ["STATUS_LEVELS", "FeatureDrift", "SlotCheck", "Watch", "unscored"]

STATUS_LEVELS = {"ok": 0, "warning": 1, "drift": 2, "severe": 3}
"""Check statuses and their severity (``nexus_drift_status``); others mean "not judged"."""


@dataclass(frozen=True, slots=True)
class FeatureDrift:
    """One feature in one check: PSI and KS against the reference, and whether it drifts."""

    name: str
    psi: float
    ks: float
    n: int
    drifting: bool

    def to_dict(self) -> dict:
        """A JSON-ready form."""
        return {"psi": self.psi, "ks": self.ks, "n": self.n, "drifting": self.drifting}


@dataclass(frozen=True, slots=True)
class SlotCheck:
    """What one check of one slot's champion found.

    ``status``: ``ok``, ``warning`` (concept drift: confidence or macro-F1 off
    their references), ``drift`` (data drift), ``severe`` (severe data drift or a
    realised accuracy under the floor; the monitor rolls back), or one that means
    the champion was not judged: ``no_reference``, ``unverified``, ``no_data``.
    ``events`` names the alarms raised or cleared by this check; ``action`` what
    the monitor did (``rollback``, ``rollback refused``, ``cooldown``, or empty).
    """

    at: datetime
    slot: str
    version: str
    bar_ts: pd.Timestamp | None
    status: str
    data_score: float = math.nan
    drifted: float = math.nan
    confidence: float = math.nan
    confidence_ref: float = math.nan
    accuracy: float = math.nan
    accuracy_ref: float = math.nan
    macro_f1: float = math.nan
    macro_f1_ref: float = math.nan
    n_window: int = 0
    n_resolved: int = 0
    accuracy_base: float = math.nan
    features: tuple[FeatureDrift, ...] = ()
    events: tuple[str, ...] = ()
    action: str = ""
    alarms: dict = field(default_factory=dict)
    note: str = ""

    @property
    def severity(self) -> int | None:
        """0-3 for a judged check (see :data:`STATUS_LEVELS`), None otherwise."""
        return STATUS_LEVELS.get(self.status)

    def row(self) -> dict:
        """The row stored in the ``drift`` table (``nexus.domain.DRIFT_COLUMNS``)."""
        details = {
            "features": {f.name: f.to_dict() for f in self.features},
            "events": list(self.events),
            "action": self.action,
            "alarms": self.alarms,
            "note": self.note,
            "accuracy_base": self.accuracy_base,
        }
        return {
            "at": self.at,
            "slot": self.slot,
            "version": self.version,
            "bar_ts": self.bar_ts,
            "status": self.status,
            "data_score": self.data_score,
            "drifted": self.drifted,
            "confidence": self.confidence,
            "confidence_ref": self.confidence_ref,
            "accuracy": self.accuracy,
            "accuracy_ref": self.accuracy_ref,
            "macro_f1": self.macro_f1,
            "macro_f1_ref": self.macro_f1_ref,
            "n_window": self.n_window,
            "n_resolved": self.n_resolved,
            "details": json.dumps(details, default=_json_default, allow_nan=True),
        }

    def to_dict(self) -> dict:
        """A JSON-ready summary (NaN as None), for ``--json`` and the API."""
        row = self.row()
        out = {k: _clean(v) for k, v in row.items() if k != "details"}
        out["events"] = list(self.events)
        out["action"] = self.action
        out["note"] = self.note
        out["accuracy_base"] = _clean(self.accuracy_base)
        top = sorted(self.features, key=lambda f: -f.psi)[:5]
        out["top_features"] = [{"name": f.name, **_clean(f.to_dict())} for f in top]
        return out


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def _clean(value: object) -> object:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    return value


class Watch:
    """The monitor's state for one slot's champion version.

    Parameters
    ----------
    slot, version : str
    interval : str
        The bar interval the champion trades.
    spec : FeatureSpec
        Its feature spec (the window's features are computed with it).
    labels : LabelConfig
        Its label rule (realised outcomes are labelled with it).
    reference : DriftReference or None
        None for a model saved without one: nothing is judged, nothing rolls back.
    config : MonitorConfig
    """

    def __init__(
        self,
        slot: str,
        version: str,
        interval: str,
        spec: FeatureSpec,
        labels,
        reference: DriftReference | None,
        config: MonitorConfig,
    ) -> None:
        self.slot = slot
        self.version = version
        self.interval = interval
        self.pipeline = FeaturePipeline(spec)
        self.unscored = unscored(spec)
        self.labels = labels
        self.reference = reference
        self.config = config
        c = config
        self.drifting: dict[str, bool] = {}
        self.data = Alarm(
            c.drift_share, c.drift_share / 2, c.persistence, hold=60 * c.drift_minutes
        )
        self.severe = Alarm(
            c.severe_share, c.drift_share / 2, c.severe_persistence, hold=60 * c.severe_minutes
        )
        concept = reference.concept if reference is not None else None
        tol = _tolerance(c.confidence_tolerance, concept and concept.confidence_sd, c.chance_sd)
        drop = _tolerance(c.accuracy_drop, concept and concept.accuracy_sd, c.floor_sd)
        f1_drop = _tolerance(c.accuracy_drop, concept and concept.macro_f1_sd, c.chance_sd)
        # a concept figure is measured on a long rolling window: its alarm must hold for a
        # whole window of bar time (new data), not only for a run of checks
        window, outcomes = 60.0 * c.window_minutes, 60.0 * c.outcome_minutes
        if c.concept_minutes is not None:
            window = outcomes = 60.0 * c.concept_minutes
        self.confidence = Alarm(tol, tol / 2, c.persistence, hold=window)
        self.accuracy = Alarm(drop, drop / 2, c.severe_persistence, hold=outcomes)
        self.macro_f1 = Alarm(f1_drop, f1_drop / 2, c.persistence, hold=outcomes)
        self.last_bar: pd.Timestamp | None = None

    @property
    def alarms(self) -> dict[str, Alarm]:
        """The slot's alarms by name."""
        return {
            "data_drift": self.data,
            "severe_drift": self.severe,
            "confidence": self.confidence,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
        }

    def state(self) -> dict:
        """Alarm streaks and drifting features, stored with every check."""
        return {
            "alarms": {name: a.state() for name, a in self.alarms.items()},
            "drifting": sorted(n for n, on in self.drifting.items() if on),
        }

    def restore(self, state: dict) -> None:
        """Take back :meth:`state` from the last stored check (a monitor restart)."""
        for name, alarm in self.alarms.items():
            alarm.restore(state.get("alarms", {}).get(name, {}))
        self.drifting = {name: True for name in state.get("drifting", [])}

    @property
    def wants_rollback(self) -> bool:
        """Severe data drift or a realised accuracy under the floor, persistently."""
        return self.severe.on or self.accuracy.on

    # -- one check -------------------------------------------------------------------------

    def check(
        self,
        at: datetime,
        bar_ts: pd.Timestamp,
        features: pd.DataFrame,
        predictions: pd.DataFrame,
        resolved: pd.DataFrame,
    ) -> SlotCheck:
        """Score one window and move the alarms.

        Parameters
        ----------
        at : datetime
            When the check is made (UTC).
        bar_ts : Timestamp
            The newest bar's open time.
        features : DataFrame
            The features of the window's bars (``window_features``).
        predictions : DataFrame
            This version's stored predictions made in the window.
        resolved : DataFrame
            This version's predictions with known outcomes (``realised``), newest
            window of them.
        """
        ref = self.reference
        scored = self._features(features)
        share = float(np.mean([f.drifting for f in scored])) if scored else math.nan
        score = float(np.mean([f.psi for f in scored])) if scored else math.nan
        confidence = _confidence(predictions, self.config.min_predictions)
        c = ref.concept
        accuracy, macro_f1, base = _realised(resolved, self.config.min_resolved, c.guess)
        gaps = {
            "data_drift": share if scored else None,
            "severe_drift": share if scored else None,
            "confidence": abs(confidence - c.confidence) if confidence == confidence else None,
            "accuracy": c.accuracy - accuracy if accuracy == accuracy else None,
            "macro_f1": c.macro_f1 - macro_f1 if macro_f1 == macro_f1 else None,
        }
        events = []
        for name, alarm in self.alarms.items():
            change = alarm.update(gaps[name], bar_ts)
            if change:
                events.append(f"{name} {change}")
        self.last_bar = bar_ts
        return SlotCheck(
            at=at,
            slot=self.slot,
            version=self.version,
            bar_ts=bar_ts,
            status=self._status(),
            data_score=score,
            drifted=share,
            confidence=confidence,
            confidence_ref=c.confidence,
            accuracy=accuracy,
            accuracy_ref=c.accuracy,
            macro_f1=macro_f1,
            macro_f1_ref=c.macro_f1,
            n_window=len(predictions),
            n_resolved=len(resolved),
            accuracy_base=base,
            features=tuple(scored),
            events=tuple(events),
            alarms=self.state(),
        )

    def _status(self) -> str:
        if self.wants_rollback:
            return "severe"
        if self.data.on:
            return "drift"
        if self.confidence.on or self.macro_f1.on:
            return "warning"
        return "ok"

    def _features(self, features: pd.DataFrame) -> list[FeatureDrift]:
        c = self.config
        out = []
        for name, ref in self.reference.features.items():
            if name not in features or not ref.n or name in self.unscored:
                continue
            values = features[name].to_numpy(dtype=np.float64)
            values = values[np.isfinite(values)]
            if len(values) < c.min_values:
                continue
            p, k = psi(values, ref), ks_statistic(values, ref)
            psi_in, psi_out = _levels(c.psi_enter, c.psi_exit, ref.psi_null)
            ks_in, ks_out = _levels(c.ks_enter, c.ks_exit, ref.ks_null)
            was = self.drifting.get(name, False)
            now = (p >= psi_out or k >= ks_out) if was else (p >= psi_in or k >= ks_in)
            self.drifting[name] = now
            out.append(FeatureDrift(name, p, k, len(values), now))
        return out


def _levels(enter: float, exit: float, null: tuple[float, ...]) -> tuple[float, float]:
    """Enter and exit levels: the configured floors, or the chance levels if higher."""
    if len(null) < 3:
        return enter, exit
    return max(enter, null[2]), max(exit, null[1])


def _tolerance(floor: float, sd: float | None, multiple: float) -> float:
    if sd is None or not math.isfinite(sd):
        return floor
    return max(floor, multiple * sd)


def unscored(spec: FeatureSpec) -> frozenset[str]:
    """Features no live window can be compared on: calendar and macro columns.

    A calendar column is a function of the clock (a 60-minute window holds one
    hour of one day, never the training's spread), and a macro column changes
    once a release (a window holds one value). Their shift is not drift.
    """
    calendar = spec.features.calendar
    names = [name for name, _ in calendar.outputs()] if calendar is not None else []
    macro = spec.macro.names() if spec.macro is not None else ()
    return frozenset((*names, *macro))


def _confidence(predictions: pd.DataFrame, need: int) -> float:
    if len(predictions) < need:
        return math.nan
    p = predictions.loc[:, ["p_down", "p_neutral", "p_up"]].to_numpy(dtype=np.float64)
    return float(p.max(axis=1).mean())


def _realised(resolved: pd.DataFrame, need: int, guess: int) -> tuple[float, float, float]:
    """Accuracy and macro-F1 of the resolved predictions, and the accuracy of always ``guess``."""
    if len(resolved) < need:
        return math.nan, math.nan, math.nan
    y = resolved["y"].to_numpy()
    p = resolved.loc[:, ["p_down", "p_neutral", "p_up"]].to_numpy(dtype=np.float64)
    scores = classification_metrics(y, p)
    return float(scores["accuracy"]), float(scores["macro_f1"]), float(np.mean(y == guess))
