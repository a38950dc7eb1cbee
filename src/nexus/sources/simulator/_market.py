r"""The vectorised engine of the market simulator.

The model
---------
Symbols ``i = 0..n-1`` sit in sectors ``g(i) = i % G``. Sessions ``k = 0, 1, ...``
are the exchange sessions of the configured calendar from ``start`` on (holidays
skipped, half days shorter); session ``k`` holds bars ``t`` of the configured
interval (the last bar of a session is shorter when the interval does not divide
it; a ``1d`` bar is the whole session). Per symbol, drawn once from the seed:
annual volatility ``v_i ~ U[vol_min, vol_max]``, market loading
``b_i ~ U[beta_min, beta_max]``, sector loading ``c_i ~ U[sector_min, sector_max]``,
``d_i = sqrt(1 - b_i^2 - c_i^2)``, starting price (log-uniform), base volume
(log-uniform), whether it pays dividends and when.

Shocks. ``z ~ t(dof) * sqrt((dof - 2) / dof)`` are unit-variance Student-t draws,
independent across bars, the market, each sector and each symbol::

    eps_it = b_i z_mkt,t + c_i z_sec(g(i)),t + d_i z_i,t          (unit variance)

Volatility. ``h`` is a GARCH(1,1) on the standardised shocks with mean 1,
carried across bars, sessions and nights::

    h_it = (1 - a - b) + (a eps_i,t-1^2 + b) h_i,t-1
    sigma_it = v_i sqrt(m_t / (390 * 252)) * sqrt(h_it) * U(x_t; A_vol) * rho_k

``m_t`` is the bar's length in minutes (the session length for ``1d``), ``x_t`` the
bar's mid-point as a fraction of the session and
``U(x; A) = 1 + A ((2x - 1)^2 - 1/3)`` the intraday U-shape (mean 1 over the session;
``U = 1`` for ``1d`` bars). ``rho_k`` is 1 in the calm regime and ``turbulent_mult``
in the turbulent one: a market-wide two-state Markov chain that may switch at the
start of every session (calm -> turbulent with ``regime_enter``, back with
``regime_exit``; calm before the first session).

The planted signal. ``E`` is an EMA of the symbol's *past* shocks with
``lam = 1 - 2 / (span + 1)``, and ``k = sqrt((1 + lam) / (1 - lam))`` makes ``k E``
unit-variance::

    E_it = lam E_i,t-1 + (1 - lam) eps_it
    s_it = tanh(k E_i,t-1)                     (known before bar t opens)
    mu_it = alpha sigma_it s_it                (plus the post-news drift below)

News. Per symbol and session a Poisson(``news_rate``) number of items, each at a
uniformly drawn bar, with latent sentiment ``S ~ N(0, 1)`` clipped to [-3, 3]. The
bar's log price jumps by ``J = jump_scale * S * v_i / sqrt(252) * rho_k`` (summed when
several items hit one bar). The jump cannot be foreseen: ``E[J | past] = 0``. An item
is available at its bar's close. After it, the post-news state ``nu`` of its symbol
sums the sentiment of the symbol's earlier items ``e`` (at bars ``b_e``), each halving
every ``hl = news_drift_half_life`` bars, counted across sessions and nights as if the
bars were consecutive::

    nu_it = sum_{e: b_e < t} S_e 2^(-(t - b_e - 1) / hl)     (known before bar t opens)
    mu_it = alpha sigma_it s_it + news_drift sigma_it nu_it

so an item at bar ``b`` adds ``news_drift sigma S`` to the drift of bar ``b + 1`` (the
next session's first bar when ``b`` closes a session), half that ``hl`` bars later, and
so on. With ``news_drift = 0`` (the default) news is unforecastable; with
``news_drift > 0`` a model given the news sentiment can learn the post-news drift.

Regime shift. With ``config.shift`` the market changes from the first bar of
session ``K = shift.session`` on: for ``k >= K`` the edge's strength is ``alpha_k =
shift.alpha`` (the config's ``alpha`` when None; negative flips the planted effect)
and ``sigma_it`` is multiplied by ``shift.vol_scale``, after the GARCH recursion (``h``
is unchanged, so the factor holds exactly from the first changed bar on)::

    mu_it = alpha_k sigma_it s_it + news_drift sigma_it nu_it      (sigma_it scaled)

It draws nothing: sessions before ``K`` are those of the unshifted market, and after
it every draw, ``h``, ``s`` and ``nu`` are too. Gaps, jumps and volume do not change.

Returns. The bar's intrabar log return and its overnight gap::

    log(close_t / open_t) = mu_t + sigma_t eps_t + J_t
    gap_k = overnight_ratio * v_i / sqrt(252) * rho_k * eps_gap,ik     (first bar only)

``eps_gap`` mixes its own market, sector and symbol t-shocks like ``eps``. The truth
``ret`` of a bar is its close-to-close log return in the adjusted price series:
``ret = gap + mu + sigma eps + J`` (``gap = 0`` except on a session's first bar).
So ``E[ret | past] = mu_t = alpha sigma_t s_t + news_drift sigma_t nu_t``: with
``alpha = 0`` and ``news_drift = 0`` the log price is a martingale, and
``(ret - gap - J) / sigma = alpha s + news_drift nu + eps`` exactly (``alpha_k`` of
the bar's session under a regime shift).

Raw prices, splits and dividends. Within a session ``open_t = close_t-1``. A
session's first bar opens at ``(C / R - D) * exp(gap)``, where ``C`` is the previous
raw close, ``R`` the split ratio taking effect (1 if none) and ``D`` the cash
dividend going ex (0 if none). A split takes effect at the open after a session
whose raw close exceeds ``split_threshold`` (ratio 3 at ``split_far`` times the
threshold or more, else 2). A dividend payer goes ex on the first session on or
after its day of the month in each of its quarterly months, for
``D = round(C * dividend_yield / 4, 2)``; a split due on that session waits a
session. Backward adjustment (split factor ``1 / R``, dividend factor ``1 - D / C``,
as :func:`nexus.store.adjust_bars`) therefore gives log returns equal to ``ret``.
Raw volumes are in current shares: they grow by ``R`` at each split.

Ranges and volume. ``high = max(open, close) exp(hl_scale sigma |N|)`` and
``low = min(open, close) exp(-hl_scale sigma |N'|)``. Volume is
``V_i * splits so far * m_t * U(x_t; A_volume) * rho_k * (1 + volume_shock_beta |eps_t|)
* (1 + news_volume_boost * sum |S|) * exp(volume_noise N'' - volume_noise^2 / 2)``,
rounded to whole shares.

Determinism. The per-symbol constants come from the stream
``SeedSequence(seed, spawn_key=(0,))`` and session ``k`` draws everything from
``SeedSequence(seed, spawn_key=(1, k))``, in a fixed order; the state carried from
one session to the next (variance, EMA, post-news state, regime, last close, shares,
last date) is a function of the earlier sessions only. History of ``N`` sessions is
therefore a prefix of history of ``N + j`` sessions, and the live stream equals history.
The post-news state draws no random number: ``news_drift`` changes drifts and prices
(and so the splits and dividends that prices trigger), never a draw or a news item.

Macro series. With ``config.macro`` the market also publishes ``SIM_CPI``,
``SIM_GDP`` and ``SIM_RATE`` vintages (:mod:`nexus.sources.simulator._macro`),
drawn from streams of their own, so nothing above depends on them. History holds
those released after the first bar opens and by the last bar's close.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import islice
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.signal import lfilter

from nexus.domain import (
    ACTION_COLUMNS,
    MACRO_COLUMNS,
    NEWS_COLUMNS,
    Interval,
    Sessions,
    actions_frame,
    bars_frame,
    macro_frame,
    news_frame,
)
from nexus.errors import ConfigError
from nexus.sources.simulator._config import MarketParams, SimulatorConfig
from nexus.sources.simulator._macro import macro_of

__all__ = [
    "SOURCE",
    "TRUTH_COLUMNS",
    "SessionResult",
    "SimulatedMarket",
    "Universe",
    "actions_of",
    "bars_and_truth",
    "iter_sessions",
    "macro_between",
    "make_universe",
    "news_of",
    "simulate",
    "symbols_frame",
]

SOURCE = "simulator"
TRUTH_COLUMNS = ("symbol", "ts", "drift", "vol", "signal", "jump", "gap", "ret")
"""Columns of :attr:`SimulatedMarket.truth`."""

_DAY_MINUTES = 390.0
_YEAR_SESSIONS = 252.0
_CHUNK_DAYS = 366
_MINUTE = np.timedelta64(1, "m")
_TEMPLATES = (
    (
        "{s} plunges after slashing full-year guidance",
        "{s} faces regulatory probe into accounting",
        "{s} recalls flagship product",
    ),
    (
        "{s} misses quarterly earnings estimates",
        "Analysts downgrade {s} to sell",
        "{s} loses a major customer",
    ),
    (
        "{s} reaffirms outlook at investor day",
        "{s} names new chief financial officer",
        "{s} files routine quarterly report",
    ),
    (
        "{s} beats quarterly earnings estimates",
        "Analysts upgrade {s} to buy",
        "{s} wins a major supply contract",
    ),
    (
        "{s} soars after raising full-year guidance",
        "Regulator approves {s}'s flagship product",
        "{s} announces record buyback",
    ),
)
_SENTIMENT_EDGES = (-1.5, -0.5, 0.5, 1.5)


@dataclass(frozen=True, slots=True)
class Universe:
    """The per-symbol constants of a simulated market, each of shape (n,).

    ``names`` are the tickers, ``sector`` the sector index, ``vol_ann`` the annual
    volatility, ``beta``/``gamma``/``delta`` the market, sector and idiosyncratic
    loadings, ``price0`` the price before the first session, ``volume0`` the base
    volume in shares per minute, ``payer`` whether the symbol pays dividends,
    ``div_phase`` its quarterly months (``month % 3 == div_phase``), ``div_day`` the
    day of the month it goes ex, ``ema0`` the starting EMA of shocks.
    """

    names: np.ndarray
    sector: np.ndarray
    vol_ann: np.ndarray
    beta: np.ndarray
    gamma: np.ndarray
    delta: np.ndarray
    price0: np.ndarray
    volume0: np.ndarray
    payer: np.ndarray
    div_phase: np.ndarray
    div_day: np.ndarray
    ema0: np.ndarray

    @property
    def daily_vol(self) -> np.ndarray:
        """Daily volatility ``vol_ann / sqrt(252)``, shape (n,)."""
        return self.vol_ann / math.sqrt(_YEAR_SESSIONS)


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """The bars of one session.

    ``index`` counts sessions from the configured start; ``ts`` (B,) are bar open
    times and ``end`` (B,) bar close times (naive UTC ``datetime64[us]``);
    ``minutes`` (B,) bar lengths; ``position`` (B,) bar mid-points as a fraction of
    the session, or None for daily bars.
    """

    index: int
    day: date
    ts: np.ndarray
    end: np.ndarray
    minutes: np.ndarray
    position: np.ndarray | None


@dataclass(frozen=True, slots=True)
class _State:
    h: np.ndarray
    ema: np.ndarray
    post_news: np.ndarray
    regime: int
    close: np.ndarray
    shares: np.ndarray
    prev_day: date | None


@dataclass(frozen=True, slots=True)
class _Draws:
    regime_u: float
    gap_shock: np.ndarray
    shock: np.ndarray
    hl: np.ndarray
    volume: np.ndarray
    news_symbol: np.ndarray
    news_bar: np.ndarray
    news_sentiment: np.ndarray
    news_template: np.ndarray


@dataclass(frozen=True, slots=True)
class SessionResult:
    """Everything one session produced; bar arrays have shape (B, n).

    ``split`` (n,) is the split ratio effective at the session's open (1 if none)
    and ``dividend`` (n,) the cash dividend going ex (0 if none). News items are
    four arrays of shape (E,): symbol index, bar index, sentiment, template index.
    """

    info: SessionInfo
    regime: int
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    drift: np.ndarray
    vol: np.ndarray
    signal: np.ndarray
    jump: np.ndarray
    gap: np.ndarray
    ret: np.ndarray
    split: np.ndarray
    dividend: np.ndarray
    news_symbol: np.ndarray
    news_bar: np.ndarray
    news_sentiment: np.ndarray
    news_template: np.ndarray


@dataclass(frozen=True, slots=True)
class SimulatedMarket:
    """The history of a simulated market.

    Attributes
    ----------
    config : SimulatorConfig
        What was simulated.
    bars : DataFrame, shape (n * T, 9)
        Raw bars (``BAR_COLUMNS``, source ``"simulator"``), sorted by symbol then ts.
    truth : DataFrame, shape (n * T, 8)
        :data:`TRUTH_COLUMNS`, row for row like ``bars``: ``drift`` (mu_t = E[ret_t | past],
        with the post-news drift), ``vol``
        (sigma_t), ``signal`` (s_t), ``jump`` (J_t), ``gap`` (overnight gap, first bar
        of a session only) and ``ret`` (close-to-close adjusted log return,
        ``gap + drift + vol * eps + jump``).
    corporate_actions : DataFrame, shape (m, 6)
        ``ACTION_COLUMNS``: splits and cash dividends, sorted by ex_date then symbol.
    news : DataFrame, shape (e, 9)
        ``NEWS_COLUMNS``; ``sentiment`` is the latent sentiment that moved the price.
    symbols : DataFrame, shape (n, 5)
        ``symbol, calendar, kind, description, source``; kind ``"simulated"``.
    macro : DataFrame, shape (v, 5)
        ``MACRO_COLUMNS``: the vintages of the simulated macro series released
        after the first bar opens and by the last bar's close, by realtime_start;
        empty when ``config.macro`` is off.
    """

    config: SimulatorConfig
    bars: pd.DataFrame
    truth: pd.DataFrame
    corporate_actions: pd.DataFrame
    news: pd.DataFrame
    symbols: pd.DataFrame
    macro: pd.DataFrame


def simulate(config: SimulatorConfig) -> SimulatedMarket:
    """Simulate ``config.sessions`` sessions of history.

    Parameters
    ----------
    config : SimulatorConfig
        The market and the length of its history.

    Returns
    -------
    SimulatedMarket
        Deterministic given ``config``; a prefix of the same market with more sessions.

    Examples
    --------
    >>> m = simulate(SimulatorConfig(symbols=2, sectors=1, sessions=3, interval="1h"))
    >>> len(m.bars), m.bars["symbol"].unique().tolist()
    (42, ['SIM00', 'SIM01'])
    >>> bool((m.bars["high"] >= m.bars[["open", "close"]].max(axis=1)).all())
    True
    """
    universe = make_universe(config)
    results = list(islice(iter_sessions(config, universe), config.sessions))
    bars, truth = bars_and_truth(config, universe, results, order="symbol")
    return SimulatedMarket(
        config=config,
        bars=bars,
        truth=truth,
        corporate_actions=actions_of(universe, results),
        news=news_of(config, universe, results),
        symbols=symbols_frame(config, universe),
        macro=macro_between(config, results[0].info.ts[0], results[-1].info.end[-1]),
    )


# --------------------------------------------------------------------------- universe


def _symbol_names(n: int) -> np.ndarray:
    width = max(2, len(str(n - 1)))
    return np.array([f"SIM{i:0{width}d}" for i in range(n)])


def make_universe(config: SimulatorConfig) -> Universe:
    """Draw the per-symbol constants from the seed's universe stream.

    Parameters
    ----------
    config : SimulatorConfig
        The market (its seed, size and parameters).

    Returns
    -------
    Universe
        Arrays of shape (config.symbols,).
    """
    p, n = config.params, config.symbols
    rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(0,)))
    vol_ann = rng.uniform(p.vol_min, p.vol_max, n)
    beta = rng.uniform(p.beta_min, p.beta_max, n)
    gamma = rng.uniform(p.sector_min, p.sector_max, n)
    price0 = np.exp(rng.uniform(math.log(p.price_min), math.log(p.price_max), n))
    volume0 = np.exp(rng.uniform(math.log(p.volume_min), math.log(p.volume_max), n))
    payer = np.zeros(n, dtype=bool)
    payer[rng.permutation(n)[: math.ceil(p.dividend_fraction * n - 1e-9)]] = True
    return Universe(
        names=_symbol_names(n),
        sector=np.arange(n) % config.sectors,
        vol_ann=vol_ann,
        beta=beta,
        gamma=gamma,
        delta=np.sqrt(1.0 - beta**2 - gamma**2),
        price0=price0,
        volume0=volume0,
        payer=payer,
        div_phase=rng.integers(0, 3, n),
        div_day=rng.integers(3, 21, n),
        ema0=rng.standard_normal(n) / p.signal_gain,
    )


def symbols_frame(config: SimulatorConfig, universe: Universe) -> pd.DataFrame:
    """The instrument table: ``symbol, calendar, kind, description, source``, shape (n, 5)."""
    return pd.DataFrame(
        {
            "symbol": universe.names.tolist(),
            "calendar": config.calendar,
            "kind": "simulated",
            "description": [f"Simulated equity, sector {g}" for g in universe.sector],
            "source": SOURCE,
        }
    )


# --------------------------------------------------------------------------- sessions


def _session_info(
    index: int, sessions: Sessions, s: int, ts: np.ndarray, interval: Interval
) -> SessionInfo:
    open_, close = sessions.opens[s], sessions.closes[s]
    day = sessions.labels[s].date()
    length = (close - open_) / _MINUTE
    if interval is Interval.D1:
        return SessionInfo(index, day, ts, np.array([close]), np.array([length]), None)
    end = np.minimum(ts + np.timedelta64(interval.seconds, "s"), close)
    minutes = (end - ts) / _MINUTE
    position = ((ts - open_) / _MINUTE + minutes / 2.0) / length
    return SessionInfo(index, day, ts, end, minutes, position)


def _iter_session_infos(config: SimulatorConfig) -> Iterator[SessionInfo]:
    interval = config.bar_interval
    first = config.start
    days = int(config.sessions * 1.5) + 14  # the whole history in one calendar query
    index, empty = 0, 0
    while True:
        last = first + timedelta(days=days - 1)
        sessions = Sessions(config.calendar, first, last)
        empty = 0 if len(sessions) else empty + 1
        if empty > 2:
            raise ConfigError(
                f"calendar {config.calendar!r} has no sessions after {first}",
                fix="choose an earlier start or another calendar",
            )
        ts, which = sessions.bar_starts(interval)
        bounds = np.searchsorted(which, np.arange(len(sessions) + 1))
        for s in range(len(sessions)):
            yield _session_info(index, sessions, s, ts[bounds[s] : bounds[s + 1]], interval)
            index += 1
        first, days = last + timedelta(days=1), _CHUNK_DAYS


def iter_sessions(config: SimulatorConfig, universe: Universe) -> Iterator[SessionResult]:
    """Simulate session after session, without end.

    Parameters
    ----------
    config : SimulatorConfig
        The market; ``config.sessions`` is ignored (the sessions never end).
    universe : Universe
        From :func:`make_universe` for the same ``config``.

    Yields
    ------
    SessionResult
        Session 0 (the first on or after ``config.start``), 1, 2, ...
    """
    n = len(universe.names)
    state = _State(
        h=np.ones(n),
        ema=universe.ema0,
        post_news=np.zeros(n),
        regime=0,
        close=universe.price0,
        shares=np.ones(n),
        prev_day=None,
    )
    for info in _iter_session_infos(config):
        result, state = _simulate_session(config, universe, info, state)
        yield result


# --------------------------------------------------------------------------- one session


def _draw(
    rng: np.random.Generator, universe: Universe, p: MarketParams, bars: int, sectors: int
) -> _Draws:
    n = len(universe.names)
    regime_u = float(rng.random())
    z = rng.standard_t(p.dof, size=(bars + 1, 1 + sectors + n)) * math.sqrt((p.dof - 2) / p.dof)
    mixed = (
        universe.beta * z[:, :1]
        + universe.gamma * z[:, 1 + universe.sector]
        + universe.delta * z[:, 1 + sectors :]
    )
    hl = np.abs(rng.standard_normal((2, bars, n)))
    volume = rng.standard_normal((bars, n))
    counts = rng.poisson(p.news_rate, n)
    total = int(counts.sum())
    return _Draws(
        regime_u=regime_u,
        gap_shock=mixed[0],
        shock=mixed[1:],
        hl=hl,
        volume=volume,
        news_symbol=np.repeat(np.arange(n), counts),
        news_bar=rng.integers(0, bars, total),
        news_sentiment=np.clip(rng.standard_normal(total), -3.0, 3.0),
        news_template=rng.integers(0, len(_TEMPLATES[0]), total),
    )


def _next_regime(regime: int, u: float, p: MarketParams) -> int:
    if regime == 0:
        return int(u < p.regime_enter)
    return int(u >= p.regime_exit)


def _garch(shock: np.ndarray, h0: np.ndarray, a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """GARCH(1,1) variances for each bar (B, n) and the next session's first h (n,)."""
    omega = 1.0 - a - b
    coef = a * shock * shock + b
    h = np.empty_like(shock)
    prev = h0
    for t in range(shock.shape[0]):
        h[t] = prev
        prev = omega + coef[t] * prev
    return h, prev


def _signal(shock: np.ndarray, ema0: np.ndarray, p: MarketParams) -> tuple[np.ndarray, np.ndarray]:
    """The signal s_t = tanh(k EMA_{t-1}) (B, n) and the EMA after the last bar (n,)."""
    lam = p.ema_lambda
    ema, _ = lfilter([1.0 - lam], [1.0, -lam], shock, axis=0, zi=(lam * ema0)[None, :])
    before = np.vstack([ema0[None, :], ema[:-1]])
    return np.tanh(p.signal_gain * before), ema[-1].copy()


def _post_news(d: _Draws, news0: np.ndarray, p: MarketParams) -> tuple[np.ndarray, np.ndarray]:
    """The post-news state nu_t (B, n) and the nu of the bar after the last one (n,).

    ``A_t = r A_t-1 + X_t`` with ``r = 2 ** (-1 / half_life)`` and ``X_t`` the summed
    sentiment of bar t's news; ``nu_t = A_t-1`` uses news of earlier bars only, and
    ``nu_0 = news0`` is what the previous session carried. Draws nothing.
    """
    total = np.zeros_like(d.shock)
    np.add.at(total, (d.news_bar, d.news_symbol), d.news_sentiment)
    r = p.news_decay
    state, _ = lfilter([1.0], [1.0, -r], total, axis=0, zi=(r * news0)[None, :])
    return np.vstack([news0[None, :], state[:-1]]), state[-1].copy()


def _u_shape(position: np.ndarray | None, amplitude: float) -> np.ndarray:
    if position is None:
        return np.ones((1, 1))
    return (1.0 + amplitude * ((2.0 * position - 1.0) ** 2 - 1.0 / 3.0))[:, None]


def _sigma(
    universe: Universe, info: SessionInfo, h: np.ndarray, rho: float, p: MarketParams
) -> np.ndarray:
    """Per-bar volatility sigma_t, shape (B, n)."""
    base = universe.vol_ann * np.sqrt(info.minutes[:, None] / (_DAY_MINUTES * _YEAR_SESSIONS))
    return base * np.sqrt(h) * _u_shape(info.position, p.vol_u_amplitude) * rho


def _jumps(
    universe: Universe, d: _Draws, rho: float, p: MarketParams
) -> tuple[np.ndarray, np.ndarray]:
    """News jumps J (B, n) and the summed |sentiment| of each bar's news (B, n)."""
    jump = np.zeros_like(d.shock)
    heat = np.zeros_like(d.shock)
    size = p.jump_scale * d.news_sentiment * universe.daily_vol[d.news_symbol] * rho
    np.add.at(jump, (d.news_bar, d.news_symbol), size)
    np.add.at(heat, (d.news_bar, d.news_symbol), np.abs(d.news_sentiment))
    return jump, heat


def _corporate_actions(
    universe: Universe, p: MarketParams, state: _State, day: date
) -> tuple[np.ndarray, np.ndarray]:
    """Split ratios (n,) and dividend amounts (n,) taking effect at this session's open."""
    prev = state.prev_day or day - timedelta(days=1)
    first_on_or_after = (day.day >= universe.div_day) & (
        (prev.month != day.month) | (prev.day < universe.div_day)
    )
    due = universe.payer & (day.month % 3 == universe.div_phase) & first_on_or_after
    amount = np.where(due, np.round(state.close * p.dividend_yield / 4.0, 2), 0.0)
    amount = np.where(amount >= 0.01, amount, 0.0)
    over = (amount == 0.0) & (state.close > p.split_threshold)
    far = state.close >= p.split_far * p.split_threshold
    return np.where(over, np.where(far, 3.0, 2.0), 1.0), amount


def _path(
    prev_close: np.ndarray, split: np.ndarray, dividend: np.ndarray, gap: np.ndarray, r: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Raw opens and closes (B, n) of a session from its intrabar log returns."""
    open0 = (prev_close / split - dividend) * np.exp(gap)
    close = open0 * np.exp(np.cumsum(r, axis=0))
    return np.vstack([open0[None, :], close[:-1]]), close


def _volume(
    universe: Universe,
    info: SessionInfo,
    d: _Draws,
    heat: np.ndarray,
    shares: np.ndarray,
    rho: float,
    p: MarketParams,
) -> np.ndarray:
    """Volume in whole shares, shape (B, n)."""
    mean = universe.volume0 * shares * info.minutes[:, None] * rho
    mean = mean * _u_shape(info.position, p.volume_u_amplitude)
    boost = (1.0 + p.volume_shock_beta * np.abs(d.shock)) * (1.0 + p.news_volume_boost * heat)
    noise = np.exp(p.volume_noise * d.volume - 0.5 * p.volume_noise**2)
    return np.rint(mean * boost * noise)


def _simulate_session(
    config: SimulatorConfig, universe: Universe, info: SessionInfo, state: _State
) -> tuple[SessionResult, _State]:
    """Simulate one session from the state the previous one left."""
    p = config.params
    rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(1, info.index)))
    d = _draw(rng, universe, p, len(info.ts), config.sectors)
    regime = _next_regime(state.regime, d.regime_u, p)
    rho = p.turbulent_mult if regime else 1.0
    h, h_next = _garch(d.shock, state.h, p.garch_a, p.garch_b)
    sigma = _sigma(universe, info, h, rho, p)
    alpha, shift = config.alpha, config.shift
    if shift is not None and info.index >= shift.session:  # a planted regime change
        alpha = config.alpha if shift.alpha is None else shift.alpha
        sigma = sigma * shift.vol_scale  # the output sigma: h, and so the state, is unchanged
    signal, ema_next = _signal(d.shock, state.ema, p)
    jump, heat = _jumps(universe, d, rho, p)
    post_news, news_next = _post_news(d, state.post_news, p)
    drift = alpha * sigma * signal
    if p.news_drift > 0:  # skipped at 0 so that the default market stays bit for bit
        drift = drift + p.news_drift * sigma * post_news
    r = drift + sigma * d.shock + jump
    gap = np.zeros_like(r)
    gap[0] = p.overnight_ratio * universe.daily_vol * rho * d.gap_shock
    split, dividend = _corporate_actions(universe, p, state, info.day)
    open_, close = _path(state.close, split, dividend, gap[0], r)
    sigma_range = p.hl_scale * sigma
    shares = state.shares * split
    result = SessionResult(
        info=info,
        regime=regime,
        open=open_,
        high=np.maximum(open_, close) * np.exp(sigma_range * d.hl[0]),
        low=np.minimum(open_, close) * np.exp(-sigma_range * d.hl[1]),
        close=close,
        volume=_volume(universe, info, d, heat, shares, rho, p),
        drift=drift,
        vol=sigma,
        signal=signal,
        jump=jump,
        gap=gap,
        ret=r + gap,
        split=split,
        dividend=dividend,
        news_symbol=d.news_symbol,
        news_bar=d.news_bar,
        news_sentiment=d.news_sentiment,
        news_template=d.news_template,
    )
    next_state = _State(h_next, ema_next, news_next, regime, close[-1].copy(), shares, info.day)
    return result, next_state


# --------------------------------------------------------------------------- frames

_BAR_FIELDS = ("open", "high", "low", "close", "volume")
_TRUTH_FIELDS = ("drift", "vol", "signal", "jump", "gap", "ret")


def _text(codes: np.ndarray, values: Sequence[str]) -> pd.Series:
    """A string column ``values[codes]``, built in Arrow (fast for millions of rows)."""
    arrow = pa.DictionaryArray.from_arrays(pa.array(codes, type=pa.int32()), pa.array(values))
    return pd.Series(arrow.cast(pa.large_string()), dtype=pd.StringDtype("pyarrow", np.nan))


def _stack(results: Sequence[SessionResult], field: str, order: str) -> np.ndarray:
    """One field of every session as a flat array, by symbol then ts or by ts then symbol."""
    if order == "symbol":
        return np.concatenate([getattr(r, field).T for r in results], axis=1).ravel()
    return np.concatenate([getattr(r, field) for r in results]).ravel()


def bars_and_truth(
    config: SimulatorConfig,
    universe: Universe,
    results: Sequence[SessionResult],
    *,
    order: Literal["symbol", "ts"] = "symbol",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The bar and truth frames of ``results``, row for row in the same order.

    Parameters
    ----------
    config : SimulatorConfig
        The market (for the interval).
    universe : Universe
        The market's symbols.
    results : sequence of SessionResult
        Consecutive sessions, T bars in all.
    order : {"symbol", "ts"}
        Sort by symbol then ts, or by ts then symbol.

    Returns
    -------
    bars : DataFrame, shape (n * T, 9)
    truth : DataFrame, shape (n * T, 8)
    """
    n = len(universe.names)
    ts = np.concatenate([r.info.ts for r in results])
    if order == "symbol":
        codes, ts_col = np.repeat(np.arange(n), len(ts)), np.tile(ts, n)
    else:
        codes, ts_col = np.tile(np.arange(n), len(ts)), np.repeat(ts, n)
    symbol = _text(codes, universe.names.tolist())
    ts_utc = pd.Series(pd.DatetimeIndex(ts_col).tz_localize("UTC"))
    zeros = np.zeros(len(codes), dtype=np.int32)
    bars = pd.DataFrame(
        {
            "symbol": symbol,
            "interval": _text(zeros, [config.interval]),
            "ts": ts_utc,
            **{f: _stack(results, f, order) for f in _BAR_FIELDS},
            "source": _text(zeros, [SOURCE]),
        }
    )
    truth = {f: _stack(results, f, order) for f in _TRUTH_FIELDS}
    return bars_frame(bars), pd.DataFrame({"symbol": symbol, "ts": ts_utc, **truth})


_KEY_EXCLUDE = {
    "sessions": True,
    "macro": True,
    "shift": True,
    "params": {"news_drift": True, "news_drift_half_life": True},
}


def _market_key(config: SimulatorConfig) -> str:
    # ``macro``, the post-news drift and a regime shift change no news item: they are left
    # out, so ids stay those of a config without them
    fields = config.model_dump(mode="json", exclude=_KEY_EXCLUDE)
    payload = json.dumps(fields, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _news_rows(key: str, universe: Universe, result: SessionResult) -> Iterator[dict]:
    info = result.info
    buckets = np.digitize(result.news_sentiment, _SENTIMENT_EDGES)
    for e, (i, t) in enumerate(zip(result.news_symbol, result.news_bar, strict=True)):
        symbol = str(universe.names[i])
        published = pd.Timestamp(info.ts[t], tz="UTC")
        digest = f"{key}|{symbol}|{published.isoformat()}|{info.index}|{e}"
        yield {
            "id": hashlib.sha256(digest.encode()).hexdigest()[:24],
            "published_at": published,
            "available_at": pd.Timestamp(info.end[t], tz="UTC"),
            "headline": _TEMPLATES[buckets[e]][result.news_template[e]].format(s=symbol),
            "symbols": symbol,
            "body": (
                f"Simulated news about {symbol} (sector {universe.sector[i]}), generated by "
                "the Nexus market simulator. Not real information."
            ),
            "url": "",
            "sentiment": float(result.news_sentiment[e]),
            # the planted sentiment that moved the price, not a scorer's reading
            "sentiment_model": "simulator-latent",
            "source": SOURCE,
        }


def news_of(
    config: SimulatorConfig, universe: Universe, results: Sequence[SessionResult]
) -> pd.DataFrame:
    """The news items of ``results`` (``NEWS_COLUMNS``), sorted by published_at then symbol.

    ``published_at`` is the open time of the bar the item moved, ``available_at`` that
    bar's close; ``id`` hashes the market (config without ``sessions``), symbol and time.
    """
    key = _market_key(config)
    rows = [row for result in results for row in _news_rows(key, universe, result)]
    frame = pd.DataFrame(rows, columns=list(NEWS_COLUMNS))
    frame = frame.sort_values(["published_at", "symbols"], kind="stable")
    return news_frame(frame)


def actions_of(universe: Universe, results: Sequence[SessionResult]) -> pd.DataFrame:
    """Splits and dividends of ``results`` (``ACTION_COLUMNS``), by ex_date then symbol."""
    rows = []
    for result in results:
        for i in np.flatnonzero(result.split != 1.0):
            rows.append((universe.names[i], result.info.day, "split", result.split[i], 0.0))
        for i in np.flatnonzero(result.dividend > 0.0):
            rows.append((universe.names[i], result.info.day, "dividend", 1.0, result.dividend[i]))
    frame = pd.DataFrame(rows, columns=list(ACTION_COLUMNS[:-1])).assign(source=SOURCE)
    frame = frame.sort_values(["ex_date", "symbol"], kind="stable")
    return actions_frame(frame)


def macro_between(
    config: SimulatorConfig, after: np.datetime64, until: np.datetime64
) -> pd.DataFrame:
    """The macro vintages released in ``(after, until]`` (naive UTC); none without ``config.macro``.

    Returns
    -------
    DataFrame, shape (v, 5)
        ``MACRO_COLUMNS``, source ``"simulator"``, sorted by realtime_start.
    """
    if not config.macro:
        return macro_frame(pd.DataFrame({c: [] for c in MACRO_COLUMNS}))
    return macro_of(config, after, until, source=SOURCE)
