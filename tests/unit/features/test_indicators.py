"""Each feature against an independent computation (pandas, numpy, plain loops)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib
from numpy.lib.stride_tricks import sliding_window_view

from nexus.features import FeaturePipeline, FeatureSpec

TOL = 1e-9


@pytest.fixture(scope="module")
def computed(holey_bars: pd.DataFrame) -> pd.DataFrame:
    """Default features of the holey market, joined to the bars they came from."""
    feats = FeaturePipeline().transform(holey_bars)
    return holey_bars.merge(feats, on=["symbol", "ts"], validate="1:1")


def _per_symbol(frame: pd.DataFrame, fn) -> np.ndarray:
    """``fn(group)`` for each symbol, concatenated in frame order (frame sorted by symbol)."""
    return np.concatenate([np.asarray(fn(g), dtype=float) for _, g in frame.groupby("symbol")])


def _check(actual: np.ndarray, expected: np.ndarray, warmup: int, frame: pd.DataFrame) -> None:
    """NaN exactly in each symbol's first ``warmup`` rows, and equal to ``expected`` after."""
    pos = frame.groupby("symbol").cumcount().to_numpy()
    assert np.isnan(actual[pos < warmup]).all()
    late = pos >= warmup
    assert np.isfinite(actual[late]).all()
    np.testing.assert_allclose(actual[late], expected[late], rtol=0, atol=TOL)


def _windows(x: np.ndarray, w: int) -> np.ndarray:
    """Rows of the last ``w`` values at each position, NaN-padded at the start, shape (n, w)."""
    padded = np.concatenate([np.full(w - 1, np.nan), x]).astype(np.longdouble)
    return sliding_window_view(padded, w)


def test_log_returns(computed: pd.DataFrame) -> None:
    for k in (1, 5, 15, 60):
        expected = _per_symbol(computed, lambda g, k=k: np.log(g.close / g.close.shift(k)))
        _check(computed[f"ret_{k}"].to_numpy(), expected, k, computed)


def test_range_and_close_position(computed: pd.DataFrame) -> None:
    c, h, lo = computed.close, computed.high, computed.low
    _check(computed["hl_range"].to_numpy(), np.log(h / lo).to_numpy(), 0, computed)
    _check(computed["close_pos"].to_numpy(), ((c - lo) / (h - lo)).to_numpy(), 0, computed)


def test_close_position_of_a_flat_bar_is_one_half(market_bars: pd.DataFrame) -> None:
    bars = market_bars.iloc[:3].copy()
    bars.loc[1, ["open", "high", "low", "close"]] = 50.0
    out = FeaturePipeline(FeatureSpec.parse({"features": {"close_position": {}}})).transform(bars)
    assert out["close_pos"].tolist()[1] == 0.5


def test_ema_distance_matches_pandas_ewm(computed: pd.DataFrame) -> None:
    warm = FeatureSpec.default().warmups()
    for p in (12, 26):
        ema = _per_symbol(computed, lambda g, p=p: g.close.ewm(span=p, adjust=False).mean())
        expected = computed.close.to_numpy() / ema - 1
        _check(computed[f"ema_dist_{p}"].to_numpy(), expected, warm[f"ema_dist_{p}"], computed)


def _wilder(x: pd.Series, p: int) -> pd.Series:
    return x.ewm(alpha=1 / p, adjust=False).mean()


def test_rsi_and_atr_match_wilder_smoothing(computed: pd.DataFrame) -> None:
    def rsi(g: pd.DataFrame) -> pd.Series:
        d = g.close.diff().fillna(0.0)
        up, down = _wilder(d.clip(lower=0), 14), _wilder(-d.clip(upper=0), 14)
        return up / (up + down)

    def atr(g: pd.DataFrame) -> pd.Series:
        prev = g.close.shift(1).fillna(g.close)
        tr = pd.concat([g.high - g.low, (g.high - prev).abs(), (g.low - prev).abs()], axis=1)
        return _wilder(tr.max(axis=1), 14) / g.close

    _check(computed["rsi_14"].to_numpy(), _per_symbol(computed, rsi), 418, computed)
    _check(computed["atr_14"].to_numpy(), _per_symbol(computed, atr), 418, computed)


def test_macd_matches_pandas_ewm(computed: pd.DataFrame) -> None:
    def macd(g: pd.DataFrame) -> np.ndarray:
        line = g.close.ewm(span=12, adjust=False).mean() - g.close.ewm(span=26, adjust=False).mean()
        signal = line.ewm(span=9, adjust=False).mean()
        return np.stack([line, signal, line - signal]) / g.close.to_numpy()

    expected = np.concatenate([macd(g) for _, g in computed.groupby("symbol")], axis=1)
    for row, name in enumerate(("macd", "macd_signal", "macd_hist")):
        _check(computed[name].to_numpy(), expected[row], 422, computed)


def test_bollinger_matches_a_two_pass_reference_and_talib(computed: pd.DataFrame) -> None:
    def bands(g: pd.DataFrame) -> np.ndarray:
        win = _windows(g.close.to_numpy(), 20)
        mean = win.mean(axis=1)
        sd = np.sqrt(((win - mean[:, None]) ** 2).mean(axis=1))
        c = g.close.to_numpy()
        return np.stack([(c - mean) / (4 * sd) + 0.5, 4 * sd / mean]).astype(float)

    expected = np.concatenate([bands(g) for _, g in computed.groupby("symbol")], axis=1)
    _check(computed["bb_pctb"].to_numpy(), expected[0], 19, computed)
    _check(computed["bb_width"].to_numpy(), expected[1], 19, computed)
    # TA-Lib's BBANDS (a running sum of squares) agrees to its own precision
    upper, _, lower = talib.BBANDS(computed.close.to_numpy()[:1170], 20, 2, 2)
    pctb = (computed.close.to_numpy()[:1170] - lower) / (upper - lower)
    np.testing.assert_allclose(computed["bb_pctb"].to_numpy()[19:1170], pctb[19:], atol=1e-6)


def _zscore(x: np.ndarray, w: int) -> np.ndarray:
    win = _windows(x, w)
    return ((x - win.mean(axis=1)) / win.std(axis=1, ddof=1)).astype(float)


def test_realized_vol_and_its_zscore(computed: pd.DataFrame) -> None:
    for w in (15, 60):

        def vol(g: pd.DataFrame, w: int = w) -> np.ndarray:
            r = np.log(g.close / g.close.shift(1)).to_numpy()
            return _windows(r, w).std(axis=1, ddof=1).astype(float)

        expected = _per_symbol(computed, vol)
        _check(computed[f"rvol_{w}"].to_numpy(), expected, w, computed)

        def z(g: pd.DataFrame, w: int = w) -> np.ndarray:
            return _zscore(vol(g), 390)

        _check(computed[f"rvol_{w}_z"].to_numpy(), _per_symbol(computed, z), w + 389, computed)


def test_volume_zscore_and_imbalance(computed: pd.DataFrame) -> None:
    expected = _per_symbol(computed, lambda g: _zscore(np.log1p(g.volume.to_numpy()), 390))
    _check(computed["volume_z"].to_numpy(), expected, 389, computed)

    def imbalance(g: pd.DataFrame) -> pd.Series:
        signed = np.sign(g.close - g.open) * g.volume
        return signed.rolling(30).sum() / g.volume.rolling(30).sum()

    _check(computed["volume_imbalance"].to_numpy(), _per_symbol(computed, imbalance), 29, computed)


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/London", "Asia/Kolkata"])
def test_calendar_features_across_dst_changes(zone: str) -> None:
    # every 7 minutes through 2025 (both US and UK clock changes), one symbol
    ts = pd.date_range("2025-01-01", "2026-01-01", freq="7min", tz="UTC", unit="us")
    bars = pd.DataFrame(
        {
            "symbol": "X",
            "interval": "1m",
            "ts": ts,
            "open": 1.0,
            "high": 1.0,
            "low": 1.0,
            "close": 1.0,
            "volume": 1.0,
            "source": "test",
        }
    )
    spec = FeatureSpec.parse({"features": {"calendar": {"timezone": zone}}})
    out = FeaturePipeline(spec).transform(bars)
    local = ts.tz_convert(zone)
    for name, value, period in [
        ("minute", local.minute, 60),
        ("hour", local.hour, 24),
        ("dow", local.day_of_week, 7),
        ("month", local.month - 1, 12),
    ]:
        angle = 2 * np.pi * np.asarray(value) / period
        np.testing.assert_allclose(out[f"{name}_sin"], np.sin(angle), atol=1e-12)
        np.testing.assert_allclose(out[f"{name}_cos"], np.cos(angle), atol=1e-12)


def test_market_return_beta_and_correlation(computed: pd.DataFrame) -> None:
    r = _per_symbol(computed, lambda g: np.log(g.close / g.close.shift(1)))
    frame = computed[["symbol", "ts"]].assign(r=r)
    market = frame.groupby("ts")["r"].mean()  # skips NaN: a missing symbol does not count
    mkt = market.reindex(frame.ts).to_numpy()
    _check(computed["mkt_ret"].to_numpy(), mkt, 1, computed)
    assert computed.groupby("ts")["mkt_ret"].nunique().max() == 1  # one value per ts

    def beta_corr(g: pd.DataFrame) -> np.ndarray:
        x = _windows(g.r.to_numpy(), 60)
        m = _windows(mkt[g.index], 60)
        cov = ((x - x.mean(1)[:, None]) * (m - m.mean(1)[:, None])).sum(1) / 59
        beta = cov / m.var(1, ddof=1)
        corr = cov / (x.std(1, ddof=1) * m.std(1, ddof=1))
        return np.stack([beta, corr]).astype(float)

    expected = np.concatenate([beta_corr(g) for _, g in frame.groupby("symbol")], axis=1)
    _check(computed["beta_60"].to_numpy(), expected[0], 60, computed)
    _check(computed["corr_60"].to_numpy(), expected[1], 60, computed)


def test_lags_are_the_same_symbols_earlier_values(computed: pd.DataFrame) -> None:
    for base, k in [("ret_1", 1), ("ret_1", 2), ("ret_1", 5), ("rsi_14", 1), ("mkt_ret", 1)]:
        expected = _per_symbol(computed, lambda g, b=base, k=k: g[b].shift(k))
        warm = FeatureSpec.default().warmups()[f"{base}_lag{k}"]
        _check(computed[f"{base}_lag{k}"].to_numpy(), expected, warm, computed)


def test_rsi_is_neutral_after_a_long_flat_stretch(market_bars: pd.DataFrame) -> None:
    """TA-Lib's RSI keeps its last ratio through a flat stretch; after 62 bars we read 0.5."""
    bars = market_bars[market_bars.symbol == "SIM00"].iloc[:700].copy()
    bars.loc[bars.index[500:], ["open", "high", "low", "close"]] = 40.0
    out = FeaturePipeline(FeatureSpec.parse({"features": {"rsi": {}}})).transform(bars)
    talib_rsi = talib.RSI(bars.close.to_numpy(), 14) / 100
    rsi = out["rsi_14"].to_numpy()
    # bar 500 is the first at 40.0; bar 500 + k has k unchanged closes behind it
    np.testing.assert_array_equal(rsi[419 : 500 + 62], talib_rsi[419 : 500 + 62])
    assert (rsi[500 + 62 :] == 0.5).all()
    assert talib_rsi[-1] != 0.5
