"""Champion against challenger on the newest bars neither was trained on (seed 004).

A registered artifact (:class:`nexus.registry.Artifact`) carries everything
needed to score it again: its experiment (interval, labels, lookback), its
feature spec and ``model.onnx`` (raw features in, calibrated probabilities
out). :func:`score_artifact` rebuilds its features and labels from stored bars
and runs the ONNX model on the validation window; :func:`compare` scores two
artifacts on the same samples; :func:`decide` applies the promotion rule: the
challenger replaces the champion only if its macro-F1 over UP and DOWN is better
by ``margin`` and a paired bootstrap says ``p < alpha``; a first challenger
becomes champion only if it beats both baselines the same way. Stability over
churn: anything less keeps the champion.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import onnxruntime as ort
import pandas as pd
from pydantic import Field

from nexus.config import FrozenConfig
from nexus.datasets import Dataset, build_dataset
from nexus.domain import Interval, Sessions
from nexus.errors import ArtifactError, DataError, NexusError
from nexus.evaluation import (
    PROBA_COLUMNS,
    BacktestConfig,
    backtest,
    classification_metrics,
    paired_f1_significance,
    select_threshold,
)
from nexus.features import FeatureContext, FeaturePipeline, FeatureSpec
from nexus.registry import Artifact, Registry
from nexus.store import Store
from nexus.training._config import ExperimentConfig
from nexus.training._prepare import make_labels

__all__ = [
    "Comparison",
    "ValidationConfig",
    "Verdict",
    "apply_decision",
    "artifact_windows",
    "compare",
    "decide",
    "judge",
    "label_embargo",
    "onnx_proba",
    "score_artifact",
    "slot_specs",
    "trained_until",
    "validation_start",
]

_PROBA = list(PROBA_COLUMNS)


class ValidationConfig(FrozenConfig):
    """How a challenger is judged.

    Attributes
    ----------
    sessions : int
        The validation window: the newest ``sessions`` trading sessions of the store.
    margin : float
        Macro-F1 (UP and DOWN) the challenger must gain over the champion.
    alpha : float
        The paired bootstrap's p-value must be below this.
    n_boot : int
        Bootstrap resamples.
    seed : int
        Seed of the bootstrap.
    """

    sessions: int = Field(5, ge=1)
    margin: float = Field(0.02, ge=0.0)
    alpha: float = Field(0.05, gt=0.0, lt=1.0)
    n_boot: int = Field(2000, ge=100)
    seed: int = 0


def validation_start(store: Store, experiment: ExperimentConfig, sessions: int) -> pd.Timestamp:
    """The open (UTC) of the first of the newest ``sessions`` sessions holding stored bars.

    Raises
    ------
    DataError
        If the store holds fewer sessions than that.
    """
    series = store.series()
    rows = series.loc[series["interval"] == experiment.data.interval]
    if experiment.data.symbols:
        rows = rows.loc[rows["symbol"].isin(experiment.data.symbols)]
    if rows.empty:
        raise DataError(
            f"the store holds no {experiment.data.interval} bars to validate on",
            fix="ingest the newest sessions first",
        )
    last = pd.Timestamp(rows["last_ts"].max())
    first = pd.Timestamp(rows["first_ts"].min())
    instruments = store.symbols().set_index("symbol")["calendar"]
    calendar = str(instruments.get(rows["symbol"].iloc[0], "XNYS"))
    days = Sessions(calendar, first.date(), last.date())
    opens = pd.to_datetime(days.opens).tz_localize("UTC")
    held = opens[opens <= last]
    if len(held) < sessions:
        raise DataError(
            f"the store holds {len(held)} {experiment.data.interval} session(s); "
            f"validation needs {sessions}",
            fix="ingest more sessions or lower the validation window (--sessions)",
        )
    return held[-sessions]


def trained_until(artifact: Artifact) -> pd.Timestamp:
    """The newest bar time the artifact was trained on (from its data fingerprint)."""
    return pd.Timestamp(artifact.fingerprint["last_ts"])


def label_embargo(experiment: ExperimentConfig) -> pd.Timedelta:
    """How far a label looks ahead: the horizon in bars times the bar length."""
    return (
        pd.Timedelta(Interval.parse(experiment.data.interval).timedelta) * experiment.labels.horizon
    )


def score_artifact(
    artifact: Artifact,
    bars: pd.DataFrame,
    start: pd.Timestamp,
    context: FeatureContext | None = None,
) -> pd.DataFrame:
    """The artifact's probabilities and the true class of every resolved sample from ``start``.

    Parameters
    ----------
    artifact : Artifact
        A verified, loaded registry version.
    bars : DataFrame
        Adjusted bars of its symbols and interval, with enough history before
        ``start`` for the features' warm-up and the window.
    start : Timestamp
        First decision time scored.
    context : FeatureContext, optional
        The stored news and macro vintages (:func:`load_context`), needed when the
        artifact's features read them.

    Returns
    -------
    DataFrame
        ``symbol, ts, y, p_down, p_neutral, p_up, last_ret``, one row per
        (symbol, ts); ``last_ret`` is the bar's close-to-close return, known at ``ts``.
    """
    data = artifact_windows(artifact, bars, start, context)
    out = data.index[["symbol", "ts"]].reset_index(drop=True)
    out["y"] = data.y
    out[_PROBA] = onnx_proba(artifact, data.X)
    return out.merge(_last_returns(bars), on=["symbol", "ts"], how="left")


def artifact_windows(
    artifact: Artifact,
    bars: pd.DataFrame,
    start: pd.Timestamp,
    context: FeatureContext | None = None,
) -> Dataset:
    """The artifact's raw feature windows and labels for every resolved sample from ``start``.

    ``context`` holds the news and macro vintages when the artifact's features read them.

    Raises
    ------
    DataError
        If there is none, or the features need news or macro that ``context`` lacks.
    """
    experiment = ExperimentConfig.model_validate(artifact.experiment)
    context = context or FeatureContext()
    pipeline = FeaturePipeline(artifact.features)
    features = pipeline.transform(bars, news=context.news, macro=context.macro)
    labels = make_labels(bars, experiment.labels)
    labels = labels.loc[labels["ts"] >= start]
    data = build_dataset(features, labels, lookback=experiment.dataset.lookback, weights=None)
    if len(data) == 0:
        raise DataError(
            f"{artifact.slot}/{artifact.version} has no resolved samples from {start} on",
            fix="use a longer window, or wait for new sessions and the labels' horizon to pass",
        )
    return data


def onnx_proba(artifact: Artifact, X: np.ndarray) -> np.ndarray:
    """The artifact's ONNX probabilities (n, 3) float64 for raw feature windows (n, L, F)."""
    session = ort.InferenceSession(str(artifact.onnx_path), providers=["CPUExecutionProvider"])
    parts = [session.run(None, {"x": X[i : i + 4096]})[0] for i in range(0, len(X), 4096)]
    return np.concatenate(parts).astype(np.float64)


def _last_returns(bars: pd.DataFrame) -> pd.DataFrame:
    """``symbol, ts, last_ret``: each bar's close over the previous close, minus 1."""
    previous = bars.groupby("symbol", sort=False)["close"].shift(1)
    return bars[["symbol", "ts"]].assign(last_ret=bars["close"] / previous - 1.0)


@dataclass(slots=True)
class Comparison:
    """Two models (and the baselines) scored on the same validation samples."""

    n: int
    start: str
    end: str
    metrics: dict[str, dict[str, float]]
    f1_gain: float
    p_value: float
    extra: dict[str, Any] = field(default_factory=dict)


def compare(
    challenger: pd.DataFrame,
    champion: pd.DataFrame | None,
    config: ValidationConfig,
    *,
    block: int = 1,
) -> Comparison:
    """Score the challenger against the champion, or (no champion) against the baselines.

    Both frames come from :func:`score_artifact`; only the (symbol, ts) they share
    are compared, and they must agree on the labels there.
    """
    keys = ["symbol", "ts"]
    if champion is None:
        merged = challenger.copy()
        rival = _best_baseline(merged)
        rival_name = "baseline"
    else:
        merged = challenger.merge(champion, on=keys, suffixes=("", "_champion"))
        if not (merged["y"] == merged["y_champion"]).all():
            raise DataError(
                "champion and challenger were trained on different labels",
                fix="validate models of one experiment (same label kind, horizon, barriers)",
            )
        rival = merged[[f"{c}_champion" for c in _PROBA]].to_numpy()
        rival_name = "champion"
    if merged.empty:
        raise DataError("champion and challenger share no validation samples", fix="retrain")
    y = merged["y"].to_numpy()
    ours = merged[_PROBA].to_numpy()
    gain, p = paired_f1_significance(
        y, ours, rival, clusters=merged["ts"].to_numpy(), block=block,
        n_boot=config.n_boot, seed=config.seed,
    )  # fmt: skip
    return Comparison(
        n=len(merged),
        start=str(merged["ts"].min()),
        end=str(merged["ts"].max()),
        metrics={
            "challenger": classification_metrics(y, ours),
            rival_name: classification_metrics(y, rival),
        },
        f1_gain=gain,
        p_value=p,
    )


def _best_baseline(scored: pd.DataFrame) -> np.ndarray:
    """The stronger (by UP/DOWN macro-F1) of two baselines, as one-hot calls (n, 3).

    The majority class of the window, and the sign of the last bar's return
    (UP after an up bar, DOWN after a down bar: momentum). Picking the better of
    the two on the window itself favours the baselines: a first challenger must
    beat their best.
    """
    y = scored["y"].to_numpy()
    majority = np.eye(3)[np.full(len(y), np.bincount(y, minlength=3).argmax())]
    sign = np.sign(scored["last_ret"].fillna(0.0).to_numpy()).astype(int)
    momentum = np.eye(3)[sign + 1]
    scores = [classification_metrics(y, p)["macro_f1_updown"] for p in (majority, momentum)]
    return (majority, momentum)[int(np.argmax(scores))]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What validation decided, and the figures it decided on."""

    action: Literal["promote", "keep"]
    reason: str
    figures: dict[str, Any]


def decide(comparison: Comparison, config: ValidationConfig) -> Verdict:
    """Promote only on a gain of at least ``margin`` with ``p < alpha``; otherwise keep."""
    rival = "champion" if "champion" in comparison.metrics else "baseline"
    figures = {
        "n": comparison.n,
        "window": [comparison.start, comparison.end],
        "f1_gain": comparison.f1_gain,
        "p_value": comparison.p_value,
        "margin": config.margin,
        "alpha": config.alpha,
        "metrics": comparison.metrics,
        **comparison.extra,
    }
    gain, p = comparison.f1_gain, comparison.p_value
    if gain >= config.margin and p < config.alpha:
        why = f"macro-F1 (UP/DOWN) +{gain:.4f} over the {rival}, p = {p:.4f}"
        return Verdict("promote", why, figures)
    short = [] if gain >= config.margin else [f"gain {gain:+.4f} < margin {config.margin}"]
    if p >= config.alpha:
        short.append(f"p = {p:.4f} >= {config.alpha}")
    return Verdict("keep", f"not better than the {rival}: {'; '.join(short)}", figures)


def slot_specs(registry: Registry, slot: str, challenger: str) -> list[FeatureSpec]:
    """The feature specs :func:`judge` computes: the challenger's and its champion's.

    Read from each version's ``features.yaml`` without verifying the artifact
    (:func:`judge` verifies, and alerts once on a corrupt one); an unreadable
    champion spec is skipped, as :func:`judge` then skips the champion.
    """
    versions = [challenger]
    champion = registry.champion(slot)
    if champion is not None and champion != challenger:
        versions.append(champion)
    specs = []
    for version in versions:
        try:
            specs.append(
                FeatureSpec.from_yaml(registry.path(slot, version, existing=True) / "features.yaml")
            )
        except NexusError:
            if version == challenger:
                raise
    return specs


def judge(
    registry: Registry,
    slot: str,
    challenger: str,
    bars: pd.DataFrame,
    start: pd.Timestamp,
    config: ValidationConfig,
    context: FeatureContext | None = None,
) -> Verdict:
    """Validate ``slot``'s version ``challenger`` against its champion (or the baselines).

    Only samples from ``start`` on whose labels neither model saw in training
    are scored: after each model's newest training bar plus the label horizon.
    A champion that fails its checksums is alerted by the registry and the
    challenger is judged against the baselines instead. ``context`` holds the
    stored news and macro vintages when either model's features read them
    (``load_context(store, bars, slot_specs(registry, slot, challenger))``).

    Raises
    ------
    ArtifactError
        If the challenger is missing or corrupt.
    DataError
        If no such sample exists (both were trained on the whole window).
    """
    ours = registry.load(slot, challenger)
    champion_version = registry.champion(slot)
    theirs = None
    if champion_version is not None and champion_version != challenger:
        with contextlib.suppress(ArtifactError):
            theirs = registry.load(slot, champion_version)
    experiment = ExperimentConfig.model_validate(ours.experiment)
    embargo = label_embargo(experiment)
    since = max([start] + [trained_until(a) + embargo for a in (ours, theirs) if a is not None])
    if since > pd.Timestamp(bars["ts"].max()):
        raise DataError(
            f"{slot}/{challenger} and its champion were trained on every stored bar after "
            f"{start}: there is no window neither has seen",
            fix="validate after new sessions arrive, or train with data.end before the window "
            "(nexus retrain does)",
        )
    scored = score_artifact(ours, bars, since, context)
    rival = None if theirs is None else score_artifact(theirs, bars, since, context)
    comparison = compare(scored, rival, config, block=max(1, experiment.labels.horizon))
    comparison.extra.update(
        {
            "threshold": select_threshold(
                scored["y"].to_numpy(), scored[_PROBA].to_numpy()
            ).to_dict(),
            "challenger": challenger,
            "champion": champion_version,
            "sharpe_after_costs": _sharpes(
                bars.loc[bars["ts"] >= since],
                _every(scored, experiment.dataset.stride),
                None if rival is None else _every(rival, experiment.dataset.stride),
            ),
        }
    )
    return decide(comparison, config)


def _every(scored: pd.DataFrame, stride: int) -> pd.DataFrame:
    """The rows at every ``stride``-th decision time: the experiment's trading cadence."""
    times = np.sort(scored["ts"].unique())[::stride]
    return scored.loc[scored["ts"].isin(times)]


def _sharpes(
    bars: pd.DataFrame, scored: pd.DataFrame, rival: pd.DataFrame | None
) -> dict[str, float]:
    """Annualised Sharpe after costs of trading each model's calls (default backtest).

    Calls are taken at the experiment's stride (a decision every ``stride`` bars)
    and held until the next one.
    """
    out = {"challenger": _sharpe(bars, probabilities=scored[["symbol", "ts", *_PROBA]])}
    if rival is not None:
        out["champion"] = _sharpe(bars, probabilities=rival[["symbol", "ts", *_PROBA]])
    else:
        momentum = np.sign(scored["last_ret"].fillna(0.0))
        out["momentum"] = _sharpe(bars, signals=scored[["symbol", "ts"]].assign(signal=momentum))
    return out


def _sharpe(bars: pd.DataFrame, **inputs: pd.DataFrame) -> float:
    metrics = backtest(bars, config=BacktestConfig(), **inputs).metrics
    return float(metrics["sharpe"])


def apply_decision(registry: Registry, slot: str, version: str, decision: Verdict) -> None:
    """Promote ``version`` or record that the champion stays, with the decision's figures."""
    if decision.action == "promote":
        registry.promote(slot, version, reason=decision.reason, figures=decision.figures)
    else:
        registry.record(
            slot, "keep", version=version, reason=decision.reason, figures=decision.figures
        )
