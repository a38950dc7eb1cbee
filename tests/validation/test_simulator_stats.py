"""Statistical validation of the market simulator: stylised facts and the planted edge.

Each property is checked against a control in which the simulator is switched to a market
without that property, so that the statistic is shown to be able to fail.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nexus.sources.simulator import MarketParams, SimulatedMarket, SimulatorConfig, simulate

Z99 = stats.norm.ppf(0.995)  # two-sided 99%
# GARCH alone: no regimes, no intraday shape, no news jumps.
GARCH_ONLY = MarketParams(regime_enter=0.0, vol_u_amplitude=0.0, news_rate=0.0)
NO_GARCH = GARCH_ONLY.model_copy(update={"garch_a": 0.0, "garch_b": 0.0})
GAUSSIAN = NO_GARCH.model_copy(update={"dof": 1000.0, "overnight_ratio": 0.0})


def _market(seed: int = 1, **fields) -> SimulatedMarket:
    base = {"symbols": 20, "sectors": 4, "sessions": 100, "interval": "5m", "seed": seed}
    return simulate(SimulatorConfig(**{**base, **fields}))


def _by_symbol(frame: pd.DataFrame, column: str, n: int) -> np.ndarray:
    """A column as an array of shape (n_symbols, T) (frames are sorted by symbol then ts)."""
    return frame[column].to_numpy().reshape(n, -1)


def _acf(x: np.ndarray, lag: int) -> float:
    x = x - x.mean()
    return float(x[:-lag] @ x[lag:] / (x @ x))


def _ljung_box(x: np.ndarray, lags: int) -> float:
    """The Ljung-Box p-value for no autocorrelation at lags 1..``lags``."""
    n = len(x)
    q = n * (n + 2) * sum(_acf(x, k) ** 2 / (n - k) for k in range(1, lags + 1))
    return float(stats.chi2.sf(q, lags))


def _mean_abs_acf(market: SimulatedMarket, lags: range) -> np.ndarray:
    """Mean over symbols of the autocorrelation of |ret| at each lag, shape (len(lags),)."""
    absret = np.abs(_by_symbol(market.truth, "ret", market.config.symbols))
    return np.array([np.mean([_acf(x, lag) for x in absret]) for lag in lags])


def _slope(x: np.ndarray, y: np.ndarray, clusters: np.ndarray) -> tuple[float, float]:
    """OLS slope of ``y`` on ``x`` (with intercept) and its standard error clustered by time.

    Shocks are correlated across symbols at one time (market and sector factors) but are
    martingale differences over time, so clustering by timestamp gives a valid error.
    """
    x, y = x - x.mean(), y - y.mean()
    sxx = x @ x
    slope = (x @ y) / sxx
    score = np.bincount(clusters, weights=x * (y - slope * x))
    return float(slope), float(np.sqrt(score @ score) / sxx)


def _edge(market: SimulatedMarket) -> tuple[float, float]:
    """Slope and clustered error of the standardised intrabar return on the signal."""
    t = market.truth
    z = ((t["ret"] - t["gap"] - t["jump"]) / t["vol"]).to_numpy()
    clusters, _ = pd.factorize(t["ts"])
    return _slope(t["signal"].to_numpy(), z, clusters)


# --------------------------------------------------------------------------- stylised facts


def test_volatility_clusters() -> None:
    lags = range(1, 6)
    market = _market(params=GARCH_ONLY)
    bars_per_symbol = len(market.truth) // market.config.symbols
    bound = 3.0 / np.sqrt(bars_per_symbol)  # 3 SE of one symbol's ACF; the mean is tighter
    acf = _mean_abs_acf(market, lags)
    assert (acf > bound).all(), acf
    absret = np.abs(_by_symbol(market.truth, "ret", market.config.symbols))
    assert sum(_ljung_box(x, 5) < 0.01 for x in absret) >= 18
    control = _mean_abs_acf(_market(params=NO_GARCH), lags)
    assert (np.abs(control) < bound).all(), control


def test_returns_have_fat_tails() -> None:
    market = _market(params=GARCH_ONLY)
    ret = _by_symbol(market.truth, "ret", market.config.symbols)
    kurtosis = stats.kurtosis(ret, axis=1, fisher=False)
    assert (kurtosis > 3.5).all(), kurtosis
    t = market.truth
    shocks = ((t["ret"] - t["gap"] - t["drift"]) / t["vol"]).to_numpy()
    assert stats.kurtosis(shocks, fisher=False) > 4.0  # unit Student-t(5) mixture: about 6
    control = _market(params=GAUSSIAN).truth
    gaussian = ((control["ret"] - control["drift"]) / control["vol"]).to_numpy()
    assert abs(stats.kurtosis(gaussian, fisher=False) - 3.0) < 0.1


def _open_close_midday(market: SimulatedMarket) -> tuple[float, float, float]:
    bars = market.bars
    minutes = bars["ts"].dt.hour * 60 + bars["ts"].dt.minute
    session_open = minutes.groupby(bars["ts"].dt.date).transform("min")
    since_open = (minutes - session_open).to_numpy()
    full = bars.groupby(bars["ts"].dt.date)["ts"].transform("size").to_numpy() == 78 * 20
    volume = bars["volume"] / bars.groupby("symbol")["volume"].transform("mean")
    first = volume[full & (since_open < 30)].mean()
    last = volume[full & (since_open >= 360)].mean()
    midday = volume[full & (since_open >= 150) & (since_open < 240)].mean()
    return first, last, midday


def test_volume_is_u_shaped() -> None:
    first, last, midday = _open_close_midday(_market(sessions=40))
    assert first > 1.5 * midday
    assert last > 1.5 * midday
    flat = MarketParams(volume_u_amplitude=0.0)
    first, last, midday = _open_close_midday(_market(sessions=40, params=flat))
    assert 0.9 < first / midday < 1.1
    assert 0.9 < last / midday < 1.1


# --------------------------------------------------------------------------- the planted edge


def test_no_edge_and_no_autocorrelation_when_alpha_is_zero() -> None:
    market = _market(alpha=0.0, interval="1m", symbols=4, sectors=2)
    slope, se = _edge(market)
    assert abs(slope) < Z99 * se, (slope, se)
    t = market.truth
    standardised = _by_symbol(t.assign(z=t["ret"] / t["vol"]), "z", 4)
    p_values = [_ljung_box(z, 10) for z in standardised]
    assert min(p_values) > 0.01, p_values
    # the same statistic sees the edge when there is one (same seed, same shocks)
    edged = _market(alpha=0.1, interval="1m", symbols=4, sectors=2).truth
    standardised = _by_symbol(edged.assign(z=edged["ret"] / edged["vol"]), "z", 4)
    assert max(_ljung_box(z, 10) for z in standardised) < 0.01


@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_planted_edge_is_recovered_with_its_strength(alpha: float) -> None:
    slope, se = _edge(_market(alpha=alpha))
    assert abs(slope - alpha) < Z99 * se, (slope, se)
    assert slope > Z99 * se


def _hit_rate(market: SimulatedMarket) -> tuple[float, float]:
    """How often sign(signal) calls the sign of the intrabar return, and its clustered error."""
    t = market.truth
    move = (t["ret"] - t["gap"]).to_numpy()
    hit = (np.sign(t["signal"].to_numpy()) == np.sign(move)).astype(float)
    clusters, _ = pd.factorize(t["ts"])
    per_time = np.bincount(clusters, weights=hit - hit.mean())
    return float(hit.mean()), float(np.sqrt(per_time @ per_time) / len(hit))


def test_bayes_direction_rule_beats_a_coin_only_with_an_edge() -> None:
    """The Bayes rule sign(s_t) is right more often than not iff alpha > 0."""
    z999 = stats.norm.ppf(0.9995)
    rate, se = _hit_rate(_market(alpha=0.0))
    assert abs(rate - 0.5) < z999 * se, (rate, se)
    edged, edged_se = _hit_rate(_market(alpha=0.1))  # same seed: same shocks, plus the edge
    assert edged - 0.5 > z999 * edged_se, (edged, edged_se)
    assert edged - rate > 0.01


# --------------------------------------------------------------------------- post-news drift


def _post_news_state(market: SimulatedMarket) -> np.ndarray:
    """nu_t of every bar, rebuilt from the news frame, row for row like the truth frame.

    A story at bar ``b`` (counted across sessions) adds ``S 2^(-(t - b - 1) / hl)`` to
    every later bar ``t`` of its symbol; contributions below 2^-30 are dropped.
    """
    n, hl = market.config.symbols, market.config.params.news_drift_half_life
    ts = market.truth["ts"].to_numpy().reshape(n, -1)[0]
    state = np.zeros((n, len(ts)))
    weights = 2.0 ** (-np.arange(int(30 * hl) + 1) / hl)
    news = market.news
    symbol = news["symbols"].str.slice(3).astype(int).to_numpy()
    bars = np.searchsorted(ts, news["published_at"].to_numpy())
    for i, b, s in zip(symbol, bars, news["sentiment"].to_numpy(), strict=True):
        after = state[i, b + 1 : b + 1 + len(weights)]
        after += s * weights[: len(after)]
    return state.ravel()


@pytest.mark.parametrize("news_drift", [0.0, 0.1])
def test_post_news_drift_is_recovered_with_its_strength(news_drift: float) -> None:
    """The slope of the standardised return on the news state is ``news_drift`` (0: none)."""
    params = MarketParams(news_rate=2.0, news_drift=news_drift)
    market = _market(alpha=0.0, params=params)
    t = market.truth
    z = ((t["ret"] - t["gap"] - t["jump"]) / t["vol"]).to_numpy()
    clusters, _ = pd.factorize(t["ts"])
    slope, se = _slope(_post_news_state(market), z, clusters)
    assert abs(slope - news_drift) < Z99 * se, (slope, se)
    if news_drift > 0:
        assert slope > Z99 * se
