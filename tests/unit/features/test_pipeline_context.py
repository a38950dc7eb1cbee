"""News and macro columns in the feature spec and pipeline: batch == online, point in time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from nexus.errors import ConfigError, DataError
from nexus.features import NEWS_FEATURES, FeaturePipeline, FeatureSpec
from nexus.sources.simulator import SimulatorConfig, simulate

TOL = 1e-9
US = pd.Timedelta(microseconds=1)
SPEC = {
    "features": {"log_return": {"periods": [1, 5]}, "rsi": {}, "market_return": {}},
    "lags": {"ret_1": [1]},
    "news": {"half_life": "PT30M", "count_window": "PT20M", "norm_window": "PT6H"},
    "macro": {"series": ["SIM_CPI", "SIM_RATE"], "changes": 1},
}


def _utc(ts: object) -> pd.Timestamp:
    ts = pd.Timestamp(ts)
    return ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")


@pytest.fixture(scope="module")
def market():
    # 70 sessions from 2025-01-02: the simulated CPI and rate are released within them
    config = SimulatorConfig(
        symbols=3, sessions=70, interval="15m", seed=5, params={"news_rate": 6}
    )
    return simulate(config)


@pytest.fixture(scope="module")
def pipe() -> FeaturePipeline:
    return FeaturePipeline(FeatureSpec.parse(SPEC))


def test_spec_names_put_news_then_macro_after_the_lags(pipe: FeaturePipeline) -> None:
    assert pipe.names == (
        "ret_1",
        "ret_5",
        "rsi_14",
        "mkt_ret",
        "ret_1_lag1",
        *NEWS_FEATURES,
        *(f"macro_sim_{s}_{k}" for s in ("cpi", "rate") for k in ("level", "change", "surprise")),
    )
    assert pipe.needs_news
    assert pipe.macro_series == ("SIM_CPI", "SIM_RATE")
    assert all(pipe.warmups[name] == 0 for name in pipe.names[5:])
    spec = FeatureSpec.parse(SPEC)
    assert FeatureSpec.parse(yaml.safe_load(spec.to_yaml())) == spec


def test_a_bare_news_key_turns_news_on_with_defaults() -> None:
    spec = FeatureSpec.parse({"features": {"rsi": {}}, "news": None})
    assert spec.names() == ("rsi_14", *NEWS_FEATURES)
    assert FeatureSpec.default().context_names() == ()


def test_context_columns_cannot_be_lagged_and_macro_needs_series() -> None:
    with pytest.raises(ConfigError, match="'news_count', a news or macro column"):
        FeatureSpec.parse({"features": {"rsi": {}}, "news": {}, "lags": {"news_count": [1]}})
    with pytest.raises(ConfigError, match=r"macro\.series"):
        FeatureSpec.parse({"features": {"rsi": {}}, "macro": {}})
    with pytest.raises(ConfigError, match="unknown feature spec section 'newz'"):
        FeatureSpec.parse({"features": {"rsi": {}}, "newz": {}})


def test_missing_news_or_macro_or_interval_is_named(market, pipe: FeaturePipeline) -> None:
    bars = market.bars
    with pytest.raises(DataError, match="news features but the feature pipeline got no news"):
        pipe.transform(bars, macro=market.macro)
    with pytest.raises(DataError, match=r"macro features but .* no macro vintages"):
        pipe.transform(bars, news=market.news)
    with pytest.raises(DataError, match="no interval column"):
        pipe.transform(bars.drop(columns="interval"), news=market.news, macro=market.macro)
    with pytest.raises(DataError, match="online warm-up got no news"):
        pipe.online().warm(bars, macro=market.macro)


def test_bar_only_specs_ignore_news_and_macro(market) -> None:
    plain = FeaturePipeline(FeatureSpec.parse({"features": {"rsi": {}}}))
    a = plain.transform(market.bars)
    b = plain.transform(market.bars, news=market.news.iloc[:0], macro=market.macro)
    pd.testing.assert_frame_equal(a, b)


def test_online_equals_batch_with_news_and_macro(market, pipe: FeaturePipeline) -> None:
    bars, news, macro = market.bars, market.news, market.macro
    batch = pipe.transform(bars, news=news, macro=macro).set_index(["symbol", "ts"])
    context = list(pipe.names[5:])
    assert np.isfinite(batch[context].to_numpy()[-100:]).all()  # every column is exercised
    assert (batch["news_count"] > 0).mean() > 0.1
    times = np.sort(bars["ts"].unique())
    cut = times[len(times) // 2]
    step = pd.Timedelta("15min")
    past = lambda frame, col, t: frame[frame[col] <= t]  # noqa: E731
    online = pipe.online().warm(
        bars[bars.ts < cut], news=past(news, "available_at", cut), macro=macro.iloc[:0]
    )
    online.add_context(macro=macro)  # vintages passed early count only once public
    seen, rows = cut, []
    for ts in times[len(times) // 2 :]:
        close = _utc(ts) + step
        fresh = news[(news.available_at > seen) & (news.available_at <= close)]
        online.add_context(news=fresh)  # each item once, when it is available
        seen = close
        rows.append(online.update(bars[bars.ts == ts]))
    live = pd.concat(rows).set_index(["symbol", "ts"])
    expected = batch.loc[live.index]
    diff = (live - expected).abs().to_numpy()
    assert np.nanmax(diff) <= TOL
    np.testing.assert_array_equal(np.isnan(live.to_numpy()), np.isnan(expected.to_numpy()))


def test_a_feature_at_t_never_sees_an_item_available_after_the_close(
    market, pipe: FeaturePipeline
) -> None:
    bars, news, macro = market.bars, market.news, market.macro
    base = pipe.transform(bars, news=news, macro=macro)
    times = np.sort(bars["ts"].unique())
    bar = _utc(times[len(times) // 2])
    close = bar + pd.Timedelta("15min")
    # change everything available after the bar's close: scores, extra stories, new vintages
    later = news.available_at > close
    news2 = news.copy()
    news2.loc[later, "sentiment"] = -news2.loc[later, "sentiment"] + 5.0
    extra = news.iloc[:3].assign(available_at=close + US, symbols="SIM00,SIM01,SIM02", id="x")
    later_m = macro.realtime_start > close
    macro2 = macro.copy()
    macro2.loc[later_m, "value"] = 1e6
    changed = pipe.transform(bars, news=pd.concat([news2, extra], ignore_index=True), macro=macro2)
    known = pd.to_datetime(base["ts"], utc=True) <= bar
    pd.testing.assert_frame_equal(base[known], changed[known])
    after = pd.to_datetime(base["ts"], utc=True) > bar
    assert not base[after].equals(changed[after])
    # an item available exactly at the close counts in that bar, and only from it on
    at_close = news.iloc[:1].assign(available_at=close, symbols="SIM01", sentiment=1.0)
    one = pipe.transform(bars, news=at_close, macro=macro).set_index(["symbol", "ts"])
    row = one.loc[("SIM01", bar)]
    assert row["news_count"] == 1.0
    assert row["news_sentiment"] == 1.0
    assert one.loc[("SIM01", _utc(times[len(times) // 2 - 1])), "news_count"] == 0.0


def test_daily_bars_take_their_context_before_the_session() -> None:
    market = simulate(SimulatorConfig(symbols=2, sessions=5, interval="1d", seed=2))
    bars = market.bars
    day = _utc(bars["ts"].iloc[2])
    news = pd.DataFrame(
        {
            "available_at": [day - US, day + pd.Timedelta("14h")],
            "symbols": ["SIM00", "SIM00"],
            "sentiment": [0.5, 0.9],
        }
    )
    pipe = FeaturePipeline(FeatureSpec.parse({"features": {"hl_range": {}}, "news": {}}))
    out = pipe.transform(bars, news=news).set_index(["symbol", "ts"])
    assert out.loc[("SIM00", day), "news_count"] == 1.0  # the one before midnight only
    assert out.loc[("SIM00", day), "news_sentiment"] == pytest.approx(0.5, abs=1e-9)
