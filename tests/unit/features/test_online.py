"""Online features equal batch features within 1e-9 after warm-up (the training/serving guard)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nexus.errors import DataError
from nexus.features import FeaturePipeline, FeatureSpec, OnlineFeatures

from .conftest import MARKET

TOL = 1e-9


def _stream(online: OnlineFeatures, bars: pd.DataFrame) -> pd.DataFrame:
    """Feed ``bars`` one timestamp at a time; the online rows, sorted by symbol then ts."""
    rows = [online.update(group) for _, group in bars.groupby("ts", sort=True)]
    return pd.concat(rows, ignore_index=True).sort_values(["symbol", "ts"], ignore_index=True)


def _assert_parity(online: pd.DataFrame, batch: pd.DataFrame) -> None:
    batch = batch.reset_index(drop=True)
    assert list(online.columns) == list(batch.columns)
    assert online["symbol"].tolist() == batch["symbol"].tolist()
    assert (online["ts"] == batch["ts"]).all()
    for name in batch.columns[2:]:
        b, o = batch[name].to_numpy(), online[name].to_numpy()
        assert (np.isnan(b) == np.isnan(o)).all(), name
        np.testing.assert_allclose(o, b, rtol=0, atol=TOL, err_msg=name)


@pytest.fixture(scope="module")
def batch(holey_bars: pd.DataFrame) -> pd.DataFrame:
    return FeaturePipeline().transform(holey_bars)


def test_online_after_warm_equals_batch(holey_bars: pd.DataFrame, batch: pd.DataFrame) -> None:
    cut = holey_bars["ts"].sort_values().unique()[650]
    online = FeaturePipeline().online().warm(holey_bars[holey_bars.ts < cut])
    streamed = _stream(online, holey_bars[holey_bars.ts >= cut])
    expected = batch[batch.ts >= cut]
    # the compared span crosses an overnight gap and holds every feature after warm-up
    assert expected["ts"].dt.date.nunique() >= 2
    assert expected.iloc[:, 2:].notna().all(axis=0).all()
    _assert_parity(streamed, expected)


def test_online_from_the_first_bar_equals_batch_everywhere(holey_bars: pd.DataFrame) -> None:
    spec = FeatureSpec.parse(
        {
            "features": {
                "rsi": {"periods": [3]},
                "realized_vol": {"windows": [4], "zscore_window": 6},
                "market_beta": {"window": 5},
                "log_return": {"periods": [1, 2]},
                "volume_imbalance": {"window": 3},
            },
            "lags": {"ret_1": [1, 3], "beta_5": [2]},
        }
    )
    bars = holey_bars[holey_bars.ts < holey_bars.ts.sort_values().unique()[150]]
    pipe = FeaturePipeline(spec)
    _assert_parity(_stream(pipe.online(), bars), pipe.transform(bars))


def test_warm_from_last_bars_like_the_store(holey_bars: pd.DataFrame, batch: pd.DataFrame) -> None:
    """The live engine warms with store.last_bars(n=pipeline.warmup) per symbol."""
    pipe = FeaturePipeline()
    cut = holey_bars["ts"].sort_values().unique()[800]
    before = holey_bars[holey_bars.ts < cut]
    history = before.groupby("symbol").tail(pipe.warmup)
    online = pipe.online().warm(history)
    assert online.symbols == ("SIM00", "SIM01", "SIM02", "SIM03")
    _assert_parity(_stream(online, holey_bars[holey_bars.ts >= cut]), batch[batch.ts >= cut])


def test_warm_tail_gives_the_batch_rows_of_a_store_like_history(
    holey_bars: pd.DataFrame, batch: pd.DataFrame
) -> None:
    """The engine's windows come from the warm-up's own rows: they equal the batch values."""
    pipe = FeaturePipeline()
    cut = holey_bars["ts"].sort_values().unique()[800]
    history = holey_bars[holey_bars.ts < cut].groupby("symbol").tail(pipe.warmup + 30)
    tails = pipe.online().warm_tail(history, 30)
    assert sorted(tails) == ["SIM00", "SIM01", "SIM02", "SIM03"]
    before = batch[batch.ts < cut]
    for symbol, rows in tails.items():
        expected = before[before.symbol == symbol].iloc[-30:, 2:].to_numpy()
        assert rows.shape == expected.shape == (30, len(pipe.names))
        assert np.isfinite(rows).all()
        np.testing.assert_allclose(rows, expected, rtol=0, atol=TOL)
    assert pipe.online().warm_tail(history.iloc[:0], 30) == {}


def test_a_new_symbol_joins_mid_stream(holey_bars: pd.DataFrame) -> None:
    late = holey_bars["ts"].sort_values().unique()[700]
    bars = holey_bars[(holey_bars.symbol != "SIM01") | (holey_bars.ts >= late)]
    pipe = FeaturePipeline()
    cut = bars["ts"].sort_values().unique()[600]
    online = pipe.online().warm(bars[bars.ts < cut])
    assert "SIM01" not in online.symbols
    expected = pipe.transform(bars)
    _assert_parity(_stream(online, bars[bars.ts >= cut]), expected[expected.ts >= cut])


def test_update_arrays_is_update_without_pandas(market_bars: pd.DataFrame) -> None:
    pipe = FeaturePipeline()
    times = market_bars["ts"].sort_values().unique()
    history, now = market_bars[market_bars.ts < times[-1]], market_bars[market_bars.ts == times[-1]]
    framed = pipe.online().warm(history).update(now.iloc[::-1])
    online = pipe.online().warm(history)
    ohlcv = now[["open", "high", "low", "close", "volume"]].to_numpy()
    values = online.update_arrays(times[-1], now["symbol"].tolist(), ohlcv)
    assert framed["symbol"].tolist() == sorted(now["symbol"])
    np.testing.assert_array_equal(values, framed.iloc[:, 2:].to_numpy())
    assert online.buffer_bars == 423  # MACD's warm-up + 1 is the longest raw buffer


def test_daily_bars_with_weekends(market_bars: pd.DataFrame) -> None:
    from nexus.sources.simulator import simulate

    daily = simulate(MARKET.model_copy(update={"interval": "1d", "sessions": 80})).bars
    spec = FeatureSpec.parse(
        {
            "features": {
                "rsi": {"periods": [5]},
                "ema_distance": {"periods": [5]},
                "calendar": {},
                "market_beta": {"window": 10},
            }
        }
    )
    pipe = FeaturePipeline(spec)
    cut = daily["ts"].sort_values().unique()[60]
    online = pipe.online().warm(daily[daily.ts < cut])
    expected = pipe.transform(daily)
    _assert_parity(_stream(online, daily[daily.ts >= cut]), expected[expected.ts >= cut])


def test_online_rejects_bad_calls(market_bars: pd.DataFrame) -> None:
    times = market_bars["ts"].sort_values().unique()
    online = FeaturePipeline().online().warm(market_bars[market_bars.ts < times[10]])
    at = market_bars[market_bars.ts == times[10]]
    with pytest.raises(DataError, match="2 timestamps"):
        online.update(market_bars[market_bars.ts.isin(times[10:12])])
    with pytest.raises(DataError, match="repeat symbol 'SIM00'"):
        online.update(pd.concat([at, at.iloc[:1]]))
    with pytest.raises(DataError, match=r"'1d'.*'1m'"):
        online.update(at.assign(interval="1d"))
    with pytest.raises(DataError, match=r"close=-1\.0"):
        online.update(at.assign(close=-1.0))
    with pytest.raises(DataError, match="lacks columns \\['volume'\\]"):
        online.update(at.drop(columns="volume"))
    online.update(at)
    with pytest.raises(DataError, match="not newer than its last bar"):
        online.update(at)
    with pytest.raises(DataError, match="repeat symbol 'A'"):
        online.update_arrays(times[11], ["A", "A"], np.ones((2, 5)))
    with pytest.raises(DataError, match=r"A at .* has close=nan"):
        online.update_arrays(times[11], ["A"], np.array([[1.0, 1.0, 1.0, np.nan, 1.0]]))
    assert online.update(at.iloc[:0]).shape == (0, 2 + len(online.names))


def test_warm_replaces_state(market_bars: pd.DataFrame) -> None:
    online = FeaturePipeline().online().warm(market_bars[market_bars.symbol == "SIM00"])
    online.warm(market_bars[market_bars.symbol == "SIM01"])
    assert online.symbols == ("SIM01",)
    assert online.warm(market_bars.iloc[:0]).symbols == ()


def test_flat_illiquid_stretches_agree_and_stay_finite(market_bars: pd.DataFrame) -> None:
    """Constant prices and zero volume (a halted or illiquid symbol): no 0/0, same in both modes."""
    bars = market_bars[market_bars.symbol.isin(["SIM00", "SIM01"])].copy()
    flat = (bars.symbol == "SIM01") & (bars.groupby("symbol").cumcount().between(300, 899))
    bars.loc[flat, ["open", "high", "low", "close"]] = 41.5
    bars.loc[flat, "volume"] = 0.0
    pipe = FeaturePipeline()
    batch = pipe.transform(bars)
    cut = bars["ts"].sort_values().unique()[700]
    online = pipe.online().warm(bars[bars.ts < cut])
    _assert_parity(_stream(online, bars[bars.ts >= cut]), batch[batch.ts >= cut])
    pos = batch.groupby("symbol").cumcount().to_numpy()
    assert np.isfinite(batch.loc[pos >= pipe.warmup, list(pipe.names)].to_numpy()).all()
    # once every window of a feature lies inside the stretch, it reads its neutral value
    in_flat = batch[(batch.symbol == "SIM01").to_numpy() & (pos >= 300 + 15 + 390) & (pos < 900)]
    assert (in_flat[["rvol_15_z", "volume_z", "volume_imbalance", "corr_60"]] == 0).all().all()
    assert (in_flat[["bb_pctb", "rsi_14"]] == 0.5).all().all()
