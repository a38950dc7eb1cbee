"""From stored bars to a :class:`~nexus.datasets.Dataset` and its walk-forward folds."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, time

import numpy as np
import pandas as pd

from nexus.datasets import Dataset, Fold, build_dataset, purge, walk_forward
from nexus.errors import DataError, UnknownSymbolError
from nexus.features import FeaturePipeline, FeatureSpec
from nexus.labels import fixed_horizon, triple_barrier
from nexus.store import Store
from nexus.training._config import DataConfig, ExperimentConfig, LabelConfig

__all__ = ["Prepared", "load_bars", "make_labels", "prepare", "split_train_valid"]


@dataclass(frozen=True, slots=True)
class Prepared:
    """Everything training needs, built once per experiment."""

    bars: pd.DataFrame
    pipeline: FeaturePipeline
    dataset: Dataset
    folds: list[Fold]
    fingerprint: str


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


def fingerprint(bars: pd.DataFrame) -> str:
    """A SHA-256 of exactly the bars trained on (symbols, times and prices)."""
    digest = hashlib.sha256()
    for col in ("symbol", "ts", "open", "high", "low", "close", "volume"):
        values = bars[col].astype(str) if col == "symbol" else bars[col]
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
    features = pipeline.transform(bars)
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
    return Prepared(bars, pipeline, dataset, folds, fingerprint(bars))


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
