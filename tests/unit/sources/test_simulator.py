"""The market simulator: configuration, determinism, sessions, prices, corporate actions, news,
and the Source / LiveSource behaviour (history and live produce the same bars)."""

from __future__ import annotations

import asyncio
import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

import nexus.sources.simulator as simulator
from nexus.domain import BAR_COLUMNS, MACRO_COLUMNS, NEWS_COLUMNS, Interval, Sessions
from nexus.errors import ConfigError
from nexus.sources import LiveSource, Source
from nexus.sources.simulator import (
    MarketParams,
    SimulatedMarket,
    SimulatorConfig,
    SimulatorSource,
    simulate,
)
from nexus.store import adjust_bars

SMALL = SimulatorConfig(symbols=4, sectors=2, sessions=3, interval="5m", seed=11)
# A market where splits (both ratios) and dividends happen often.
ACTIONS = MarketParams(
    price_min=40.0,
    price_max=58.0,
    split_threshold=60.0,
    split_far=1.02,
    vol_min=0.6,
    vol_max=0.9,
    dividend_fraction=1.0,
    dividend_yield=0.08,
)
ACTIONS_CONFIG = SimulatorConfig(
    symbols=6, sectors=2, sessions=300, interval="1h", seed=2, params=ACTIONS
)


@pytest.fixture(scope="module")
def actions_market() -> SimulatedMarket:
    return simulate(ACTIONS_CONFIG)


def _with_prev_close(bars: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
    """``actions`` plus the raw close of each symbol's last bar before the ex-date."""
    cutoff = pd.to_datetime(actions["ex_date"]).dt.tz_localize("UTC")
    prev = [
        bars.loc[(bars["symbol"] == s) & (bars["ts"] < c), "close"].iloc[-1]
        for s, c in zip(actions["symbol"], cutoff, strict=True)
    ]
    return actions.assign(prev_close=prev)


def _collect(source: SimulatorSource, n: int, **kwargs) -> tuple[list, list[float]]:
    naps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        naps.append(seconds)

    async def take() -> list:
        out = []
        async for batch in source.stream(sleep=fake_sleep, **kwargs):
            out.append(batch)
            if len(out) == n:
                break
        return out

    return asyncio.run(take()), naps


# --------------------------------------------------------------------------- config


def test_public_names() -> None:
    assert simulator.__all__ == [
        "MarketParams",
        "RegimeShift",
        "SimulatedMarket",
        "SimulatorConfig",
        "SimulatorSource",
        "simulate",
    ]


def test_config_defaults_and_interval_aliases() -> None:
    config = SimulatorConfig()
    assert (config.symbols, config.sectors, config.interval, config.sessions) == (20, 4, "1m", 60)
    assert (config.start, config.seed, config.alpha, config.calendar) == (
        date(2025, 1, 2),
        7,
        0.05,
        "XNYS",
    )
    assert SimulatorConfig(interval="60min").interval == "1h"
    assert SimulatorConfig(interval="daily").bar_interval is Interval.D1
    assert SimulatorConfig(symbols=2).sectors == 2  # omitted sectors never exceed symbols


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"interval": "7m"}, "use one of"),
        ({"alpha": -0.1}, "alpha=-0.1"),
        ({"alpha": float("nan")}, "alpha=nan"),
        ({"symbols": 0}, "symbols=0 is below 1"),
        ({"sessions": 0}, "sessions=0 is below 1"),
        ({"symbols": 3, "sectors": 4}, "sectors=4 is more than symbols=3"),
        ({"seed": -1}, "seed=-1 is negative"),
        ({"calendar": "NOPE"}, "not known to exchange-calendars"),
        ({"symbol": 3}, "Extra inputs are not permitted"),
        ({"symbols": "many"}, "valid integer"),
    ],
)
def test_config_rejects_bad_values(fields: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SimulatorConfig(**fields)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"garch_a": 0.05, "garch_b": 0.95}, "garch_a \\+ garch_b"),
        ({"beta_max": 0.8, "sector_max": 0.7}, "idiosyncratic share"),
        ({"vol_min": 0.5, "vol_max": 0.2}, "vol_min=0.5 is above vol_max=0.2"),
        ({"price_max": 500.0}, "price_max=500.0 is not below split_threshold"),
        ({"dof": 2.0}, "greater than 2"),
        ({"news_drift": -0.1}, "greater than or equal to 0"),
        ({"news_drift": float("inf")}, "finite number"),
        ({"news_drift_half_life": 0.0}, "greater than 0"),
        ({"unknown": 1.0}, "Extra inputs are not permitted"),
    ],
)
def test_market_params_reject_bad_values(fields: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MarketParams(**fields)


def test_symbol_names_sort_and_widen_past_100() -> None:
    market = simulate(SimulatorConfig(symbols=101, sessions=1, interval="1d"))
    names = market.symbols["symbol"].tolist()
    assert names[:2] == ["SIM000", "SIM001"]
    assert names[-1] == "SIM100"
    assert names == sorted(names) == market.bars["symbol"].tolist()
    assert market.symbols["description"][5] == "Simulated equity, sector 1"


def test_config_is_frozen_and_hashable_by_id() -> None:
    with pytest.raises(ValidationError):
        SMALL.seed = 3  # type: ignore[misc]
    assert SMALL.config_id == SimulatorConfig(**SMALL.model_dump()).config_id
    assert SMALL.config_id != SMALL.model_copy(update={"seed": 12}).config_id


def test_bad_speed_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="speed=0"):
        SimulatorSource(SMALL, speed=0)


# --------------------------------------------------------------------------- determinism


def test_same_config_same_market_other_seed_other_market() -> None:
    a, b = simulate(SMALL), simulate(SMALL)
    for frame in ("bars", "truth", "news", "corporate_actions", "symbols"):
        pd.testing.assert_frame_equal(getattr(a, frame), getattr(b, frame))
    c = simulate(SMALL.model_copy(update={"seed": 12}))
    assert not np.allclose(a.bars["close"], c.bars["close"])


def test_history_is_a_prefix_of_longer_history() -> None:
    short = simulate(SMALL)
    long = simulate(SMALL.model_copy(update={"sessions": 7}))
    last = short.bars["ts"].max()
    keep = long.bars["ts"] <= last
    assert keep.sum() == len(short.bars) < len(long.bars)
    pd.testing.assert_frame_equal(short.bars, long.bars[keep].reset_index(drop=True))
    pd.testing.assert_frame_equal(short.truth, long.truth[keep].reset_index(drop=True))
    news = long.news[long.news["published_at"] <= last].reset_index(drop=True)
    pd.testing.assert_frame_equal(short.news, news)


def test_actions_are_a_prefix_too(actions_market: SimulatedMarket) -> None:
    short = simulate(ACTIONS_CONFIG.model_copy(update={"sessions": 150}))
    last = short.bars["ts"].max().date()
    acts = actions_market.corporate_actions
    expected = acts[acts["ex_date"] <= last].reset_index(drop=True)
    assert len(expected) > 0
    pd.testing.assert_frame_equal(short.corporate_actions, expected)


def test_alpha_zero_has_no_drift() -> None:
    market = simulate(SMALL.model_copy(update={"alpha": 0.0}))
    assert (market.truth["drift"] == 0.0).all()
    assert market.truth["signal"].abs().max() > 0.5  # the signal exists, it just has no effect


# --------------------------------------------------------------------------- sessions


def test_bars_follow_exchange_sessions_and_half_days() -> None:
    # 2025-07-03 closes at 13:00 ET; 2025-07-04 is a holiday; 07-05/06 is a weekend.
    config = SimulatorConfig(
        symbols=2, sectors=1, sessions=3, interval="1m", start=date(2025, 7, 2)
    )
    bars = simulate(config).bars
    ts = bars["ts"].dt.tz_localize(None).to_numpy().astype("datetime64[us]")
    sessions = Sessions("XNYS", date(2025, 7, 1), date(2025, 7, 10))
    assert (sessions.locate(ts) >= 0).all()
    per_day = bars[bars["symbol"] == "SIM00"].groupby(bars["ts"].dt.date).size()
    assert per_day.to_dict() == {
        date(2025, 7, 2): 390,
        date(2025, 7, 3): 210,
        date(2025, 7, 7): 390,
    }
    assert bars.groupby("symbol")["ts"].apply(lambda s: s.is_monotonic_increasing).all()
    assert list(bars.columns) == list(BAR_COLUMNS)
    assert set(bars["interval"]) == {"1m"}
    assert set(bars["source"]) == {"simulator"}


def test_hourly_bars_end_with_a_short_bar_and_daily_bars_are_sessions() -> None:
    start = date(2025, 7, 2)
    hourly = simulate(SimulatorConfig(symbols=1, sessions=2, interval="1h", start=start))
    times = hourly.bars["ts"].dt.strftime("%m-%d %H:%M").tolist()
    assert times[-5:] == ["07-02 19:30", "07-03 13:30", "07-03 14:30", "07-03 15:30", "07-03 16:30"]
    daily = simulate(SimulatorConfig(symbols=1, sessions=3, interval="1d", start=start))
    assert daily.bars["ts"].dt.strftime("%Y-%m-%d %H:%M").tolist() == [
        "2025-07-02 00:00",
        "2025-07-03 00:00",
        "2025-07-07 00:00",
    ]


def test_bar_volatility_scales_with_bar_length() -> None:
    """A 30-minute closing bar has less base variance than the hour bars before it."""
    params = MarketParams(garch_a=0.0, garch_b=0.0, regime_enter=0.0, vol_u_amplitude=0.0)
    start = date(2025, 7, 2)
    config = SimulatorConfig(symbols=1, sessions=2, interval="1h", start=start, params=params)
    truth = simulate(config).truth
    vol = truth["vol"].to_numpy()
    np.testing.assert_allclose(vol[:6], vol[0])
    np.testing.assert_allclose(vol[6], vol[0] * np.sqrt(0.5))


# --------------------------------------------------------------------------- prices


def test_ohlc_are_consistent_positive_and_volume_whole_shares() -> None:
    bars = simulate(SimulatorConfig(symbols=5, sectors=2, sessions=20, interval="1m")).bars
    assert (bars[["open", "high", "low", "close"]] > 0).all().all()
    assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()
    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
    assert (bars["volume"] >= 0).all()
    assert (bars["volume"] == np.round(bars["volume"])).all()
    # within a session each bar opens at the previous close
    same = (bars["symbol"] == bars["symbol"].shift()) & (
        bars["ts"].dt.date == bars["ts"].shift().dt.date
    )
    np.testing.assert_array_equal(bars["open"][same], bars["close"].shift()[same])


def test_truth_explains_every_bar(actions_market: SimulatedMarket) -> None:
    bars, truth = actions_market.bars, actions_market.truth
    assert list(truth.columns) == ["symbol", "ts", "drift", "vol", "signal", "jump", "gap", "ret"]
    assert (truth["symbol"] == bars["symbol"]).all()
    assert (truth["ts"] == bars["ts"]).all()
    intrabar = np.log(bars["close"] / bars["open"])
    np.testing.assert_allclose(intrabar, truth["ret"] - truth["gap"], atol=1e-12)
    first = bars["ts"].dt.date != bars["ts"].shift().dt.date
    assert (truth["gap"][~first] == 0).all()
    assert (truth["gap"][first] != 0).all()
    config = ACTIONS_CONFIG
    np.testing.assert_allclose(
        truth["drift"], config.alpha * truth["vol"] * truth["signal"], rtol=1e-12
    )


def test_adjusted_returns_equal_truth_across_splits_and_dividends(
    actions_market: SimulatedMarket,
) -> None:
    bars, actions = actions_market.bars, actions_market.corporate_actions
    counts = actions.groupby(["kind", "ratio"]).size().to_dict()
    assert counts.get(("split", 2.0), 0) >= 2
    assert counts.get(("split", 3.0), 0) >= 1
    assert counts.get(("dividend", 1.0), 0) >= 20
    adjusted = adjust_bars(bars, _with_prev_close(bars, actions), "all")
    log_ret = np.log(adjusted["close"]).groupby(adjusted["symbol"]).diff()
    first = adjusted["symbol"] != adjusted["symbol"].shift()
    np.testing.assert_allclose(log_ret[~first], actions_market.truth["ret"][~first], atol=1e-10)
    raw_ret = np.log(bars["close"]).groupby(bars["symbol"]).diff()
    assert np.nanmax(np.abs(raw_ret - actions_market.truth["ret"])) > 0.5  # raw prices jump


def test_ex_date_opens_follow_the_actions(actions_market: SimulatedMarket) -> None:
    bars, truth = actions_market.bars, actions_market.truth
    actions = _with_prev_close(bars, actions_market.corporate_actions)
    for row in actions.itertuples():
        on = (bars["symbol"] == row.symbol) & (bars["ts"].dt.date == row.ex_date)
        first = bars.index[on][0]
        expected = (row.prev_close / row.ratio - row.amount) * np.exp(truth["gap"][first])
        assert bars["open"][first] == pytest.approx(expected, rel=1e-12)
        if row.kind == "split":
            assert row.prev_close > ACTIONS.split_threshold
            assert row.amount == 0
        else:
            assert row.amount == pytest.approx(row.prev_close * 0.08 / 4, abs=0.0051)


def test_default_market_splits_and_pays_dividends_over_ten_years() -> None:
    market = simulate(SimulatorConfig(symbols=20, sessions=2520, interval="1d", seed=7))
    actions = market.corporate_actions
    assert set(actions["kind"]) == {"split", "dividend"}
    payers = actions.loc[actions["kind"] == "dividend", "symbol"].nunique()
    assert payers == 10  # dividend_fraction 0.5 of 20 symbols
    per_year = actions[actions["kind"] == "dividend"].groupby("symbol").size() / 10
    assert per_year.between(3.5, 4.1).all()  # quarterly
    assert (actions["source"] == "simulator").all()


# --------------------------------------------------------------------------- news


def test_news_moves_prices_in_the_direction_of_sentiment() -> None:
    market = simulate(SimulatorConfig(symbols=10, sectors=2, sessions=60, interval="1m"))
    news, bars, truth = market.news, market.bars, market.truth
    assert len(news) > 60
    assert list(news.columns) == list(NEWS_COLUMNS)
    assert news["id"].is_unique
    assert news["sentiment"].abs().max() <= 3.0
    assert (news["available_at"] - news["published_at"] == pd.Timedelta(minutes=1)).all()
    assert all(s in h for s, h in zip(news["symbols"], news["headline"], strict=True))
    assert (news["source"] == "simulator").all()
    assert (news["url"] == "").all()
    key = pd.MultiIndex.from_frame(bars[["symbol", "ts"]])
    rows = key.get_indexer(pd.MultiIndex.from_frame(news[["symbols", "published_at"]]))
    assert (rows >= 0).all()
    single = ~pd.Series(rows).duplicated(keep=False).to_numpy()
    jump = truth["jump"].to_numpy()[rows][single]
    sentiment = news["sentiment"].to_numpy()[single]
    assert (np.sign(jump) == np.sign(sentiment)).all()
    move = np.log(bars["close"] / bars["open"]).to_numpy()[rows][single]
    strong = np.abs(sentiment) > 1.0
    assert strong.sum() > 20
    assert np.mean(np.sign(move[strong]) == np.sign(sentiment[strong])) > 0.95
    no_news = np.ones(len(truth), dtype=bool)
    no_news[rows] = False
    assert (truth["jump"][no_news] == 0).all()


def test_headlines_follow_sentiment() -> None:
    news = simulate(SimulatorConfig(symbols=10, sectors=2, sessions=60, interval="5m")).news
    good = news.loc[news["sentiment"] > 1.5, "headline"]
    bad = news.loc[news["sentiment"] < -1.5, "headline"]
    assert len(good)
    assert len(bad)
    assert good.str.contains("soars|approves|record").all()
    assert bad.str.contains("plunges|probe|recalls").all()


# --------------------------------------------------------------------------- post-news drift

# A market with many stories and no other edge: any drift is the post-news drift.
NEWSY = SimulatorConfig(
    symbols=8, sectors=2, sessions=20, interval="5m", seed=11, alpha=0.0, params={"news_rate": 4}
)
# Recorded before the post-news drift existed: news ids and last closes of SMALL with more news.
REFERENCE = SMALL.model_copy(update={"params": MarketParams(news_rate=1.0)})
REFERENCE_IDS = [
    "6a2b10f061ebe3f2c8ff3fe6",
    "2a17ac49b05fb7cf3f838e71",
    "96610047c85d30da729c89c5",
    "30dcf6fbc4e4c27704ca26e1",
    "a3df4b9c15e23777f7f5219c",
    "7fb6c337906638daea1cd264",
    "11861d29a281976850bc6606",
    "911bf7a31ee03451cf8104a5",
    "ec5d15712cbcfcfa257fc1ce",
    "3b82b690b0151045d5241a2c",
    "0c115be9aeb944fb525bf9d2",
]
REFERENCE_CLOSES = [199.89847670357753, 47.21735048367698, 114.34682484083326, 27.75582818443455]


def _drifting(config: SimulatorConfig, drift: float, half_life: float = 6.0) -> SimulatorConfig:
    params = {**config.params.model_dump(), "news_drift": drift, "news_drift_half_life": half_life}
    return SimulatorConfig(**{**config.model_dump(), "params": params})


def _story_bars(market: SimulatedMarket) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each story's symbol index, bar index (counted over the whole history) and sentiment."""
    ts = market.bars["ts"].to_numpy().reshape(market.config.symbols, -1)[0]
    news = market.news
    symbol = news["symbols"].str.slice(3).astype(int).to_numpy()
    bar = np.searchsorted(ts, news["published_at"].to_numpy())
    assert (ts[bar] == news["published_at"].to_numpy()).all()
    return symbol, bar, news["sentiment"].to_numpy()


def _expected_state(market: SimulatedMarket) -> np.ndarray:
    """nu (symbols, T) from the news frame: a story at bar b adds S 2^(-(t - b - 1) / hl), t > b."""
    n, hl = market.config.symbols, market.config.params.news_drift_half_life
    state = np.zeros((n, len(market.bars) // n))
    for i, b, s in zip(*_story_bars(market), strict=True):
        state[i, b + 1 :] += s * 2.0 ** (-np.arange(state.shape[1] - b - 1) / hl)
    return state


def _by_symbol(market: SimulatedMarket, column: str) -> np.ndarray:
    return market.truth[column].to_numpy().reshape(market.config.symbols, -1)


def test_news_drift_zero_is_the_market_of_today() -> None:
    today = simulate(REFERENCE)
    off = simulate(_drifting(REFERENCE, 0.0, half_life=2.0))  # the half-life alone does nothing
    for frame in ("bars", "truth", "news", "corporate_actions", "symbols", "macro"):
        pd.testing.assert_frame_equal(getattr(off, frame), getattr(today, frame), check_exact=True)
    assert today.news["id"].tolist() == REFERENCE_IDS
    closes = today.bars.groupby("symbol")["close"].last().tolist()
    assert closes == pytest.approx(REFERENCE_CLOSES, rel=1e-12)


def test_news_drift_changes_prices_but_no_draw_and_no_news_id() -> None:
    off, on = simulate(REFERENCE), simulate(_drifting(REFERENCE, 0.5, half_life=2.0))
    pd.testing.assert_frame_equal(on.news, off.news, check_exact=True)
    assert on.news["id"].tolist() == REFERENCE_IDS
    for column in ("vol", "signal", "jump", "gap"):
        np.testing.assert_array_equal(on.truth[column], off.truth[column])
    assert not np.allclose(on.truth["drift"], off.truth["drift"])
    assert not np.allclose(on.bars["close"], off.bars["close"])
    pd.testing.assert_frame_equal(on.macro, off.macro)


def test_post_news_drift_halves_every_half_life_after_a_story() -> None:
    drift, half_life = 0.4, 3.0
    params = MarketParams(news_rate=1.0, news_drift=drift, news_drift_half_life=half_life)
    market = simulate(SMALL.model_copy(update={"alpha": 0.0, "sessions": 5, "params": params}))
    mu, vol = _by_symbol(market, "drift"), _by_symbol(market, "vol")
    symbol, bar, sentiment = _story_bars(market)
    checked = 0
    for i in range(market.config.symbols):
        mine = np.flatnonzero(symbol == i)
        if len(mine) < 2 or bar[mine[0]] == bar[mine[1]]:
            continue
        b, b_next, s = bar[mine[0]], bar[mine[1]], sentiment[mine[0]]
        assert (mu[i, : b + 1] == 0.0).all()  # nothing before the story is known
        k = np.arange(b_next - b)  # bars b + 1 .. b_next see this story only
        expected = drift * vol[i, b + 1 : b_next + 1] * s * 2.0 ** (-k / half_life)
        np.testing.assert_allclose(mu[i, b + 1 : b_next + 1], expected, rtol=1e-12)
        checked += 1
    assert checked >= 2
    np.testing.assert_allclose(mu, drift * vol * _expected_state(market), rtol=1e-9, atol=1e-18)


def test_post_news_drift_carries_across_sessions() -> None:
    params = {"news_rate": 1.0, "news_drift": 0.3}
    config = SimulatorConfig(
        symbols=4, sectors=2, sessions=30, interval="1h", seed=3, alpha=0.0, params=params
    )
    hourly = simulate(config)
    symbol, bar, _ = _story_bars(hourly)
    day = hourly.bars["ts"].dt.date.to_numpy().reshape(config.symbols, -1)[0]
    closing = np.append(day[1:] != day[:-1], False)  # the last bar of a session but the last
    last = closing[bar]
    assert last.sum() >= 3
    mu, vol = _by_symbol(hourly, "drift"), _by_symbol(hourly, "vol")
    state = _expected_state(hourly)  # counts bars across nights as if they were consecutive
    for i, b in zip(symbol[last], bar[last], strict=True):
        assert mu[i, b + 1] == pytest.approx(0.3 * vol[i, b + 1] * state[i, b + 1], rel=1e-9)
        assert state[i, b + 1] != pytest.approx(state[i, b] * 2.0 ** (-1 / 6), abs=1e-6)
    # daily bars: each bar closes a session, and the story's full sentiment reaches the next one
    daily = simulate(_drifting(SMALL.model_copy(update={"interval": "1d", "sessions": 60}), 0.3))
    symbol, bar, sentiment = _story_bars(daily)
    first = np.unique(symbol, return_index=True)[1]
    mu, vol, signal = (_by_symbol(daily, c) for c in ("drift", "vol", "signal"))
    news_mu = mu - daily.config.alpha * vol * signal
    assert len(first) >= 3
    for i, b, s in zip(symbol[first], bar[first], sentiment[first], strict=True):
        assert np.abs(news_mu[i, : b + 1]).max() < 1e-15
        assert news_mu[i, b + 1] == pytest.approx(0.3 * vol[i, b + 1] * s, rel=1e-9)


def _forward_sums(market: SimulatedMarket, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Each story's sentiment and the sum of its symbol's ret over the next ``horizon`` bars."""
    symbol, bar, sentiment = _story_bars(market)
    ret = _by_symbol(market, "ret")
    keep = bar + horizon < ret.shape[1]
    total = np.concatenate([np.zeros((ret.shape[0], 1)), np.cumsum(ret, axis=1)], axis=1)
    i, b = symbol[keep], bar[keep]
    return sentiment[keep], total[i, b + horizon + 1] - total[i, b + 1]


@pytest.mark.parametrize(("drift", "planted"), [(0.3, True), (0.0, False)])
def test_post_news_drift_can_be_learned_from_sentiment(drift: float, planted: bool) -> None:
    sentiment, forward = _forward_sums(simulate(_drifting(NEWSY, drift)), horizon=6)
    assert len(sentiment) > 500
    up, down = forward[sentiment > 0], forward[sentiment < 0]
    diff = up.mean() - down.mean()
    t = diff / np.sqrt(up.var(ddof=1) / len(up) + down.var(ddof=1) / len(down))
    if planted:
        assert t > 4.0
        assert np.corrcoef(sentiment, forward)[0, 1] > 0.2
    else:
        assert abs(t) < 3.0


def test_post_news_drift_keeps_history_a_prefix_and_live_equal() -> None:
    config = _drifting(NEWSY.model_copy(update={"sessions": 3}), 0.3)
    short, long = simulate(config), simulate(config.model_copy(update={"sessions": 6}))
    keep = long.bars["ts"] <= short.bars["ts"].max()
    pd.testing.assert_frame_equal(short.truth, long.truth[keep].reset_index(drop=True))
    batches, _ = _collect(SimulatorSource(config, speed=1e9), 30)
    live = pd.concat([b.bars for b in batches], ignore_index=True)
    expected = long.bars[long.bars["ts"].isin(live["ts"])]
    expected = expected.sort_values(["ts", "symbol"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(live, expected)


# --------------------------------------------------------------------------- Source


def test_source_protocols_and_describe() -> None:
    source = SimulatorSource(SMALL)
    assert isinstance(source, Source)
    assert isinstance(source, LiveSource)
    assert source.name == "simulator"
    assert source.total() == 4
    described = source.describe()
    assert json.loads(json.dumps(described))["interval"] == "5m"
    assert described["config_id"] == SMALL.config_id


def test_fetch_yields_one_batch_per_symbol(actions_market: SimulatedMarket) -> None:
    source = SimulatorSource(ACTIONS_CONFIG)
    batches = list(source.fetch())
    assert [b.label for b in batches] == [f"SIM0{i}" for i in range(6)]
    assert batches[0].symbols is not None
    assert all(b.symbols is None for b in batches[1:])
    assert set(batches[0].symbols["kind"]) == {"simulated"}
    pd.testing.assert_frame_equal(
        pd.concat([b.bars for b in batches], ignore_index=True), actions_market.bars
    )
    assert sum(len(b.corporate_actions) for b in batches) == len(actions_market.corporate_actions)
    assert sum(len(b.news) for b in batches) == len(actions_market.news)
    assert all((b.bars["symbol"] == b.label).all() for b in batches)


def test_fetch_since_skips_what_is_stored(actions_market: SimulatedMarket) -> None:
    cut = pd.Timestamp("2025-06-02 15:00", tz="UTC")
    batches = {b.label: b for b in SimulatorSource(ACTIONS_CONFIG).fetch(since={"SIM01": cut})}
    assert batches["SIM01"].bars["ts"].min() > cut
    assert (batches["SIM01"].news["published_at"] > cut).all()
    assert (
        pd.to_datetime(batches["SIM01"].corporate_actions["ex_date"]) > cut.tz_localize(None)
    ).all()
    full = actions_market.bars
    expected = full[(full["symbol"] == "SIM01") & (full["ts"] > cut)].reset_index(drop=True)
    pd.testing.assert_frame_equal(batches["SIM01"].bars, expected)
    assert len(batches["SIM00"].bars) == (full["symbol"] == "SIM00").sum()
    naive = {"SIM01": cut.tz_localize(None)}
    bars = next(b for b in SimulatorSource(ACTIONS_CONFIG).fetch(since=naive) if b.label == "SIM01")
    pd.testing.assert_frame_equal(bars.bars, expected)


# --------------------------------------------------------------------------- live


def test_live_stream_continues_history_with_the_same_bars() -> None:
    config = ACTIONS_CONFIG.model_copy(update={"sessions": 5})
    source = SimulatorSource(config, speed=3600.0)
    batches, naps = _collect(source, 70)
    history = simulate(config)
    longer = simulate(config.model_copy(update={"sessions": 20}))
    live = pd.concat([b.bars for b in batches], ignore_index=True)
    assert live["ts"].min() > history.bars["ts"].max()
    assert [b.label for b in batches] == [t.isoformat() for t in live["ts"].unique()]
    expected = longer.bars[longer.bars["ts"].isin(live["ts"])]
    expected = expected.sort_values(["ts", "symbol"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(live, expected)
    # one real second per simulated hour, a half hour for the short closing bar
    assert set(naps) <= {1.0, 0.5}
    assert len(naps) == 70
    assert 0.5 in naps
    assert batches[0].symbols is not None
    assert all(b.symbols is None for b in batches[1:])
    news = pd.concat([b.news for b in batches], ignore_index=True)
    window = longer.news[longer.news["published_at"].isin(live["ts"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        news.sort_values(["published_at", "symbols"]).reset_index(drop=True), window
    )
    acts = pd.concat([b.corporate_actions for b in batches if b.corporate_actions is not None])
    days = set(live["ts"].dt.date)
    window = longer.corporate_actions[longer.corporate_actions["ex_date"].isin(days)]
    assert len(window) > 0
    pd.testing.assert_frame_equal(acts.reset_index(drop=True), window.reset_index(drop=True))


def test_live_stream_resumes_after_since() -> None:
    """Resuming inside the history replays it from the newest stored time on."""
    config = SimulatorConfig(symbols=3, sectors=1, sessions=4, interval="30m", seed=5)
    since = {
        "SIM00": pd.Timestamp("2025-01-03 16:00", tz="UTC"),
        "SIM01": pd.Timestamp("2025-01-03 15:00", tz="UTC"),
    }
    batches, _ = _collect(SimulatorSource(config), 40, since=since, speed=1e9)
    live = pd.concat([b.bars for b in batches], ignore_index=True)
    assert live["ts"].min() == pd.Timestamp("2025-01-03 16:30", tz="UTC")
    history = simulate(config.model_copy(update={"sessions": 8})).bars
    expected = history[history["ts"].isin(live["ts"])]
    expected = expected.sort_values(["ts", "symbol"], kind="stable").reset_index(drop=True)
    assert len(expected) == len(live) == 120
    pd.testing.assert_frame_equal(live, expected)


# --------------------------------------------------------------------------- macro

MACRO = SimulatorConfig(symbols=2, sectors=1, sessions=250, interval="1d", seed=3)


@pytest.fixture(scope="module")
def macro_market() -> SimulatedMarket:
    return simulate(MACRO)


def _span(market: SimulatedMarket) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first bar's open and the last bar's close (1d bars: 16:00 New York)."""
    last = market.bars["ts"].max().tz_localize(None) + pd.Timedelta(hours=16)
    return market.bars["ts"].min(), last.tz_localize("America/New_York").tz_convert("UTC")


def test_macro_series_come_with_the_market_deterministically(
    macro_market: SimulatedMarket,
) -> None:
    macro = macro_market.macro
    assert SimulatorConfig().macro is True
    assert list(macro.columns) == list(MACRO_COLUMNS)
    assert set(macro["series_id"]) == {"SIM_CPI", "SIM_GDP", "SIM_RATE"}
    assert set(macro["source"]) == {"simulator"}
    assert macro["realtime_start"].is_monotonic_increasing
    assert not macro.duplicated(["series_id", "period", "realtime_start"]).any()
    pd.testing.assert_frame_equal(macro, simulate(MACRO).macro)
    other = simulate(MACRO.model_copy(update={"seed": 4})).macro
    assert not np.allclose(macro["value"], other["value"])


def test_macro_values_are_plausible(macro_market: SimulatedMarket) -> None:
    value = macro_market.macro.groupby("series_id")["value"]
    assert value.min().between(0.0, 1e6).all()
    cpi = macro_market.macro.query("series_id == 'SIM_CPI'").drop_duplicates("period", keep="last")
    monthly = cpi["value"].pct_change().dropna()
    assert monthly.abs().max() < 0.02
    assert 0.0 < monthly.mean() < 0.006
    rate = macro_market.macro.query("series_id == 'SIM_RATE'")["value"]
    assert rate.between(0.0, 10.0).all()
    gdp = macro_market.macro.query("series_id == 'SIM_GDP'")["value"]
    assert gdp.between(20_000, 50_000).all()


def test_each_period_is_released_after_it_ends_then_revised(
    macro_market: SimulatedMarket,
) -> None:
    macro = macro_market.macro
    period = pd.to_datetime(macro["period"])
    months = macro["series_id"].map({"SIM_CPI": 1, "SIM_GDP": 3, "SIM_RATE": 1})
    ends = [p + pd.DateOffset(months=m) for p, m in zip(period, months, strict=True)]
    released = macro["realtime_start"].dt.tz_localize(None)
    assert (released >= pd.DatetimeIndex(ends)).all()
    vintages = macro.groupby(["series_id", "period"])["realtime_start"].agg(["count", "min", "max"])
    assert vintages["count"].max() == 2
    both = vintages[vintages["count"] == 2]
    assert len(both) >= 20
    assert ((both["max"] - both["min"]) >= pd.Timedelta(days=29, hours=23)).all()  # DST
    revised = macro.groupby(["series_id", "period"])["value"].agg(lambda v: v.nunique() > 1)
    assert revised.groupby(level=0).sum().min() >= 2  # every series revises some values


def test_macro_is_released_at_new_york_times_on_weekdays(macro_market: SimulatedMarket) -> None:
    macro = macro_market.macro
    local = macro["realtime_start"].dt.tz_convert("America/New_York")
    clock = local.dt.strftime("%H:%M").groupby(macro["series_id"]).unique()
    assert {k: sorted(v) for k, v in clock.items()} == {
        "SIM_CPI": ["08:30"],
        "SIM_GDP": ["08:30"],
        "SIM_RATE": ["09:00"],
    }
    assert (local.dt.day_of_week < 5).all()
    assert set(local.dt.tz_convert("UTC").dt.strftime("%H:%M")) == {
        "12:30",
        "13:30",
        "13:00",
        "14:00",
    }  # summer and winter time


def test_nothing_is_released_outside_the_simulated_sessions(
    macro_market: SimulatedMarket,
) -> None:
    first, last = _span(macro_market)
    released = macro_market.macro["realtime_start"]
    assert released.min() > first
    assert released.max() <= last
    short = simulate(MACRO.model_copy(update={"sessions": 100}))
    first, last = _span(short)
    assert short.macro["realtime_start"].max() <= last
    expected = macro_market.macro[macro_market.macro["realtime_start"] <= last]
    pd.testing.assert_frame_equal(short.macro, expected.reset_index(drop=True))  # a prefix


def test_macro_changes_no_bar_news_or_action(actions_market: SimulatedMarket) -> None:
    off = simulate(ACTIONS_CONFIG.model_copy(update={"macro": False}))
    for frame in ("bars", "truth", "news", "corporate_actions", "symbols"):
        pd.testing.assert_frame_equal(getattr(off, frame), getattr(actions_market, frame))
    assert off.macro.empty
    assert list(off.macro.columns) == list(MACRO_COLUMNS)
    assert len(actions_market.macro) > 0


def test_fetch_carries_the_macro_vintages_once(macro_market: SimulatedMarket) -> None:
    batches = list(SimulatorSource(MACRO).fetch())
    pd.testing.assert_frame_equal(batches[0].macro, macro_market.macro)
    assert all(b.macro is None for b in batches[1:])
    off = list(SimulatorSource(MACRO.model_copy(update={"macro": False})).fetch())
    assert all(b.macro is None for b in off)
    for on_batch, off_batch in zip(batches, off, strict=True):
        pd.testing.assert_frame_equal(on_batch.bars, off_batch.bars)
        pd.testing.assert_frame_equal(on_batch.news, off_batch.news)


def test_live_macro_arrives_with_the_first_bar_closing_after_its_release() -> None:
    config = SimulatorConfig(symbols=2, sectors=1, sessions=20, interval="1h", seed=3)
    batches, _ = _collect(SimulatorSource(config), 7 * 45)
    longer = simulate(config.model_copy(update={"sessions": 70}))
    live = [b for b in batches if b.macro is not None]
    assert len(live) >= 3
    got = pd.concat([b.macro for b in live], ignore_index=True)
    history_end = _span(simulate(config))[1]
    window = longer.macro[
        (longer.macro["realtime_start"] > history_end)
        & (longer.macro["realtime_start"] <= pd.Timestamp(batches[-1].label) + pd.Timedelta("1h"))
    ]
    pd.testing.assert_frame_equal(got, window.reset_index(drop=True))
    opens = [pd.Timestamp(b.label) for b in batches]
    for i, b in enumerate(batches):  # released since the bar before closed, by this one's close
        if b.macro is not None:
            assert (b.macro["realtime_start"] > (opens[i - 1] if i else history_end)).all()
            assert (b.macro["realtime_start"] <= opens[i] + pd.Timedelta("1h")).all()
    off, _ = _collect(SimulatorSource(config.model_copy(update={"macro": False})), 40)
    assert all(b.macro is None for b in off)
    for on_batch, off_batch in zip(batches, off, strict=False):
        pd.testing.assert_frame_equal(on_batch.bars, off_batch.bars)
