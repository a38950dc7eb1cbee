"""No lookahead: a feature at time t never depends on a bar after t (hypothesis property)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nexus.features import FeaturePipeline, FeatureSpec

# every feature kind, with windows short enough to be defined within a hundred bars
SMALL = FeatureSpec.parse(
    {
        "features": {
            "log_return": {"periods": [1, 3]},
            "hl_range": {},
            "close_position": {},
            "rsi": {"periods": [3]},
            "macd": {"fast": 2, "slow": 4, "signal": 2},
            "ema_distance": {"periods": [3]},
            "bollinger": {"period": 5},
            "atr": {"periods": [3]},
            "realized_vol": {"windows": [3, 5], "zscore_window": 8},
            "volume_zscore": {"window": 6},
            "volume_imbalance": {"window": 4},
            "calendar": {},
            "market_return": {},
            "market_beta": {"window": 6},
        },
        "lags": {"ret_1": [1, 2], "beta_6": [1]},
    }
)
START = pd.Timestamp("2025-03-07 14:30", tz="UTC")  # a Friday: paths cross a weekend and DST


def _times(n: int) -> pd.DatetimeIndex:
    """Minute bar times with a two-day gap mid-path."""
    minutes = np.arange(n) + 1440 * 2 * (np.arange(n) >= n // 2)
    return START + pd.to_timedelta(minutes, unit="min")


def _bars(shocks: np.ndarray, volume: np.ndarray, keep: np.ndarray) -> pd.DataFrame:
    """Bars of ``len(shocks)`` symbols from per-bar log-return shocks; ``keep`` drops bars."""
    frames = []
    ts = _times(shocks.shape[1])
    for i, (r, v, k) in enumerate(zip(shocks, volume, keep, strict=True)):
        close = 50.0 * np.exp(np.cumsum(r))
        open_ = close * np.exp(-r / 2)
        wick = np.abs(r) / 3
        frames.append(
            pd.DataFrame(
                {
                    "symbol": f"S{i}",
                    "interval": "1m",
                    "ts": ts,
                    "open": open_,
                    "high": np.maximum(open_, close) * np.exp(wick),
                    "low": np.minimum(open_, close) * np.exp(-wick),
                    "close": close,
                    "volume": v.astype(float),
                    "source": "test",
                }
            )[k]
        )
    return pd.concat(frames, ignore_index=True)


def _same_until(a: pd.DataFrame, b: pd.DataFrame, cut: pd.Timestamp) -> None:
    left, right = a[a.ts <= cut].reset_index(drop=True), b[b.ts <= cut].reset_index(drop=True)
    assert left[["symbol", "ts"]].equals(right[["symbol", "ts"]])
    values, other = left.iloc[:, 2:].to_numpy(), right.iloc[:, 2:].to_numpy()
    assert np.array_equal(values, other, equal_nan=True)  # exactly: not one bit moves


def _holes(draw: st.DrawFn, shape: tuple[int, int], first: int) -> np.ndarray:
    """A keep-mask with a few random holes at or after column ``first`` (column 0 kept)."""
    keep = np.ones(shape, dtype=bool)
    cells = st.tuples(st.integers(0, shape[0] - 1), st.integers(max(first, 1), shape[1] - 1))
    for i, j in draw(st.lists(cells, max_size=8)) if first < shape[1] else []:
        keep[i, j] = False
    return keep


@st.composite
def paths(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    """A random multi-symbol bar path, a cut, and the same path changed after the cut."""
    symbols = draw(st.integers(1, 3))
    n = draw(st.integers(60, 200))
    shape = (symbols, n)
    shocks = draw(arrays(np.float64, shape, elements=st.floats(-0.03, 0.03)))
    volume = draw(arrays(np.int64, shape, elements=st.integers(0, 5000)))
    keep = _holes(draw, shape, 1)
    cut = draw(st.one_of(st.integers(2 * n // 3, n - 1), st.integers(0, n - 1)))
    after = (symbols, n - cut - 1)
    changed, more_volume, later_keep = shocks.copy(), volume.copy(), keep.copy()
    changed[:, cut + 1 :] = draw(arrays(np.float64, after, elements=st.floats(-0.05, 0.05)))
    more_volume[:, cut + 1 :] = draw(arrays(np.int64, after, elements=st.integers(0, 9000)))
    later_keep[:, cut + 1 :] = _holes(draw, shape, cut + 1)[:, cut + 1 :]
    original, perturbed = _bars(shocks, volume, keep), _bars(changed, more_volume, later_keep)
    return original, perturbed, _times(n)[cut]


@settings(max_examples=60, deadline=None)
@given(paths())
def test_bars_after_t_never_change_features_at_or_before_t(
    case: tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp],
) -> None:
    original, perturbed, cut = case
    pipe = FeaturePipeline(SMALL)
    _same_until(pipe.transform(original), pipe.transform(perturbed), cut)


def test_no_centred_windows_in_the_default_spec(market_bars: pd.DataFrame) -> None:
    """Changing one bar changes no earlier feature, and changes some feature at that bar."""
    pipe = FeaturePipeline()
    base = pipe.transform(market_bars)
    times = np.sort(market_bars["ts"].unique())
    for t in (times[460], times[800], times[-2]):
        bumped = market_bars.copy()
        later = bumped.ts > t
        bumped.loc[later, ["open", "high", "low", "close"]] *= 1.03
        bumped.loc[later, "volume"] += 1000.0
        out = pipe.transform(bumped)
        _same_until(base, out, pd.Timestamp(t))
        first_after = out.ts == times[times > t][0]
        assert not np.allclose(out.loc[first_after, "ret_1"], base.loc[first_after, "ret_1"])
    assert not base[base.ts > times[500]].iloc[:, 2:].isna().any().any()
