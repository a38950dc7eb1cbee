"""The test the issue demands: no training label window overlaps any test label window.

For random indexes (several symbols sharing a clock, random label lengths) and
many settings, every fold of walk_forward, purged_kfold and train_valid_test is
checked pair by pair: train spans ``[ts, t_end]`` and test spans never overlap,
the embargo after each test block holds no training sample, and the purge drops
nothing it did not have to.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nexus.datasets import Fold, build_dataset, purge, purged_kfold, train_valid_test, walk_forward
from nexus.errors import ConfigError, DataError
from nexus.labels import triple_barrier
from nexus.sources.simulator import SimulatorConfig, simulate

START = pd.Timestamp("2025-01-02 14:30", tz="UTC")
MINUTE = pd.Timedelta("1min")


def random_index(
    seed: int, n_times: int = 300, symbols: int = 4, max_span: int = 15
) -> pd.DataFrame:
    """Samples of several symbols on a shared, irregular clock with random label lengths."""
    rng = np.random.default_rng(seed)
    clock = START + pd.to_timedelta(np.cumsum(rng.integers(1, 4, n_times)), unit="min")
    rows = []
    for s in range(symbols):
        ts = clock[rng.random(n_times) < 0.8]  # each symbol misses some timestamps
        span = pd.to_timedelta(rng.integers(1, max_span + 1, len(ts)), unit="min")
        rows.append(pd.DataFrame({"symbol": f"S{s}", "ts": ts, "t_end": ts + span}))
    index = pd.concat(rows, ignore_index=True)
    return index.sample(frac=1.0, random_state=seed).reset_index(drop=True)  # any row order


def _micros(col: pd.Series) -> np.ndarray:
    return pd.DatetimeIndex(col).as_unit("us").asi8


def overlapping(index: pd.DataFrame, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Boolean (len(train), len(test)): closed spans [ts, t_end] intersect, pair by pair."""
    ts, end = _micros(index["ts"]), _micros(index["t_end"])
    return (ts[train][:, None] <= end[test][None, :]) & (ts[test][None, :] <= end[train][:, None])


def embargo_until(index: pd.DataFrame, test: np.ndarray, embargo) -> tuple[int, int]:
    """(end, last embargoed instant) after a test block, by the documented rule."""
    end = int(_micros(index["t_end"])[test].max())
    if isinstance(embargo, int):
        later = np.unique(_micros(index["ts"]))
        later = later[later > end]
        return end, int(later[min(embargo, len(later)) - 1]) if embargo and len(later) else end
    return end, end + int(embargo / pd.Timedelta(microseconds=1))


def check_fold(index: pd.DataFrame, fold: Fold, embargo, candidates: np.ndarray) -> None:
    train, test = fold
    assert len(train)
    assert len(test)
    assert (np.diff(train) > 0).all()
    assert (np.diff(test) > 0).all()
    # THE property: no training label window overlaps any test label window
    assert not overlapping(index, train, test).any()
    # one timestamp's samples (all symbols) sit on one side only
    assert not set(index["ts"].iloc[train]) & set(index["ts"].iloc[test])
    # the embargo after the test block holds no training sample
    ts = _micros(index["ts"])
    end, until = embargo_until(index, test, embargo)
    in_embargo = (ts > end) & (ts <= until)
    assert not in_embargo[train].any()
    # nothing was dropped that did not have to be
    dropped = np.setdiff1d(candidates, train)
    assert (overlapping(index, dropped, test).any(axis=1) | in_embargo[dropped]).all()


SETTINGS = [
    {"n_folds": 4, "test_size": 30, "mode": "expanding", "embargo": 0},
    {"n_folds": 3, "test_size": 0.1, "mode": "expanding", "embargo": pd.Timedelta("20min")},
    {"n_folds": 5, "test_size": 20, "mode": "rolling", "train_size": 60, "embargo": 5},
    {"n_folds": 2, "test_size": 0.25, "mode": "rolling", "train_size": 0.3, "embargo": 0},
]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("settings", SETTINGS)
def test_walk_forward_never_trains_on_a_label_window_that_overlaps_the_test(seed, settings) -> None:
    index = random_index(seed, max_span=5 + 10 * seed)
    folds = walk_forward(index, **settings)
    assert len(folds) == settings["n_folds"]
    times = np.unique(_micros(index["ts"]))
    block = np.searchsorted(times, _micros(index["ts"]))
    test_blocks = []
    for fold in folds:
        test_blocks.append(np.unique(block[fold.test]))
        lo = test_blocks[-1][0]
        window = settings.get("train_size")
        if window is not None:
            window = window if isinstance(window, int) else int(window * len(times))
        first = 0 if window is None else max(0, lo - window)
        candidates = np.flatnonzero((block >= first) & (block < lo))
        check_fold(index, fold, settings["embargo"], candidates)
        assert _micros(index["ts"])[fold.train].max() < _micros(index["ts"])[fold.test].min()
    blocks = np.concatenate(test_blocks)
    assert (np.diff(blocks) == 1).all()  # consecutive, disjoint test blocks ...
    assert blocks[-1] == len(times) - 1  # ... ending with the newest timestamp


@pytest.mark.parametrize("seed", [3, 4, 5])
@pytest.mark.parametrize(
    ("n_splits", "embargo"), [(2, 0), (3, 4), (5, pd.Timedelta("15min")), (7, 1)]
)
def test_purged_kfold_never_trains_on_a_label_window_that_overlaps_the_test(
    seed, n_splits, embargo
) -> None:
    index = random_index(seed, max_span=5 + 10 * (seed - 3))
    folds = purged_kfold(index, n_splits=n_splits, embargo=embargo)
    assert len(folds) == n_splits
    tests = np.concatenate([f.test for f in folds])
    assert np.array_equal(np.sort(tests), np.arange(len(index)))  # every sample tested once
    for fold in folds:
        candidates = np.setdiff1d(np.arange(len(index)), fold.test)
        check_fold(index, fold, embargo, candidates)
    inner = folds[(n_splits - 1) // 2]
    ts = _micros(index["ts"])
    assert (ts[inner.train] > ts[inner.test].max()).any()  # trains on both sides


@pytest.mark.parametrize("seed", [6, 7])
def test_train_valid_test_purges_every_pair(seed) -> None:
    index = random_index(seed)
    train, valid, test = train_valid_test(index, valid_size=0.15, test_size=40, embargo=3)
    for a, b in [(train, valid), (train, test), (valid, test)]:
        assert len(a)
        assert len(b)
        assert not overlapping(index, a, b).any()
        assert _micros(index["ts"])[a].max() < _micros(index["ts"])[b].min()
    times = np.unique(_micros(index["ts"]))
    assert set(_micros(index["ts"])[test]) == set(times[-40:])


def test_splits_of_a_real_pipeline_dataset() -> None:
    """Simulated bars -> triple-barrier labels -> windows -> folds: the property end to end."""
    bars = simulate(SimulatorConfig(symbols=3, sectors=1, sessions=3, interval="5m")).bars
    labels = triple_barrier(bars, horizon=12, vol_span=30, vol_min_periods=10)
    features = bars.sort_values(["symbol", "ts"]).reset_index(drop=True)[["symbol", "ts"]]
    features["ret"] = np.log(bars.sort_values(["symbol", "ts"])["close"].to_numpy())
    features["ret"] = features.groupby("symbol")["ret"].diff()
    ds = build_dataset(features, labels, lookback=6)
    folds = walk_forward(ds, n_folds=3, test_size=20, embargo=12) + purged_kfold(
        ds, n_splits=4, embargo=pd.Timedelta("1h")
    )
    for fold in folds:
        assert not overlapping(ds.index, fold.train, fold.test).any()
        # the labels of a 5-minute clock end at least one bar after the decision bar
        assert (ds.index["t_end"] - ds.index["ts"] >= pd.Timedelta("10min")).all()
    # purging bites: some samples just before each walk-forward test block are gone
    wf = folds[0]
    assert len(wf.train) < np.sum(ds.index["ts"] < ds.index["ts"].iloc[wf.test].min())


def test_purge_by_hand() -> None:
    t = [START + i * MINUTE for i in range(10)]
    index = pd.DataFrame(
        {
            "ts": [t[0], t[1], t[2], t[5], t[6], t[8], t[9]],
            "t_end": [t[1], t[3], t[5], t[6], t[7], t[9], t[9]],
        }
    )
    # test: sample 3, span [t5, t6]. Sample 2 ends at t5 (touching counts), sample 4 starts
    # at t6; embargo of 2 timestamps after t6 covers t8 (the index has no t7), then t9.
    assert purge(index, np.array([0, 1, 2, 4, 5, 6]), np.array([3])).tolist() == [0, 1, 5, 6]
    assert purge(index, np.array([0, 1, 2, 4, 5, 6]), np.array([3]), embargo=1).tolist() == [
        0,
        1,
        6,
    ]
    assert purge(index, [0, 1, 5, 6], [3], embargo=pd.Timedelta("3min")).tolist() == [0, 1]
    assert purge(index, [0, 1, 5, 6], [3], embargo=2).tolist() == [0, 1]


def test_too_small_folds_raise_data_errors_with_the_numbers() -> None:
    index = random_index(8, n_times=60)
    with pytest.raises(
        DataError, match=r"fold 1 of 3 keeps \d+ train, \d+ test samples.*min_train=500"
    ):
        walk_forward(index, n_folds=3, test_size=10, min_train=500)
    with pytest.raises(DataError, match=r"needs 10 test blocks of 10 timestamps.*has 60"):
        walk_forward(index, n_folds=10, test_size=10)
    with pytest.raises(DataError, match=r"purged_kfold fold 1 of 2 keeps .*min_test=10000"):
        purged_kfold(index, n_splits=2, min_test=10_000)
    with pytest.raises(DataError, match="at least n_splits=100 distinct timestamps"):
        purged_kfold(index, n_splits=100)
    with pytest.raises(DataError, match=r"keeps \d+ train, \d+ valid, \d+ test.*min_valid=999"):
        train_valid_test(index, valid_size=5, test_size=5, min_valid=999)
    with pytest.raises(DataError, match="needs 40 \\+ 30 timestamps"):
        train_valid_test(index, valid_size=40, test_size=30)


def test_bad_parameters_raise_config_errors() -> None:
    index = random_index(9, n_times=60)
    with pytest.raises(ConfigError, match="mode='rolling' needs train_size"):
        walk_forward(index, n_folds=2, test_size=5, mode="rolling")
    with pytest.raises(ConfigError, match="only used by mode='rolling'"):
        walk_forward(index, n_folds=2, test_size=5, train_size=10)
    with pytest.raises(ConfigError, match="mode='sliding'"):
        walk_forward(index, n_folds=2, test_size=5, mode="sliding")
    with pytest.raises(ConfigError, match=r"test_size=1\.5 is a float outside"):
        walk_forward(index, n_folds=2, test_size=1.5)
    with pytest.raises(ConfigError, match="n_folds=0"):
        walk_forward(index, n_folds=0, test_size=5)
    with pytest.raises(ConfigError, match="embargo=-1 is negative"):
        purged_kfold(index, n_splits=3, embargo=-1)
    with pytest.raises(ConfigError, match="neither a duration"):
        purged_kfold(index, n_splits=3, embargo="soon")
    with pytest.raises(ConfigError, match="n_splits=1"):
        purged_kfold(index, n_splits=1)
    with pytest.raises(DataError, match="t_end before ts"):
        purged_kfold(index.assign(t_end=index["ts"] - MINUTE), n_splits=3)
    with pytest.raises(DataError, match="lacks column 't_end'"):
        purged_kfold(index.drop(columns="t_end"), n_splits=3)
