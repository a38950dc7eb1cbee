"""build_dataset: windows aligned with their labels, never across symbols, never with NaN."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from nexus.datasets import CLASSES, Dataset, build_dataset
from nexus.errors import ConfigError, DataError
from nexus.labels import fixed_horizon, triple_barrier, uniqueness_weights
from tests.unit.labels._reference import random_bars


def make_features(bars: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """symbol, ts and 3 features: row id (exact in float32), log return, 5-bar mean with holes."""
    f = bars.sort_values(["symbol", "ts"]).reset_index(drop=True)[["symbol", "ts"]].copy()
    close = bars.sort_values(["symbol", "ts"])["close"].to_numpy()
    f["row"] = np.arange(len(f), dtype=np.float64)
    f["ret"] = pd.Series(np.log(close)).groupby(f["symbol"].to_numpy()).diff().to_numpy()
    f["mean5"] = f.groupby("symbol")["ret"].transform(lambda r: r.rolling(5).mean())
    holes = np.random.default_rng(seed).choice(len(f), size=6, replace=False)
    f.loc[holes, "mean5"] = np.nan
    return f


def expected_samples(features: pd.DataFrame, labels: pd.DataFrame, lookback: int) -> list[tuple]:
    """(symbol, ts) of every label with L finite rows of its own symbol ending at it, by loop."""
    rows = {
        (s, t): i for i, (s, t) in enumerate(zip(features["symbol"], features["ts"], strict=True))
    }
    values = features[["row", "ret", "mean5"]].to_numpy()
    symbols = features["symbol"].tolist()
    out = []
    for s, t in zip(labels["symbol"], labels["ts"], strict=True):
        p = rows.get((s, t))
        if p is None or p < lookback - 1:
            continue
        window = range(p - lookback + 1, p + 1)
        if all(symbols[q] == s for q in window) and np.isfinite(values[list(window)]).all():
            out.append((p, s, t))
    return [(s, t) for _, s, t in sorted(out)]


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return random_bars(21, lengths=(300, 180, 240))


@pytest.mark.parametrize("lookback", [1, 7, 30])
def test_windows_are_the_feature_rows_ending_at_each_label(bars, lookback) -> None:
    features = make_features(bars)
    labels = triple_barrier(bars, horizon=10, vol_span=20, vol_min_periods=5)
    ds = build_dataset(features, labels, lookback=lookback)
    assert isinstance(ds, Dataset)
    want = expected_samples(features, labels, lookback)
    assert list(zip(ds.index["symbol"], ds.index["ts"], strict=True)) == want
    assert ds.X.shape == (len(want), lookback, 3)
    assert ds.X.dtype == np.float32
    assert ds.feature_names == ("row", "ret", "mean5")
    rows = ds.X[:, :, 0].astype(np.int64)  # the feature row ids inside each window
    assert (np.diff(rows, axis=1) == 1).all()  # consecutive rows, oldest first
    key = features.set_index(["symbol", "ts"])["row"]
    last = key.loc[list(zip(ds.index["symbol"], ds.index["ts"], strict=True))].to_numpy()
    assert (rows[:, -1] == last).all()  # X[i, -1] is the row at index.ts[i]
    assert (features["symbol"].to_numpy()[rows] == ds.index["symbol"].to_numpy()[:, None]).all()
    expected = features[["row", "ret", "mean5"]].to_numpy(dtype=np.float32)[rows]
    assert np.array_equal(ds.X, expected)
    assert np.isfinite(ds.X).all()


def test_labels_map_to_classes_and_index_carries_label_spans(bars) -> None:
    features = make_features(bars)
    labels = triple_barrier(bars, horizon=10, vol_span=20, vol_min_periods=5)
    ds = build_dataset(features, labels, lookback=5)
    merged = ds.index.merge(labels, on=["symbol", "ts"], suffixes=("", "_label"))
    assert len(merged) == len(ds)
    assert (ds.y == merged["label"].to_numpy() + 1).all()
    assert ds.y.dtype == np.int64
    assert [CLASSES[c] for c in (ds.y.min(), ds.y.max())] == ["DOWN", "UP"]
    assert (merged["t_end"] == merged["t_end_label"]).all()
    assert (merged["ret"] == merged["ret_label"]).all()
    assert list(ds.index.columns) == ["symbol", "ts", "t_end", "ret"]


def test_uniqueness_weights_are_those_of_the_kept_labels_with_mean_one(bars) -> None:
    features = make_features(bars)
    labels = fixed_horizon(bars, horizon=6)
    ds = build_dataset(features, labels, lookback=10)
    kept = ds.index.merge(labels, on=["symbol", "ts"], suffixes=("", "_label"))
    raw = uniqueness_weights(kept, bars=features)
    np.testing.assert_allclose(ds.weight, raw / raw.mean(), rtol=1e-12)
    assert ds.weight.mean() == pytest.approx(1.0)
    plain = build_dataset(features, labels, lookback=10, weights=None)
    assert (plain.weight == 1.0).all()


def test_stride_keeps_the_same_instants_for_every_symbol(bars) -> None:
    features = make_features(bars)
    labels = fixed_horizon(bars, horizon=6)
    full = build_dataset(features, labels, lookback=10, weights=None)
    thin = build_dataset(features, labels, lookback=10, stride=4, weights=None)
    times = np.unique(features["ts"].to_numpy())
    rank = np.searchsorted(times, thin.index["ts"].to_numpy())
    assert (rank % 4 == 0).all()
    assert set(zip(thin.index["symbol"], thin.index["ts"], strict=True)) <= set(
        zip(full.index["symbol"], full.index["ts"], strict=True)
    )
    assert len(full) / 4 - 3 <= len(thin) <= len(full) / 4 + 3


def test_labels_without_features_and_windows_across_symbols_are_not_samples(bars) -> None:
    features = make_features(bars)
    labels = fixed_horizon(bars, horizon=3)
    first_b = features.index[features["symbol"] == "S1"][0]
    ds = build_dataset(features.iloc[: first_b + 2], labels, lookback=3, weights=None)
    assert set(ds.index["symbol"]) == {"S0"}  # S1 has two rows: no window of three


def test_memory_guard_names_a_stride_that_fits(bars) -> None:
    features = make_features(bars)
    labels = fixed_horizon(bars, horizon=3)
    n = len(build_dataset(features, labels, lookback=20, weights=None))
    limit = n * 20 * 3 * 4 // 3
    with pytest.raises(DataError, match=r"GiB, above max_bytes.*pass stride=\d+") as err:
        build_dataset(features, labels, lookback=20, max_bytes=limit)
    stride = int(re.search(r"stride=(\d+)", str(err.value)).group(1))
    assert stride >= 3
    fitted = build_dataset(features, labels, lookback=20, stride=stride, max_bytes=limit)
    assert 0 < fitted.X.nbytes <= limit


def test_bad_input_raises_errors_that_name_the_fix(bars) -> None:
    features = make_features(bars)
    labels = fixed_horizon(bars, horizon=3)
    with pytest.raises(DataError, match="not sorted by symbol then ts"):
        build_dataset(features.sample(frac=1.0, random_state=0), labels)
    with pytest.raises(DataError, match="lack column 'ts'"):
        build_dataset(features.drop(columns="ts"), labels)
    with pytest.raises(DataError, match=r"not numeric: \['name'\]"):
        build_dataset(features.assign(name="x"), labels)
    with pytest.raises(DataError, match=r"lack columns \['t_end'\]"):
        build_dataset(features, labels.drop(columns="t_end"))
    with pytest.raises(DataError, match="other than -1, 0 and \\+1"):
        build_dataset(features, labels.assign(label=2))
    with pytest.raises(DataError, match="repeat a \\(symbol, ts\\)"):
        build_dataset(features, pd.concat([labels, labels.iloc[:1]]))
    with pytest.raises(DataError, match=r"no sample survives: .* lookback=500"):
        build_dataset(features, labels, lookback=500)
    with pytest.raises(ConfigError, match="lookback=0"):
        build_dataset(features, labels, lookback=0)
    with pytest.raises(ConfigError, match="stride=0"):
        build_dataset(features, labels, stride=0)
    with pytest.raises(ConfigError, match="weights='equal'"):
        build_dataset(features, labels, weights="equal")
