"""News and macro features: hand values, batch == online, point in time, bad input."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from nexus.errors import DataError
from nexus.features import (
    NEWS_FEATURES,
    MacroFeatureParams,
    NewsFeatureParams,
    OnlineMacroFeatures,
    OnlineNewsFeatures,
    macro_features,
    news_features,
)
from nexus.sources.simulator import MarketParams, SimulatorConfig, simulate

TOL = 1e-9
T0 = pd.Timestamp("2025-03-07 14:30", tz="UTC")
US = pd.Timedelta(microseconds=1)
SHORT = NewsFeatureParams(
    half_life=timedelta(minutes=30),
    count_window=timedelta(minutes=20),
    norm_window=timedelta(hours=3),
)


def _news(times: list, symbols: list[str], sentiment: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"available_at": pd.DatetimeIndex(times), "symbols": symbols, "sentiment": sentiment}
    )


def _rows(symbols: list[str], asof: list) -> pd.DataFrame:
    return pd.DataFrame({"symbol": symbols, "asof": pd.DatetimeIndex(asof)})


# ---------------------------------------------------------------------- hand values


def test_one_half_life_halves_the_sum() -> None:
    news = _news([T0, T0 + pd.Timedelta("1h")], ["AAA", "AAA"], [0.5, -0.2])
    asof = [T0 - US, T0, T0 + pd.Timedelta("1h"), T0 + pd.Timedelta("3h")]
    out = news_features(_rows(["AAA"] * 4, asof), news)
    expected = [0.0, 0.5, 0.5 * 2**-0.5 - 0.2, 0.5 * 2**-1.5 - 0.2 * 2**-1]
    np.testing.assert_allclose(out["news_sentiment"], expected, rtol=0, atol=1e-15)
    one = news_features(_rows(["AAA"], [T0 + pd.Timedelta("2h")]), news.iloc[:1])
    assert one["news_sentiment"].item() == 0.25  # exactly one half-life: half of 0.5


def test_count_window_edges_and_surprise() -> None:
    asof = T0 + pd.Timedelta("2h")
    hour = pd.Timedelta("1h")
    times = [asof, asof - hour + US, asof - hour, asof + US, asof - pd.Timedelta(days=3)]
    out = news_features(_rows(["AAA"], [asof]), _news(times, ["AAA"] * 5, [0.1] * 5))
    count = out["news_count"].item()
    assert count == 2.0  # at asof counts; at asof - 1h does not; after asof does not
    expected = 4 / 120  # 4 items in (asof - 5 days, asof], scaled to one hour
    assert out["news_surprise"].item() == pytest.approx((2 - expected) / math.sqrt(expected + 1))
    assert list(out.columns) == list(NEWS_FEATURES)


def test_items_count_for_each_symbol_and_unscored_items_only_count() -> None:
    news = _news([T0, T0], ["AAA, BBB", "BBB"], [0.4, np.nan])
    rows = _rows(["BBB", "AAA", "CCC", "BBB"], [T0, T0, T0, T0 - US])
    out = news_features(rows.set_index(pd.Index([7, 3, 5, 1])), news)
    assert out.index.tolist() == [7, 3, 5, 1]  # the rows' order and index
    assert out["news_sentiment"].tolist() == [0.4, 0.4, 0.0, 0.0]
    assert out["news_count"].tolist() == [2.0, 1.0, 0.0, 0.0]


def test_empty_news_gives_zeros() -> None:
    empty = _news([], [], [])
    out = news_features(_rows(["AAA", "BBB"], [T0, T0]), empty)
    assert (out.to_numpy() == 0.0).all()
    online = OnlineNewsFeatures().warm(empty, T0)
    assert (online.at(T0, ["AAA"]) == 0.0).all()


# ---------------------------------------------------------------------- batch == online


@pytest.fixture(scope="module")
def sim() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows (each 1m bar's close) and news of 3 symbols x 4 sessions, ~25 items a session."""
    config = SimulatorConfig(
        symbols=3, sessions=4, interval="1m", seed=11, params=MarketParams(news_rate=25.0)
    )
    market = simulate(config)
    rows = pd.DataFrame(
        {"symbol": market.bars["symbol"], "asof": market.bars["ts"] + pd.Timedelta("1min")}
    )
    return rows, market.news


def _stream(online: OnlineNewsFeatures, rows: pd.DataFrame, news: pd.DataFrame) -> np.ndarray:
    """Feed each item once available and ask at each asof; rows in the order of ``rows``."""
    news = news.sort_values("available_at", kind="stable")
    avail = pd.DatetimeIndex(news["available_at"])
    out = np.empty((len(rows), 3))
    done = 0
    for asof, group in rows.groupby("asof", sort=True):
        upto = int(avail.searchsorted(asof, side="right"))
        if upto > done:
            online.add(news.iloc[done:upto])
            done = upto
        out[rows.index.get_indexer(group.index)] = online.at(asof, group["symbol"].tolist())
    return out


def _close(a: np.ndarray, b: np.ndarray) -> None:
    np.testing.assert_allclose(a, b, rtol=0, atol=TOL)


@pytest.mark.parametrize("params", [NewsFeatureParams(), SHORT])
def test_online_equals_batch_on_simulated_news(
    sim: tuple[pd.DataFrame, pd.DataFrame], params: NewsFeatureParams
) -> None:
    rows, news = sim
    batch = news_features(rows, news, params).to_numpy()
    assert len(news) > 200  # the check has teeth
    assert (batch[:, 1] > 0).mean() > 0.05
    assert np.abs(batch[:, 0]).max() > 0.5
    _close(_stream(OnlineNewsFeatures(params), rows, news), batch)


def test_warm_then_stream_equals_batch(sim: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    rows, news = sim
    cut = rows["asof"].sort_values().unique()[800]  # mid-history, in the second session
    stored = news[(news["available_at"] <= cut) & (news["available_at"] > cut - SHORT.history)]
    online = OnlineNewsFeatures(SHORT).warm(stored, cut)
    later = rows[rows["asof"] > cut].reset_index(drop=True)
    out = _stream(online, later, news[news["available_at"] > cut])
    _close(out, news_features(later, news, SHORT).to_numpy())


def test_items_added_early_leak_nothing(sim: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    rows, news = sim
    online = OnlineNewsFeatures(SHORT)
    online.add(news.sample(frac=1.0, random_state=1))  # every item up front, shuffled
    out = np.empty((len(rows), 3))
    for asof, group in rows.groupby("asof", sort=True):
        out[rows.index.get_indexer(group.index)] = online.at(asof, group["symbol"].tolist())
    _close(out, news_features(rows, news, SHORT).to_numpy())


def test_a_late_item_gets_its_decayed_weight_from_then_on() -> None:
    online = OnlineNewsFeatures()
    assert online.at(T0 + pd.Timedelta("1h"), ["AAA"]).tolist() == [[0.0, 0.0, 0.0]]
    online.add(_news([T0], ["AAA"], [0.5]))  # available at T0, arrives an hour late
    later = T0 + pd.Timedelta("2h")
    expected = news_features(_rows(["AAA"], [later]), _news([T0], ["AAA"], [0.5])).to_numpy()
    np.testing.assert_allclose(online.at(later, ["AAA"]), expected, rtol=0, atol=1e-15)
    assert expected[0, 0] == 0.25


def test_online_refuses_to_go_back() -> None:
    online = OnlineNewsFeatures()
    online.at(T0, ["AAA"])
    with pytest.raises(DataError, match="non-decreasing"):
        online.at(T0 - US, ["AAA"])


# ---------------------------------------------------------------------- point in time


@st.composite
def news_cases(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    """Random items and rows, a cut, and the items changed after the cut."""
    sentiments = st.one_of(st.floats(-1, 1), st.just(math.nan))
    item = st.tuples(st.integers(0, 600), st.sampled_from(["A", "B", "A,B"]), sentiments)
    items = draw(st.lists(item, max_size=40))
    asof = draw(st.lists(st.integers(0, 660), min_size=1, max_size=30))
    cut = draw(st.integers(0, 660))
    later = draw(st.lists(st.tuples(st.integers(cut + 1, 700), st.sampled_from("AB"), sentiments)))
    changed = [
        (m, s, draw(sentiments) if m > cut else x)
        for m, s, x in items
        if m <= cut or draw(st.booleans())
    ] + later

    def frame(cases: list[tuple[int, str, float]]) -> pd.DataFrame:
        times = [T0 + pd.Timedelta(minutes=m) for m, _, _ in cases]
        return _news(times, [s for _, s, _ in cases], [x for _, _, x in cases])

    symbols = draw(st.lists(st.sampled_from("ABC"), min_size=len(asof), max_size=len(asof)))
    rows = _rows(symbols, [T0 + pd.Timedelta(minutes=m) for m in asof])
    return rows, frame(items), frame(changed), T0 + pd.Timedelta(minutes=cut)


@settings(max_examples=80, deadline=None)
@given(news_cases())
def test_news_after_asof_never_changes_features(
    case: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.Timestamp],
) -> None:
    rows, news, changed, cut = case
    before = (rows["asof"] <= cut).to_numpy()
    a = news_features(rows, news, SHORT).to_numpy()[before]
    b = news_features(rows, changed, SHORT).to_numpy()[before]
    assert np.array_equal(a, b)  # exactly: not one bit moves


# ---------------------------------------------------------------------- macro

JAN, FEB, MAR = "2025-01-01", "2025-02-01", "2025-03-01"


def _macro(rows: list[tuple[str, str, pd.Timestamp, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["series_id", "period", "realtime_start", "value"])


def test_a_revision_counts_only_from_its_realtime_start() -> None:
    t1, t2, t3 = T0, T0 + pd.Timedelta(days=10), T0 + pd.Timedelta(days=20)
    macro = _macro(
        [
            ("X", JAN, t1, 10.0),
            ("X", FEB, t2, 11.0),
            ("X", MAR, t3 + pd.Timedelta(days=5), 13.0),
            ("X", FEB, t3, 12.0),  # the revision of February
        ]
    )
    params = MacroFeatureParams(series=["X"], changes=1)
    asof = pd.DatetimeIndex([t1 - US, t1, t2, t3 - US, t3, t3 + pd.Timedelta(days=5)])
    out = macro_features(asof, macro, params)
    assert list(out.columns) == ["macro_x_level", "macro_x_change", "macro_x_surprise"]
    expected = [
        [np.nan, np.nan, np.nan],
        [10.0, np.nan, np.nan],
        [11.0, 1.0, np.nan],
        [11.0, 1.0, np.nan],  # the first estimate, until the revision is public
        [12.0, 2.0, np.nan],
        [13.0, 1.0, 1.0 - 2.0],
    ]
    np.testing.assert_array_equal(out.to_numpy(), expected)
    online = OnlineMacroFeatures(params)
    online.add(macro.iloc[::-1])  # all at once, in reverse: each counts from its release
    np.testing.assert_array_equal(np.vstack([online.at(t) for t in asof]), expected)


def test_a_late_first_estimate_does_not_undo_a_revision() -> None:
    online = OnlineMacroFeatures(MacroFeatureParams(series=["X"]))
    online.add(_macro([("X", JAN, T0 + pd.Timedelta(days=30), 10.5)]))  # the revision
    assert online.at(T0 + pd.Timedelta(days=31))[0] == 10.5
    online.add(_macro([("X", JAN, T0, 10.0)]))  # the first estimate, arriving late
    assert online.at(T0 + pd.Timedelta(days=32))[0] == 10.5


def test_surprise_is_the_change_less_the_mean_of_the_previous_changes() -> None:
    values = [1.0, 2.0, 4.0, 5.0, 9.0]
    months = pd.date_range("2024-01-01", periods=5, freq="MS")
    macro = _macro(
        [
            ("R", m, T0 + pd.Timedelta(days=i), v)
            for i, (m, v) in enumerate(zip(months, values, strict=True))
        ]
    )
    out = macro_features(
        [T0 + pd.Timedelta(days=4)], macro, MacroFeatureParams(series=["R"], changes=3)
    )
    assert out.to_numpy().tolist() == [[9.0, 4.0, 4.0 - (1.0 + 2.0 + 1.0) / 3]]


@pytest.fixture(scope="module")
def sim_macro() -> pd.DataFrame:
    return simulate(SimulatorConfig(symbols=1, sessions=250, interval="1d", seed=3)).macro


def test_macro_online_equals_batch_on_simulated_vintages(sim_macro: pd.DataFrame) -> None:
    params = MacroFeatureParams(series=["SIM_CPI", "SIM_GDP", "SIM_RATE", "NOPE"], changes=2)
    stamps = pd.DatetimeIndex(sim_macro["realtime_start"].unique())
    grid = pd.date_range(stamps.min() - pd.Timedelta(days=1), stamps.max(), freq="6h")
    asof = grid.append([stamps, stamps - US]).sort_values()
    batch = macro_features(asof, sim_macro, params).to_numpy()
    assert np.isfinite(batch[-1, :9]).all()
    assert np.isnan(batch[:, 9:]).all()
    online = OnlineMacroFeatures(params)
    rows, done = [], 0
    for t in asof:  # each vintage added once public
        fresh = sim_macro[(sim_macro.realtime_start <= t)].iloc[done:]
        if len(fresh):
            online.add(fresh)
            done += len(fresh)
        rows.append(online.at(t))
    np.testing.assert_array_equal(np.vstack(rows), batch)  # the same bits


@st.composite
def macro_cases(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    """Random vintages of two series, a cut, and the vintages changed after the cut."""
    vintage = st.tuples(
        st.sampled_from(["X", "Y"]),
        st.integers(0, 8).map(lambda k: pd.Timestamp("2024-01-01") + pd.DateOffset(months=k)),
        st.integers(0, 100),
        st.floats(-10, 10),
    )
    items = draw(st.lists(vintage, max_size=30, unique_by=lambda v: v[:3]))
    cut = draw(st.integers(0, 100))
    kept = [v for v in items if v[2] <= cut or draw(st.booleans())]
    extra = [v for v in draw(st.lists(vintage, max_size=10)) if v[2] > cut]
    changed = list({v[:3]: v for v in kept + extra}.values())

    def frame(vs: list) -> pd.DataFrame:
        return _macro([(s, p, T0 + pd.Timedelta(days=d), x) for s, p, d, x in vs])

    return frame(items), frame(changed), T0 + pd.Timedelta(days=cut)


@settings(max_examples=80, deadline=None)
@given(macro_cases())
def test_vintages_after_asof_never_change_macro_features(
    case: tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp],
) -> None:
    macro, changed, cut = case
    asof = pd.date_range(T0 - pd.Timedelta(days=1), cut, freq="12h")
    params = MacroFeatureParams(series=["X", "Y"], changes=2)
    a = macro_features(asof, macro, params).to_numpy()
    b = macro_features(asof, changed, params).to_numpy()
    assert np.array_equal(a, b, equal_nan=True)


def test_macro_column_names_are_identifiers() -> None:
    params = MacroFeatureParams(series=["FRED:CPI-U", "gdp"])
    assert all(name.isidentifier() for name in params.names())
    assert params.names()[0] == "macro_fred_cpi_u_level"
    with pytest.raises(ValidationError):
        MacroFeatureParams(series=["A-B", "a_b"])  # the same columns twice
    with pytest.raises(ValidationError):
        MacroFeatureParams(series=["X"], changes=0)
    with pytest.raises(ValidationError):
        MacroFeatureParams(series=["X"], change=2)  # unknown field


def test_empty_macro_gives_nan() -> None:
    params = MacroFeatureParams(series=["X"])
    out = macro_features([T0], _macro([]), params)
    assert out.shape == (1, 3)
    assert out.isna().all().all()
    assert np.isnan(OnlineMacroFeatures(params).at(T0)).all()


# ---------------------------------------------------------------------- bad input


def test_missing_columns_are_named() -> None:
    news = _news([T0], ["AAA"], [0.1]).drop(columns="sentiment")
    with pytest.raises(DataError, match=r"lacks columns \['sentiment'\].*pass columns"):
        news_features(_rows(["AAA"], [T0]), news)
    with pytest.raises(DataError, match="asof"):
        news_features(pd.DataFrame({"symbol": ["AAA"]}), _news([], [], []))
    macro = _macro([("X", JAN, T0, 1.0)]).drop(columns="realtime_start")
    with pytest.raises(DataError, match="realtime_start"):
        macro_features([T0], macro, MacroFeatureParams(series=["X"]))


def test_times_that_are_not_utc_times_are_named() -> None:
    news = pd.DataFrame({"available_at": ["soon"], "symbols": ["AAA"], "sentiment": [0.1]})
    with pytest.raises(DataError, match=r"available_at.*pd\.to_datetime"):
        news_features(_rows(["AAA"], [T0]), news)
    with pytest.raises(DataError, match="asof"):
        news_features(pd.DataFrame({"symbol": ["AAA"], "asof": [None]}), _news([], [], []))
    macro = _macro([("X", JAN, "yesterday-ish", 1.0)])
    with pytest.raises(DataError, match="realtime_start"):
        macro_features([T0], macro, MacroFeatureParams(series=["X"]))
    with pytest.raises(DataError, match="asof"):
        OnlineNewsFeatures().at("not a time", ["AAA"])


def test_news_params_are_checked() -> None:
    with pytest.raises(ValidationError):
        NewsFeatureParams(count_window=timedelta(days=6))  # longer than the norm window
    with pytest.raises(ValidationError):
        NewsFeatureParams(halflife=timedelta(hours=1))
    assert NewsFeatureParams().history == timedelta(days=5)  # the norm window
    short_norm = NewsFeatureParams(norm_window=timedelta(hours=3))
    assert short_norm.history == timedelta(hours=80)  # 40 half-lives of 2 hours
