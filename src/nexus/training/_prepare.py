"""From stored bars to a :class:`~nexus.datasets.Dataset` and its walk-forward folds."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time

import numpy as np
import pandas as pd

from nexus.datasets import Dataset, Fold, build_dataset, purge, walk_forward
from nexus.errors import DataError, UnknownSymbolError
from nexus.features import FeatureContext, FeaturePipeline, FeatureSpec
from nexus.labels import fixed_horizon, triple_barrier
from nexus.store import Store
from nexus.training._config import DataConfig, ExperimentConfig, LabelConfig

__all__ = [
    "Prepared",
    "load_bars",
    "load_context",
    "make_labels",
    "prepare",
    "split_train_valid",
]


@dataclass(frozen=True, slots=True)
class Prepared:
    """Everything training needs, built once per experiment."""

    bars: pd.DataFrame
    pipeline: FeaturePipeline
    dataset: Dataset
    folds: list[Fold]
    fingerprint: str
    context: FeatureContext = field(default_factory=FeatureContext)


def load_bars(store: Store, data: DataConfig) -> pd.DataFrame:
    """The raw bars the experiment learns from.

    Raises
    ------
    DataError
        If the store holds no bars of the interval (or none in the range).
    UnknownSymbolError
        If a named symbol has no bars of the interval.
    """
    series = store.series()
    stored = sorted(series.loc[series["interval"] == data.interval, "symbol"])
    if not stored:
        raise DataError(
            f"the store holds no {data.interval} bars to train on",
            fix="ingest some first, e.g. `nexus ingest sim --sessions 60`",
        )
    symbols = data.symbols or stored
    unknown = [s for s in symbols if s not in stored]
    if unknown:
        raise UnknownSymbolError(
            f"no {data.interval} bars stored for {', '.join(unknown)}",
            fix=f"choose from {', '.join(stored[:10])}{' ...' if len(stored) > 10 else ''}",
        )
    start = datetime.combine(data.start, time()) if data.start else None
    end = datetime.combine(data.end, time()) if data.end else None
    bars = store.read_bars(symbols, data.interval, start, end, adjust="all")
    if bars.empty:
        raise DataError(
            f"no {data.interval} bars of {', '.join(symbols)} between {data.start} and {data.end}",
            fix="widen data.start/data.end in the experiment config",
        )
    return bars


def load_context(store: Store, bars: pd.DataFrame, specs: Iterable[FeatureSpec]) -> FeatureContext:
    """The stored news and macro vintages that the ``specs`` need to featurise ``bars``.

    News: the items of the bars' symbols available from the longest news history
    (``spec.news.history``) before the first bar on (older ones change no feature
    by more than ``2 ** -40``). Macro: every vintage of the series the specs follow.
    Each is None when no spec needs it.
    """
    specs = list(specs)
    histories = [s.news.history for s in specs if s.news is not None]
    series = sorted({x for s in specs if s.macro is not None for x in s.macro.series})
    news = macro = None
    if histories:
        start = None
        if len(bars):
            first = pd.Timestamp(bars["ts"].min())
            first = first.tz_localize("UTC") if first.tz is None else first
            start = (first - max(histories)).to_pydatetime()
        news = store.read_news(sorted(bars["symbol"].astype(str).unique()), start=start)
    if series:
        macro = store.read_macro(series)
    return FeatureContext(news=news, macro=macro)


def make_labels(bars: pd.DataFrame, labels: LabelConfig) -> pd.DataFrame:
    """Triple-barrier or fixed-horizon labels of ``bars``."""
    if labels.kind == "fixed_horizon":
        return fixed_horizon(bars, horizon=labels.horizon, threshold=labels.threshold)
    return triple_barrier(
        bars,
        horizon=labels.horizon,
        upper=labels.upper,
        lower=labels.lower,
        vol_span=labels.vol_span,
    )


_TEXT = {"symbol", "id", "symbols", "series_id", "period"}
_CONTEXT_KEYS = {
    "news": ("id", "available_at", "symbols", "sentiment"),
    "macro": ("series_id", "period", "realtime_start", "value"),
}


def fingerprint(bars: pd.DataFrame, context: FeatureContext | None = None) -> str:
    """A SHA-256 of exactly the data trained on: bars (symbols, times, prices), and the
    news and macro vintages when the features read them."""
    digest = hashlib.sha256()
    parts = [(bars, ("symbol", "ts", "open", "high", "low", "close", "volume"))]
    for name, cols in _CONTEXT_KEYS.items():
        frame = getattr(context, name, None) if context is not None else None
        if frame is not None:
            parts.append((frame, cols))
    for frame, cols in parts:
        for col in cols:
            values = frame[col].astype(str) if col in _TEXT else frame[col]
            digest.update(pd.util.hash_pandas_object(values, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def prepare(store: Store, config: ExperimentConfig) -> Prepared:
    """Bars -> features -> labels -> windows -> purged walk-forward folds."""
    bars = load_bars(store, config.data)
    spec = (
        FeatureSpec.default()
        if config.features == "default"
        else FeatureSpec.from_yaml(config.features)
    )
    pipeline = FeaturePipeline(spec)
    context = load_context(store, bars, [spec])
    features = pipeline.transform(bars, news=context.news, macro=context.macro)
    labels = make_labels(bars, config.labels)
    dataset = build_dataset(
        features,
        labels,
        lookback=config.dataset.lookback,
        stride=config.dataset.stride,
        weights=None if config.dataset.weights == "none" else config.dataset.weights,
    )
    folds = walk_forward(
        dataset,
        n_folds=config.splits.n_folds,
        test_size=config.splits.test_size,
        mode=config.splits.mode,
        embargo=config.labels.horizon,
        min_train=config.splits.min_train,
        min_test=config.splits.min_test,
    )
    return Prepared(bars, pipeline, dataset, folds, fingerprint(bars, context), context)


def split_train_valid(dataset: Dataset, train: np.ndarray, valid_size: float, horizon: int):
    """Cut the newest ``valid_size`` of a fold's training times off as validation, purged.

    Returns
    -------
    fit_rows, valid_rows : ndarray of int
    """
    ts = dataset.index["ts"].to_numpy()[train]
    times = np.unique(ts)
    if len(times) < 2:
        raise DataError(
            f"a fold's training span holds {len(times)} bar time(s)",
            fix="use fewer folds, a smaller test_size or more data",
        )
    cut = times[max(1, int(len(times) * (1 - valid_size)))]
    valid = train[ts >= cut]
    fit = purge(dataset, train[ts < cut], valid, embargo=horizon)
    return fit, valid
