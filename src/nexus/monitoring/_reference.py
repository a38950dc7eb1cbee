"""What "normal" looked like when a model was trained: the reference drift is measured against.

Saved with every model version as ``reference.json`` (see
:func:`nexus.training.save_artifact`). For each feature it keeps the
quantiles of the raw values the model was fitted on and the decile bins PSI
compares; for the model it keeps the mean calibrated confidence, accuracy and
macro-F1 of its predictions on the newest unseen window of its training run
(the last walk-forward fold's test set, scored by this very model).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from nexus.errors import ArtifactError

__all__ = [
    "REFERENCE_FILE",
    "ConceptReference",
    "DriftReference",
    "FeatureReference",
    "build_reference",
    "concept_reference",
    "feature_references",
    "read_reference",
]

REFERENCE_FILE = "reference.json"
_FORMAT = 1
_QUANTILES = 201  # 0.5 % steps: the KS statistic against them is off by at most 0.005
_BINS = 10
_NULL_LEVELS = (0.5, 0.9, 0.99)


@dataclass(frozen=True, slots=True)
class FeatureReference:
    """One feature's training distribution.

    Attributes
    ----------
    quantiles : tuple of float, length 201
        The 0, 0.5, ..., 100 % quantiles of the finite training values.
    edges : tuple of float
        Interior bin edges for PSI (the distinct training deciles); bin ``i`` is
        ``edges[i-1] < x <= edges[i]``.
    proportions : tuple of float, length ``len(edges) + 1``
        The share of training values in each bin (ties make them uneven).
    n : int
        Finite training values.
    missing : float
        The share of training values that were NaN or infinite.
    psi_null, ks_null : tuple of float
        The 50th, 90th and 99th percentiles of the PSI (KS statistic) of the
        training period's own rolling windows against this reference: how far a
        window of normal data strays by chance (volatility clustering,
        intraday seasonality, few independent values). Empty when not measured.
    """

    quantiles: tuple[float, ...]
    edges: tuple[float, ...]
    proportions: tuple[float, ...]
    n: int
    missing: float
    psi_null: tuple[float, ...] = ()
    ks_null: tuple[float, ...] = ()

    @classmethod
    def of(cls, values: np.ndarray) -> FeatureReference:
        """The reference of ``values`` (1-D, NaN allowed), without null figures."""
        values = np.asarray(values, dtype=np.float64)
        finite = values[np.isfinite(values)]
        missing = 1.0 - len(finite) / len(values) if len(values) else 1.0
        if not len(finite):
            return cls((), (), (), 0, missing)
        quantiles = np.quantile(finite, np.linspace(0.0, 1.0, _QUANTILES))
        edges = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, _BINS + 1)[1:-1]))
        counts = np.bincount(np.searchsorted(edges, finite, side="left"), minlength=len(edges) + 1)
        return cls(
            quantiles=tuple(quantiles.tolist()),
            edges=tuple(edges.tolist()),
            proportions=tuple((counts / len(finite)).tolist()),
            n=len(finite),
            missing=missing,
        )


@dataclass(frozen=True, slots=True)
class ConceptReference:
    """How the model did out of sample at training time (the last fold's test window).

    ``confidence`` is the mean of the largest calibrated class probability;
    ``accuracy`` and ``macro_f1`` score the arg-max class against the triple-barrier
    labels; ``classes`` is the share of DOWN, NEUTRAL and UP labels; ``n`` the samples.
    ``confidence_sd``, ``accuracy_sd`` and ``macro_f1_sd`` are the standard
    deviations of the same figures over that window's rolling sub-windows (of
    the reference's ``window_minutes`` and ``outcome_minutes``): their chance
    variation, which the monitor's tolerances never go under. NaN when unmeasured.
    """

    confidence: float
    accuracy: float
    macro_f1: float
    classes: tuple[float, float, float]
    n: int
    confidence_sd: float = float("nan")
    accuracy_sd: float = float("nan")
    macro_f1_sd: float = float("nan")

    @property
    def guess(self) -> int:
        """The class a no-skill forecaster would always call: the window's most frequent."""
        return int(np.argmax(self.classes)) if np.isfinite(self.classes).all() else 1


@dataclass(frozen=True, slots=True)
class DriftReference:
    """A model's drift reference: each feature's training distribution and its validation scores.

    ``window_minutes`` and ``outcome_minutes`` are the rolling windows the null
    figures were measured on (the monitor's defaults); ``window`` records where
    the training rows came from.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ts = pd.date_range("2025-01-02 14:30", periods=500, freq="1min", tz="UTC")
    >>> features = pd.DataFrame({"symbol": "A", "ts": ts, "a": rng.normal(size=500)})
    >>> y, proba = rng.integers(0, 3, 200), np.full((200, 3), 1 / 3)
    >>> ref = build_reference(features, ("a",), y, proba, ts[-200:], min_values=20)
    >>> f = ref.features["a"]
    >>> len(f.edges), len(f.psi_null), round(ref.concept.confidence, 3)
    (9, 3, 0.333)
    """

    features: Mapping[str, FeatureReference]
    concept: ConceptReference
    window: Mapping[str, str] = field(default_factory=dict)
    window_minutes: float = float("nan")
    outcome_minutes: float = float("nan")

    def to_dict(self) -> dict:
        """The JSON form written to ``reference.json``."""
        c = self.concept
        return {
            "format": _FORMAT,
            "window": dict(self.window),
            "window_minutes": self.window_minutes,
            "outcome_minutes": self.outcome_minutes,
            "concept": {
                "confidence": c.confidence,
                "accuracy": c.accuracy,
                "macro_f1": c.macro_f1,
                "classes": list(c.classes),
                "n": c.n,
                "confidence_sd": c.confidence_sd,
                "accuracy_sd": c.accuracy_sd,
                "macro_f1_sd": c.macro_f1_sd,
            },
            "features": {
                name: {
                    "quantiles": list(f.quantiles),
                    "edges": list(f.edges),
                    "proportions": list(f.proportions),
                    "n": f.n,
                    "missing": f.missing,
                    "psi_null": list(f.psi_null),
                    "ks_null": list(f.ks_null),
                }
                for name, f in self.features.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> DriftReference:
        """Parse :meth:`to_dict`'s form.

        Raises
        ------
        ValueError
            If a field is missing or of the wrong kind.
        """
        if data.get("format") != _FORMAT:
            raise ValueError(f"unknown reference format {data.get('format')!r}")
        c = data["concept"]
        concept = ConceptReference(
            confidence=float(c["confidence"]),
            accuracy=float(c["accuracy"]),
            macro_f1=float(c["macro_f1"]),
            classes=tuple(float(v) for v in c["classes"]),
            n=int(c["n"]),
            confidence_sd=float(c.get("confidence_sd", "nan")),
            accuracy_sd=float(c.get("accuracy_sd", "nan")),
            macro_f1_sd=float(c.get("macro_f1_sd", "nan")),
        )
        features = {
            str(name): FeatureReference(
                quantiles=_floats(f["quantiles"]),
                edges=_floats(f["edges"]),
                proportions=_floats(f["proportions"]),
                n=int(f["n"]),
                missing=float(f["missing"]),
                psi_null=_floats(f.get("psi_null", ())),
                ks_null=_floats(f.get("ks_null", ())),
            )
            for name, f in data["features"].items()
        }
        return cls(
            features,
            concept,
            {str(k): str(v) for k, v in data.get("window", {}).items()},
            float(data.get("window_minutes", "nan")),
            float(data.get("outcome_minutes", "nan")),
        )

    def save(self, path: Path) -> None:
        """Write the reference as JSON to ``path``."""
        Path(path).write_text(json.dumps(self.to_dict(), sort_keys=True) + "\n")


def _floats(values) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def _stamps(values: Sequence) -> np.ndarray:
    """UTC times as naive ``datetime64[us]`` (searchable)."""
    stamps = pd.to_datetime(pd.Series(np.asarray(values, dtype=object)), utc=True)
    return stamps.dt.tz_localize(None).to_numpy(dtype="datetime64[us]")


def _windows(ts: np.ndarray, minutes: float, most: int) -> list[tuple[int, int]]:
    """Row ranges ``[lo, hi)`` of rolling windows over rows sorted by ``ts`` (datetime64).

    A window ends at a bar time and holds the rows of the ``minutes`` before it
    (``end - minutes < ts <= end``), as the monitor's live window does; ends are
    spread evenly over the bar times, at most ``most`` of them, a window apart
    at the least.
    """
    if not len(ts):
        return []
    span = np.timedelta64(int(minutes * 60e6), "us")
    times = np.unique(ts)
    step = max(1, int(np.searchsorted(times, times[0] + span, side="right")))
    ends = times[step - 1 :: step]
    if len(ends) > most:
        ends = ends[np.linspace(0, len(ends) - 1, most).astype(int)]
    lo = np.searchsorted(ts, ends - span, side="right")
    hi = np.searchsorted(ts, ends, side="right")
    return list(zip(lo.tolist(), hi.tolist(), strict=True))


def _null(
    values: np.ndarray, ranges: list[tuple[int, int]], ref: FeatureReference, need: int
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    from nexus.monitoring._stats import ks_statistic, psi

    psis, kss = [], []
    for lo, hi in ranges:
        window = values[lo:hi]
        window = window[np.isfinite(window)]
        if len(window) >= need:
            psis.append(psi(window, ref))
            kss.append(ks_statistic(window, ref))
    if not psis:
        return (), ()
    return _floats(np.quantile(psis, _NULL_LEVELS)), _floats(np.quantile(kss, _NULL_LEVELS))


def feature_references(
    features: pd.DataFrame,
    names: Sequence[str],
    *,
    window_minutes: float = 60.0,
    min_values: int = 50,
    most_windows: int = 400,
) -> dict[str, FeatureReference]:
    """Each feature's training distribution and its rolling windows' null PSI and KS.

    Parameters
    ----------
    features : DataFrame, shape (n, 2 + F)
        ``symbol``, ``ts`` and the raw feature columns of every bar of the
        training window (``FeaturePipeline.transform``).
    names : sequence of str
        The feature columns.
    window_minutes : float
        The rolling window the null figures are measured on (the monitor's).
    min_values : int
        Finite values a window needs to be scored (the monitor's ``min_values``).
    most_windows : int
        Windows measured at most, spread evenly over the period.
    """
    ts = _stamps(features["ts"])
    order = np.argsort(ts, kind="stable")
    ts = ts[order]
    ranges = _windows(ts, window_minutes, most_windows)
    out = {}
    for name in names:
        values = features[name].to_numpy(dtype=np.float64)[order]
        ref = FeatureReference.of(values)
        if ref.n:
            psi_null, ks_null = _null(values, ranges, ref, min_values)
            ref = replace(ref, psi_null=psi_null, ks_null=ks_null)
        out[name] = ref
    return out


def concept_reference(
    y: np.ndarray,
    proba: np.ndarray,
    ts: Sequence,
    *,
    window_minutes: float = 60.0,
    outcome_minutes: float = 240.0,
) -> ConceptReference:
    """How a model scored on a validation window, and how much its sub-windows vary.

    Parameters
    ----------
    y : ndarray of int, shape (m,)
        Labels (0 DOWN, 1 NEUTRAL, 2 UP).
    proba : ndarray, shape (m, 3)
        The model's calibrated probabilities.
    ts : sequence of datetime, length m
        Each sample's decision time (for the rolling sub-windows).
    window_minutes, outcome_minutes : float
        The sub-windows of the confidence and of the outcomes (the monitor's).
    """
    from nexus.evaluation import classification_metrics

    y = np.asarray(y, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    if not len(y):
        nan = float("nan")
        return ConceptReference(nan, nan, nan, (nan, nan, nan), 0)
    scores = classification_metrics(y, proba)
    top = proba.max(axis=1)
    stamps = _stamps(ts)
    order = np.argsort(stamps, kind="stable")
    stamps, y, proba, top = stamps[order], y[order], proba[order], top[order]
    confidences = [top[lo:hi].mean() for lo, hi in _windows(stamps, window_minutes, 400) if hi > lo]
    outcomes = [
        classification_metrics(y[lo:hi], proba[lo:hi])
        for lo, hi in _windows(stamps, outcome_minutes, 400)
        if hi - lo >= 10
    ]
    return ConceptReference(
        confidence=float(top.mean()),
        accuracy=float(scores["accuracy"]),
        macro_f1=float(scores["macro_f1"]),
        classes=_floats(np.bincount(y, minlength=3)[:3] / len(y)),
        n=len(y),
        confidence_sd=_sd(confidences),
        accuracy_sd=_sd([o["accuracy"] for o in outcomes]),
        macro_f1_sd=_sd([o["macro_f1"] for o in outcomes]),
    )


def _sd(values: Sequence[float]) -> float:
    return float(np.std(values, ddof=1)) if len(values) >= 3 else float("nan")


def build_reference(
    features: pd.DataFrame,
    names: Sequence[str],
    y: np.ndarray,
    proba: np.ndarray,
    ts: Sequence,
    *,
    window_minutes: float = 60.0,
    outcome_minutes: float = 240.0,
    min_values: int = 50,
    window: Mapping[str, str] | None = None,
) -> DriftReference:
    """The drift reference of a model: :func:`feature_references` and :func:`concept_reference`.

    ``features`` are the training window's bars' features; ``y``, ``proba`` and
    ``ts`` the validation window's labels, probabilities and decision times.
    """
    missing = [n for n in ("symbol", "ts", *names) if n not in features]
    if missing:
        raise ValueError(f"the feature frame lacks columns {missing}")
    return DriftReference(
        feature_references(features, names, window_minutes=window_minutes, min_values=min_values),
        concept_reference(
            y, proba, ts, window_minutes=window_minutes, outcome_minutes=outcome_minutes
        ),
        dict(window or {}),
        window_minutes,
        outcome_minutes,
    )


def read_reference(folder: Path) -> DriftReference | None:
    """The reference saved in a model version's ``folder``; None when it has none.

    A model trained before references were saved has no ``reference.json``.

    Raises
    ------
    ArtifactError
        If the file exists but cannot be read.
    """
    path = Path(folder) / REFERENCE_FILE
    if not path.is_file():
        return None
    try:
        return DriftReference.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(
            f"the drift reference {path} cannot be read ({exc})",
            fix="retrain the model to write a new one, or promote another version",
        ) from exc
