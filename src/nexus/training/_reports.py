"""Backtest a registered model out of sample and write its HTML report.

The model is scored with its ONNX file (as the live engine will) on every bar
after its training data ended (plus the label horizon), its probabilities are
traded by the backtester at the next bar's open with costs, and the report adds
what only a model has: the confusion matrix, calibration curves and feature
importance (LightGBM's split gain; for the other models the permutation
importance, the rise in log-loss when one feature's windows are shuffled).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nexus.evaluation import PROBA_COLUMNS, BacktestConfig, BacktestResult, backtest
from nexus.evaluation._report import ReportInputs, buy_and_hold, write_report
from nexus.features import FeatureContext
from nexus.models import LightGBMModel
from nexus.registry import Artifact
from nexus.store import Store
from nexus.training._config import ExperimentConfig
from nexus.training._prepare import Prepared, load_bars, load_context
from nexus.training._trainer import ModelResult
from nexus.training._validate import (
    artifact_windows,
    label_embargo,
    onnx_proba,
    trained_until,
)

__all__ = ["ModelBacktest", "fold_report", "model_backtest", "permutation_importance"]

_PROBA = list(PROBA_COLUMNS)


@dataclass(frozen=True)
class ModelBacktest:
    """A model's out-of-sample backtest, and where its report went (if written)."""

    artifact: Artifact
    start: pd.Timestamp
    result: BacktestResult
    report: Path | None


def model_backtest(
    store: Store,
    artifact: Artifact,
    *,
    start: pd.Timestamp | None = None,
    config: BacktestConfig | None = None,
    report: Path | None = None,
    bars: pd.DataFrame | None = None,
    context: FeatureContext | None = None,
) -> ModelBacktest:
    """Trade ``artifact``'s calls on the bars it never saw; optionally write the report.

    Parameters
    ----------
    store : Store
        Where the bars are.
    artifact : Artifact
        A verified registry version.
    start : Timestamp, optional
        First decision time; default (and at the earliest) the first bar after
        the model's training data plus its label horizon.
    config : BacktestConfig, optional
        Sizing and costs (default: fixed size, default costs).
    report : Path, optional
        Write the HTML report there.
    bars : DataFrame, optional
        The artifact's adjusted bars when the caller already read them;
        default: read from ``store``.
    context : FeatureContext, optional
        The news and macro vintages its features read, when the caller already
        read them; default: read from ``store`` when the features need them.

    Raises
    ------
    DataError
        If no bar after the training data has a resolved label.
    """
    config = config or BacktestConfig()
    experiment = ExperimentConfig.model_validate(artifact.experiment)
    unseen = trained_until(artifact) + label_embargo(experiment)
    start = unseen if start is None else max(pd.Timestamp(start), unseen)
    if bars is None:
        bars = load_bars(store, experiment.data.model_copy(update={"start": None, "end": None}))
    if context is None:
        context = load_context(store, bars, [artifact.features])
    data = artifact_windows(artifact, bars, start, context)
    proba = onnx_proba(artifact, data.X)
    calls = data.index[["symbol", "ts"]].reset_index(drop=True)
    calls[_PROBA] = proba
    window = bars.loc[bars["ts"] >= start]
    result = backtest(window, probabilities=calls, config=config)
    written = None
    if report is not None:
        inputs = ReportInputs(
            title=f"{artifact.slot}/{artifact.version}: out-of-sample backtest",
            benchmark=buy_and_hold(window, config.initial_cash, result.equity.index),
            y_true=data.y,
            proba=proba,
            **_importance(
                artifact.model,
                lambda x: onnx_proba(artifact, x),
                data.X,
                data.y,
                data.feature_names,
            ),
            details=_details(artifact, start, window, config, len(data)),
        )
        written = write_report(report, result, inputs)
    return ModelBacktest(artifact, start, result, written)


def fold_report(
    prepared: Prepared, result: ModelResult, path: Path, config: BacktestConfig | None = None
) -> Path:
    """Backtest ``result``'s last-fold model on that fold's test block; write the report.

    This is what ``nexus train`` links: the saved model, on the samples it was
    scored on out of sample (purged and embargoed from its training data).
    """
    config = config or BacktestConfig()
    test = prepared.dataset.take(prepared.folds[-1].test)
    n, L, F = test.X.shape
    X = result.scaler.transform(test.X.reshape(n * L, F)).reshape(n, L, F).astype(np.float32)
    proba = result.model.predict_proba(X)
    calls = test.index[["symbol", "ts"]].reset_index(drop=True)
    calls[_PROBA] = proba
    bars = prepared.bars
    window = bars.loc[(bars["ts"] >= calls["ts"].min()) & (bars["ts"] <= test.index["t_end"].max())]
    traded = backtest(window, probabilities=calls, config=config)
    slot = result.config.slot_name
    inputs = ReportInputs(
        title=f"{slot}: last walk-forward fold, out of sample",
        benchmark=buy_and_hold(window, config.initial_cash, traded.equity.index),
        y_true=test.y,
        proba=proba,
        **_importance(result.model, result.model.predict_proba, X, test.y, test.feature_names),
        details={
            "model": f"{slot} ({result.model.name})",
            "test block": f"{calls['ts'].min()} .. {calls['ts'].max()}",
            "decisions": f"{n:,}",
            "execution": "next bar's open, default costs, fixed size",
        },
    )
    return write_report(path, traded, inputs)


def _importance(model, predict_proba, X: np.ndarray, y: np.ndarray, names) -> dict:
    if isinstance(model, LightGBMModel):
        gain = model.booster_.feature_importance(importance_type="gain")
        return {"importance": pd.Series(gain, index=list(names)), "importance_kind": "split gain"}
    scores = permutation_importance(predict_proba, X, y, names, max_samples=2000)
    return {"importance": scores, "importance_kind": "log-loss increase when shuffled"}


def permutation_importance(
    predict_proba, X: np.ndarray, y: np.ndarray, names, *, seed: int = 0, max_samples: int = 5000
) -> pd.Series:
    """Rise in log-loss when one feature's whole windows are shuffled across samples.

    Parameters
    ----------
    predict_proba : callable
        Windows (n, L, F) -> probabilities (n, 3).
    X : ndarray, shape (n, L, F)
        Raw feature windows (at most ``max_samples`` of them are used).
    y : ndarray of int, shape (n,)
        True classes.
    names : sequence of str, length F
        Feature names.
    seed : int
        Seed of the sample draw and the shuffles.
    max_samples : int
        At most this many windows are used (a random draw).

    Returns
    -------
    Series
        By feature name; larger is more important, about 0 is unused.
    """
    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(X))[:max_samples]
    X, y = np.ascontiguousarray(X[rows]), np.asarray(y)[rows]
    base = _log_loss(predict_proba(X), y)
    out = {}
    for f, name in enumerate(names):
        shuffled = X.copy()
        shuffled[:, :, f] = X[rng.permutation(len(X)), :, f]
        out[name] = _log_loss(predict_proba(shuffled), y) - base
    return pd.Series(out)


def _log_loss(proba: np.ndarray, y: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(proba[np.arange(len(y)), y], 1e-12, 1.0))))


def _details(artifact, start, window, config: BacktestConfig, n: int) -> dict:
    costs = config.costs
    return {
        "model": f"{artifact.slot}/{artifact.version} ({artifact.model.name})",
        "trained until": str(trained_until(artifact)),
        "backtest window": f"{start} .. {window['ts'].max()}",
        "symbols": ", ".join(sorted(window["symbol"].unique())[:12]),
        "decisions": f"{n:,}",
        "sizing": config.sizing.method,
        "costs": f"commission {costs.commission_bps} bps, half-spread {costs.half_spread_bps} bps, "
        f"slippage {costs.slippage_bps} bps, impact coef {costs.impact_coef}",
        "execution": "next bar's open",
    }
