"""Triple-barrier, fixed-horizon and uniqueness weights against plain reference loops."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nexus.domain import bars_frame
from nexus.errors import ConfigError, DataError
from nexus.labels import (
    LABEL_COLUMNS,
    ewm_volatility,
    fixed_horizon,
    triple_barrier,
    uniqueness_weights,
)
from tests.unit.labels._reference import (
    random_bars,
    reference_fixed_horizon,
    reference_sigma,
    reference_triple_barrier,
    reference_uniqueness,
)

START = pd.Timestamp("2025-01-02 14:30", tz="UTC")


def assert_same_labels(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(LABEL_COLUMNS)
    assert len(got) == len(want)
    assert got["symbol"].tolist() == want["symbol"].tolist()
    for col in ("ts", "t_touch", "t_end"):
        assert (got[col].to_numpy() == pd.DatetimeIndex(want[col]).to_numpy()).all(), col
    assert got["label"].tolist() == want["label"].tolist()
    assert got["both"].tolist() == want["both"].tolist()
    assert np.array_equal(got["ret"].to_numpy(), want["ret"].to_numpy())  # exact


# ---------------------------------------------------------------- reference comparisons


@pytest.mark.parametrize(
    ("seed", "horizon", "upper", "lower", "span"),
    [(0, 10, 2.0, 2.0, 50), (1, 1, 1.0, 1.5, 20), (2, 40, 3.0, 1.0, 100), (3, 25, 0.5, 0.5, 10)],
)
def test_triple_barrier_equals_reference_loop(seed, horizon, upper, lower, span) -> None:
    bars = random_bars(seed)
    kwargs = {"horizon": horizon, "upper": upper, "lower": lower}
    got = triple_barrier(bars, **kwargs, vol_span=span, vol_min_periods=5)
    want = reference_triple_barrier(bars, **kwargs, span=span, min_periods=5)
    assert_same_labels(got, want)
    # the random bars exercise every branch
    assert set(got["label"]) == {-1, 0, 1}
    assert got["both"].any()


def test_triple_barrier_sign_at_vertical_equals_reference_loop() -> None:
    bars = random_bars(4)
    kwargs = {"horizon": 8, "upper": 4.0, "lower": 4.0}
    got = triple_barrier(
        bars, **kwargs, vol_span=30, vol_min_periods=5, vertical="sign", min_return=0.001
    )
    want = reference_triple_barrier(
        bars, **kwargs, span=30, min_periods=5, vertical="sign", min_return=0.001
    )
    assert_same_labels(got, want)
    vertical = got[(got["t_touch"] - got["ts"] == pd.Timedelta("8min")) & ~got["both"]]
    assert (vertical["label"] != 0).any()
    assert (vertical["label"] == 0).any()


@pytest.mark.parametrize(("horizon", "threshold"), [(1, 0.0), (7, 0.002), (30, 0.0)])
def test_fixed_horizon_equals_reference_loop(horizon, threshold) -> None:
    bars = random_bars(5)
    got = fixed_horizon(bars, horizon=horizon, threshold=threshold)
    want = reference_fixed_horizon(bars, horizon=horizon, threshold=threshold)
    assert_same_labels(got, want)
    assert not got["both"].any()


def test_ewm_volatility_equals_single_series_pandas_and_keeps_row_order() -> None:
    bars = random_bars(6)
    sigma = ewm_volatility(bars, span=30, min_periods=5)
    assert sigma.index.equals(bars.index)
    for symbol, g in bars.groupby("symbol"):
        g = g.sort_values("ts")
        want = reference_sigma(g["close"].tolist(), 30, 5)
        assert np.array_equal(sigma.loc[g.index].to_numpy(), np.array(want), equal_nan=True), symbol


@pytest.mark.parametrize("seed", [7, 8])
def test_uniqueness_weights_equal_reference_loop(seed) -> None:
    bars = random_bars(seed, lengths=(150, 90, 120))
    labels = triple_barrier(bars, horizon=12, upper=3.0, lower=3.0, vol_span=20, vol_min_periods=5)
    labels = labels.sample(frac=0.7, random_state=seed)  # sparse labels, rows out of order
    got = uniqueness_weights(labels, bars=bars)
    want = reference_uniqueness(labels, bars)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert ((got > 0) & (got <= 1)).all()


def test_uniqueness_weights_without_bars_use_label_times() -> None:
    bars = random_bars(9, lengths=(120, 80))
    labels = fixed_horizon(bars, horizon=5)
    # every bar of the span is some label's ts or t_touch: the grid is complete
    np.testing.assert_allclose(
        uniqueness_weights(labels), reference_uniqueness(labels, bars), rtol=1e-12
    )


def test_uniqueness_weights_hand_counted() -> None:
    t = pd.date_range(START, periods=6, freq="1min")
    labels = pd.DataFrame(
        {
            "symbol": ["A", "A", "A", "B"],
            "ts": [t[0], t[1], t[4], t[0]],
            "t_touch": [t[3], t[2], t[5], t[3]],
        }
    )
    # A: bar1 {0}, bar2 {0,1}, bar3 {0}, bar5 {2}; B alone on its bars
    np.testing.assert_allclose(
        uniqueness_weights(labels, bars=pd.DataFrame({"symbol": "A", "ts": t})),
        [(1 + 0.5 + 1) / 3, 0.5, 1.0, 1.0],
    )


def test_uniqueness_weights_reject_bad_spans() -> None:
    labels = pd.DataFrame({"symbol": ["A"], "ts": [START], "t_touch": [START]})
    with pytest.raises(DataError, match="t_touch at or before ts"):
        uniqueness_weights(labels)
    with pytest.raises(DataError, match="lack column 't_touch'"):
        uniqueness_weights(labels.drop(columns="t_touch"))
    assert uniqueness_weights(labels.iloc[:0]).shape == (0,)


# ---------------------------------------------------------------- hand-built cases


def _bars(
    rows: list[tuple[float, float, float, float]], symbol: str = "A", start=START, interval="1m"
):
    step = pd.Timedelta("1D" if interval == "1d" else interval)
    return bars_frame(
        pd.DataFrame(
            {
                "symbol": symbol,
                "interval": interval,
                "ts": [start + i * step for i in range(len(rows))],
                "open": [r[0] for r in rows],
                "high": [r[1] for r in rows],
                "low": [r[2] for r in rows],
                "close": [r[3] for r in rows],
                "volume": 1.0,
                "source": "test",
            }
        )
    )


WARM = 30


def _case(future: list[tuple[float, float, float, float]], interval: str = "1m", symbol="A"):
    """Warm-up bars alternating +-1%, then ``future`` bars given in units of sigma_t
    as log distances (open, high, low, close) from the last warm-up close."""
    closes = 100.0 * np.exp(0.01 * np.cumsum([(-1) ** i for i in range(WARM)]))
    opens = np.concatenate([[100.0], closes[:-1]])
    warm = [(o, max(o, c), min(o, c), c) for o, c in zip(opens, closes, strict=True)]
    sigma = ewm_volatility(_bars(warm, interval=interval), span=10, min_periods=5).iloc[-1]
    c0 = closes[-1]
    rows = warm + [tuple(c0 * np.exp(x * sigma) for x in bar) for bar in future]
    return _bars(rows, symbol=symbol, interval=interval), sigma


def _label_at(bars: pd.DataFrame, horizon: int, row: int = WARM - 1, **kwargs) -> pd.Series:
    labels = triple_barrier(bars, horizon=horizon, vol_span=10, vol_min_periods=5, **kwargs)
    return labels.set_index("ts").loc[bars["ts"].iloc[row]]


QUIET = (0.0, 0.5, -0.5, 0.2)


def test_upper_touch_exits_at_the_barrier() -> None:
    bars, sigma = _case([QUIET, QUIET, (0.2, 2.5, -0.3, 1.0), QUIET, QUIET])
    row = _label_at(bars, horizon=5)
    assert row["label"] == 1
    assert not row["both"]
    assert row["t_touch"] == bars["ts"].iloc[WARM + 2]
    assert row["t_end"] == row["t_touch"] + pd.Timedelta("1min")
    assert row["ret"] == pytest.approx(2.0 * sigma, rel=1e-12)


def test_lower_touch_exits_at_the_barrier() -> None:
    bars, sigma = _case([QUIET, (0.0, 0.3, -1.6, -1.0), QUIET], interval="1m")
    row = _label_at(bars, horizon=3, lower=1.5)
    assert row["label"] == -1
    assert row["t_touch"] == bars["ts"].iloc[WARM + 1]
    assert row["ret"] == pytest.approx(-1.5 * sigma, rel=1e-12)


def test_bar_touching_both_barriers_is_neutral_and_flagged() -> None:
    bars, sigma = _case([QUIET, (0.1, 2.5, -2.5, 0.7), (0.7, 9.0, 0.5, 8.0)])
    row = _label_at(bars, horizon=3)
    assert row["label"] == 0
    assert row["both"]
    assert row["t_touch"] == bars["ts"].iloc[WARM + 1]
    assert row["ret"] == pytest.approx(0.7 * sigma, rel=1e-9)  # exit at that bar's close


def test_gap_beyond_a_barrier_exits_at_the_open() -> None:
    bars, sigma = _case([QUIET, (-3.0, -2.8, -4.0, -3.5), QUIET])  # also reaches low only
    row = _label_at(bars, horizon=3)
    assert row["label"] == -1
    assert not row["both"]
    assert row["ret"] == pytest.approx(-3.0 * sigma, rel=1e-9)
    bars, sigma = _case([(2.5, 3.0, -2.5, -2.2)])  # opens above, later reaches the low too
    row = _label_at(bars, horizon=1)
    assert row["label"] == 1
    assert not row["both"]


def test_vertical_barrier_is_neutral_or_signed() -> None:
    bars, sigma = _case([QUIET, QUIET, QUIET, (0.2, 0.5, -0.5, 0.4), (3.0, 4.0, 2.0, 3.0)])
    row = _label_at(bars, horizon=4)
    assert row["label"] == 0
    assert not row["both"]
    assert row["t_touch"] == bars["ts"].iloc[WARM + 3]  # the bar after is beyond the horizon
    assert row["ret"] == pytest.approx(0.4 * sigma, rel=1e-9)
    assert _label_at(bars, horizon=4, vertical="sign")["label"] == 1
    assert _label_at(bars, horizon=4, vertical="sign", min_return=0.5 * sigma)["label"] == 0


def test_rows_without_horizon_or_sigma_are_dropped() -> None:
    bars, _ = _case([QUIET] * 6)
    labels = triple_barrier(bars, horizon=4, vol_span=10, vol_min_periods=5)
    ts = bars["ts"]
    # first row with 5 returns is row 5; last row with 4 bars after it is n - 5
    assert labels["ts"].iloc[0] == ts.iloc[5]
    assert labels["ts"].iloc[-1] == ts.iloc[len(bars) - 5]
    assert len(labels) == len(bars) - 5 - 4
    assert (labels["t_touch"] <= ts.iloc[-1]).all()


def test_labels_never_cross_symbols() -> None:
    a, _ = _case([QUIET] * 3, symbol="A")
    b = _bars(
        [(1.0, 1000.0, 0.001, 1.0)] * 40, symbol="B", start=a["ts"].iloc[-1] + pd.Timedelta("1min")
    )
    bars = pd.concat([a, b], ignore_index=True)
    labels = triple_barrier(bars, horizon=3, vol_span=10, vol_min_periods=5)
    last_a = labels[labels["symbol"] == "A"].iloc[-1]
    assert last_a["ts"] == a["ts"].iloc[-4]
    assert last_a["t_touch"] == a["ts"].iloc[-1]
    assert last_a["label"] == 0
    fh = fixed_horizon(bars, horizon=3)
    assert (
        fh.groupby("symbol")["ts"].max() == bars.groupby("symbol")["ts"].nth(-4).to_numpy()
    ).all()


def test_daily_bars_are_known_the_next_midnight() -> None:
    bars, _ = _case([QUIET, (0.0, 2.5, -0.1, 1.0)], interval="1d")
    row = _label_at(bars, horizon=2)
    assert row["t_touch"] == bars["ts"].iloc[WARM + 1]
    assert row["t_end"] == row["t_touch"] + pd.Timedelta("1D")


def test_sigma_has_no_lookahead() -> None:
    bars = random_bars(10, lengths=(300, 200))
    sigma = ewm_volatility(bars, span=20, min_periods=5)
    cut = pd.Timestamp(bars["ts"].sort_values().iloc[250])
    later = bars["ts"] > cut
    changed = bars.copy()
    scale = np.exp(np.random.default_rng(0).normal(0, 0.2, later.sum()))
    for col in ("open", "high", "low", "close"):
        changed.loc[later, col] = changed.loc[later, col] * scale
    changed_sigma = ewm_volatility(changed, span=20, min_periods=5)
    assert np.array_equal(sigma[~later], changed_sigma[~later], equal_nan=True)
    assert not np.allclose(sigma[later], changed_sigma[later], equal_nan=True)


def test_label_depends_only_on_bars_up_to_its_horizon() -> None:
    bars = random_bars(11, lengths=(200,))
    base = triple_barrier(bars, horizon=10, vol_span=20, vol_min_periods=5)
    ts = bars["ts"].sort_values()
    changed = bars.copy()
    later = changed["ts"] > ts.iloc[150]
    changed.loc[later, ["open", "high", "low", "close"]] *= 1.5
    after = triple_barrier(changed, horizon=10, vol_span=20, vol_min_periods=5)
    keep = base["ts"] <= ts.iloc[140]  # horizon ends at bar 150 at the latest
    pd.testing.assert_frame_equal(base[keep], after[after["ts"] <= ts.iloc[140]])


def test_row_order_of_the_input_does_not_matter() -> None:
    bars = random_bars(12)
    a = triple_barrier(bars, horizon=5)
    b = triple_barrier(bars.sort_values(["symbol", "ts"]).reset_index(drop=True), horizon=5)
    pd.testing.assert_frame_equal(a, b)
    assert a["label"].dtype == np.int8
    assert a["both"].dtype == bool
    assert str(a["ts"].dtype) == "datetime64[us, UTC]"
    assert a["symbol"].dtype == "str"


# ---------------------------------------------------------------- bad input


def test_bad_parameters_raise_config_errors() -> None:
    bars = random_bars(13, lengths=(50,))
    for kwargs, match in [
        ({"horizon": 0}, "horizon=0"),
        ({"horizon": 2.5}, "horizon=2.5"),
        ({"horizon": 5, "upper": 0.0}, "upper=0.0"),
        ({"horizon": 5, "lower": float("nan")}, "lower=nan"),
        ({"horizon": 5, "vol_min_periods": 1}, "vol_min_periods=1"),
        ({"horizon": 5, "vertical": "up"}, "vertical='up'"),
        ({"horizon": 5, "min_return": -1.0}, "min_return=-1.0"),
    ]:
        with pytest.raises(ConfigError, match=match):
            triple_barrier(bars, **kwargs)
    with pytest.raises(ConfigError, match=r"threshold=-0\.1"):
        fixed_horizon(bars, horizon=1, threshold=-0.1)


def test_bad_bars_raise_data_errors_that_name_the_fix() -> None:
    bars = random_bars(14, lengths=(50, 40))
    with pytest.raises(DataError, match=r"lack columns \['high'\].*BAR_COLUMNS"):
        triple_barrier(bars.drop(columns="high"), horizon=3)
    bad = bars.copy()
    bad.loc[bad.index[3], "low"] = -1.0
    with pytest.raises(DataError, match="1 low price"):
        triple_barrier(bad, horizon=3)
    with pytest.raises(DataError, match="repeat \\(symbol, ts\\) 1 time"):
        fixed_horizon(pd.concat([bars, bars.iloc[:1]]), horizon=3)
    mixed = bars.copy()
    mixed.loc[mixed.index[0], "interval"] = "5m"
    with pytest.raises(DataError, match="mixes bar intervals"):
        fixed_horizon(mixed, horizon=3)


def test_too_short_data_gives_an_empty_frame_with_the_columns() -> None:
    bars = random_bars(15, lengths=(10,))
    labels = triple_barrier(bars, horizon=20)
    assert labels.empty
    assert list(labels.columns) == list(LABEL_COLUMNS)
    assert fixed_horizon(bars, horizon=20).empty
