"""Batch transform: input handling, output layout, symbol independence, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nexus.errors import DataError
from nexus.features import FeaturePipeline, FeatureSpec

MARKET_COLUMNS = {"mkt_ret", "mkt_ret_lag1", "beta_60", "corr_60"}


def test_output_layout_for_shuffled_input(holey_bars: pd.DataFrame) -> None:
    pipe = FeaturePipeline()
    ordered = pipe.transform(holey_bars)
    shuffled = pipe.transform(holey_bars.sample(frac=1.0, random_state=3))
    assert list(ordered.columns) == ["symbol", "ts", *pipe.names]
    assert len(ordered) == len(holey_bars)
    assert ordered[["symbol", "ts"]].equals(holey_bars[["symbol", "ts"]])
    assert (ordered.dtypes.iloc[2:] == "float64").all()
    assert ordered["symbol"].dtype == holey_bars["symbol"].dtype
    assert ordered["ts"].dtype == holey_bars["ts"].dtype
    pd.testing.assert_frame_equal(shuffled, ordered)


def test_per_symbol_features_never_mix_symbols(holey_bars: pd.DataFrame) -> None:
    pipe = FeaturePipeline()
    together = pipe.transform(holey_bars)
    for symbol, bars in holey_bars.groupby("symbol"):
        alone = pipe.transform(bars)
        own = together[together.symbol == symbol].reset_index(drop=True)
        for name in pipe.names:
            if name not in MARKET_COLUMNS:
                assert np.array_equal(own[name], alone[name], equal_nan=True), (symbol, name)


def test_warmup_rows_are_nan_and_the_rest_defined(market_bars: pd.DataFrame) -> None:
    pipe = FeaturePipeline()
    out = pipe.transform(market_bars)
    pos = out.groupby("symbol").cumcount().to_numpy()
    for name, warm in pipe.warmups.items():
        assert out[name].isna().to_numpy()[pos < warm].all(), name
        assert out[name].notna().to_numpy()[pos >= warm].all(), name


def test_naive_utc_timestamps_and_no_interval_column(market_bars: pd.DataFrame) -> None:
    pipe = FeaturePipeline(FeatureSpec.parse({"features": {"calendar": {}, "rsi": {}}}))
    bars = market_bars.drop(columns="interval")
    naive = bars.assign(ts=bars["ts"].dt.tz_localize(None))
    np.testing.assert_array_equal(
        pipe.transform(naive).iloc[:, 2:].to_numpy(), pipe.transform(bars).iloc[:, 2:].to_numpy()
    )


def test_empty_and_short_input(market_bars: pd.DataFrame) -> None:
    pipe = FeaturePipeline()
    empty = pipe.transform(market_bars.iloc[:0])
    assert list(empty.columns) == ["symbol", "ts", *pipe.names]
    assert len(empty) == 0
    short = pipe.transform(market_bars.iloc[:3])
    assert short["ret_1"].isna().tolist() == [True, False, False]
    assert short["rsi_14"].isna().all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b.drop(columns=["close"]), r"lacks columns \['close'\]"),
        (lambda b: b.assign(interval=np.where(b.index % 2, "1m", "5m")), "mixes intervals"),
        (lambda b: pd.concat([b, b.iloc[[5]]]), "two bars for SIM00 at 2025-01-02 14:35"),
        (lambda b: b.assign(close=b.close.where(b.index != 7, 0.0)), "SIM00 at .* close=0.0"),
        (lambda b: b.assign(high=b.high.where(b.index != 8, np.inf)), "high=inf"),
        (lambda b: b.assign(volume=b.volume.where(b.index != 9, -1.0)), "volume=-1.0"),
        (lambda b: b.assign(open=b.open.where(b.index != 9, np.nan)), "open=nan"),
        (lambda b: b.assign(symbol=b.symbol.where(b.index != 3, None)), "1 bars without a"),
        (lambda b: b.assign(ts=b.ts.where(b.index != 3, pd.NaT)), "without a symbol or a ts"),
    ],
)
def test_bad_input_names_the_bar_and_the_fix(market_bars: pd.DataFrame, change, message) -> None:
    bars = change(market_bars.iloc[:50].copy())
    with pytest.raises(DataError, match=message) as err:
        FeaturePipeline().transform(bars)
    assert "\n" not in str(err.value)
