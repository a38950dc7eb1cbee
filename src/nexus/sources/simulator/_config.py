"""Configuration of the market simulator: the market's numbers and the run's shape.

:class:`MarketParams` holds every number of the model documented in
:mod:`nexus.sources.simulator._market` and ``docs/simulator.md``;
:class:`SimulatorConfig` says how many symbols, which bars, how much history,
which seed and how strong the planted edge is; :class:`RegimeShift` changes the
edge or the volatility from a given session on.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Self

import exchange_calendars as xcals
from pydantic import Field, ValidationInfo, field_validator, model_validator

from nexus.config import FrozenConfig
from nexus.domain import DEFAULT_CALENDAR, Interval
from nexus.errors import ConfigError

__all__ = ["MarketParams", "RegimeShift", "SimulatorConfig"]

_DEFAULT_SECTORS = 4


def _require(ok: bool, message: str, fix: str) -> None:
    if not ok:
        raise ConfigError(message, fix=fix)


def _check_range(low: float, high: float, name: str) -> None:
    _require(
        low <= high,
        f"{name}_min={low} is above {name}_max={high}",
        fix=f"set {name}_min <= {name}_max",
    )


class MarketParams(FrozenConfig):
    """Every number of the simulated market, with documented defaults.

    Per-bar quantities are per bar of the configured interval; annual figures
    assume 252 sessions of 390 minutes. See ``docs/simulator.md`` for the model.

    Parameters
    ----------
    vol_min, vol_max : float
        Range of the symbols' annualised volatility (drawn uniformly per symbol).
    garch_a, garch_b : float
        GARCH(1,1) news and persistence coefficients per bar,
        ``h_t = (1 - a - b) + (a * eps_{t-1}**2 + b) * h_{t-1}``; ``a + b < 1``.
    dof : float
        Degrees of freedom of the Student-t shocks (> 2 for a finite variance; the
        default 5 keeps the kurtosis and the GARCH variance's variance finite).
    beta_min, beta_max : float
        Range of the market-factor loadings ``b_i``.
    sector_min, sector_max : float
        Range of the sector-factor loadings ``c_i``; ``beta_max**2 + sector_max**2 < 1``.
    regime_enter, regime_exit : float
        Per-session probabilities of switching calm -> turbulent and turbulent -> calm.
    turbulent_mult : float
        Volatility (and volume) multiplier in the turbulent regime.
    overnight_ratio : float
        Standard deviation of the overnight gap in units of the symbol's daily volatility.
    vol_u_amplitude : float
        Amplitude ``A`` of the intraday volatility U-shape ``1 + A((2x-1)**2 - 1/3)``.
    volume_u_amplitude : float
        Amplitude of the intraday volume U-shape (same form).
    hl_scale : float
        High/low extend beyond max/min(open, close) by ``hl_scale * sigma_t * |N(0,1)|`` (log).
    volume_min, volume_max : float
        Range (log-uniform) of the symbols' base volume in shares per minute.
    volume_shock_beta : float
        Volume grows by ``1 + volume_shock_beta * |eps_t|``.
    volume_noise : float
        Standard deviation of the log-normal volume noise.
    news_volume_boost : float
        Volume grows by ``1 + news_volume_boost * |sentiment|`` in a news bar.
    news_rate : float
        Expected news items per symbol per session (Poisson).
    jump_scale : float
        News jump ``J = jump_scale * sentiment * daily vol * regime multiplier`` (log).
    news_drift : float
        Strength of the post-news drift: after a story the drift of its symbol's bars
        grows by ``news_drift * sigma_t * nu_t``, where ``nu_t`` sums the sentiment of the
        symbol's earlier stories, each halving every ``news_drift_half_life`` bars. The
        default 0 keeps news unforecastable; a positive value plants an edge that a
        model given the news sentiment (known at the story's bar close) can learn.
    news_drift_half_life : float
        Half-life in bars of a story's post-news drift (it carries across sessions and
        nights as if the bars were consecutive).
    price_min, price_max : float
        Range (log-uniform) of the symbols' prices before the first session.
    split_threshold : float
        A raw close above this at a session's end splits the stock at the next open.
    split_far : float
        The split ratio is 3 when the close is at least ``split_far * split_threshold``, else 2.
    dividend_fraction : float
        Fraction of symbols that pay quarterly cash dividends.
    dividend_yield : float
        Annual dividend yield; each quarterly amount is ``close * yield / 4`` in cents.
    signal_span : int
        Span of the EMA of past shocks behind the planted signal.

    Examples
    --------
    >>> MarketParams().garch_a + MarketParams().garch_b < 1
    True
    >>> MarketParams(dof=2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for MarketParams
    ...
    """

    vol_min: float = Field(0.15, gt=0)
    vol_max: float = Field(0.45, gt=0)
    garch_a: float = Field(0.03, ge=0)
    garch_b: float = Field(0.965, ge=0)
    dof: float = Field(5.0, gt=2)
    beta_min: float = Field(0.3, ge=0, lt=1)
    beta_max: float = Field(0.6, ge=0, lt=1)
    sector_min: float = Field(0.2, ge=0, lt=1)
    sector_max: float = Field(0.5, ge=0, lt=1)
    regime_enter: float = Field(0.03, ge=0, le=1)
    regime_exit: float = Field(0.2, ge=0, le=1)
    turbulent_mult: float = Field(2.0, ge=1)
    overnight_ratio: float = Field(0.5, ge=0)
    vol_u_amplitude: float = Field(0.6, ge=0, lt=3)
    volume_u_amplitude: float = Field(1.5, ge=0, lt=3)
    hl_scale: float = Field(0.6, ge=0)
    volume_min: float = Field(500.0, gt=0)
    volume_max: float = Field(5000.0, gt=0)
    volume_shock_beta: float = Field(0.5, ge=0)
    volume_noise: float = Field(0.3, ge=0)
    news_volume_boost: float = Field(2.0, ge=0)
    news_rate: float = Field(0.2, ge=0)
    jump_scale: float = Field(0.5, ge=0)
    news_drift: float = Field(0.0, ge=0, allow_inf_nan=False)
    news_drift_half_life: float = Field(6.0, gt=0, allow_inf_nan=False)
    price_min: float = Field(20.0, gt=0)
    price_max: float = Field(250.0, gt=0)
    split_threshold: float = Field(400.0, gt=0)
    split_far: float = Field(1.5, gt=1)
    dividend_fraction: float = Field(0.5, ge=0, le=1)
    dividend_yield: float = Field(0.03, ge=0, lt=1)
    signal_span: int = Field(15, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for name in ("vol", "beta", "sector", "volume", "price"):
            _check_range(getattr(self, f"{name}_min"), getattr(self, f"{name}_max"), name)
        _require(
            self.garch_a + self.garch_b < 1,
            f"garch_a + garch_b = {self.garch_a + self.garch_b:g} is not below 1",
            fix="lower garch_a or garch_b so that the variance process is stationary",
        )
        _require(
            self.beta_max**2 + self.sector_max**2 < 1,
            f"beta_max**2 + sector_max**2 = {self.beta_max**2 + self.sector_max**2:g} >= 1",
            fix="lower beta_max or sector_max (the idiosyncratic share must stay positive)",
        )
        _require(
            self.price_max < self.split_threshold,
            f"price_max={self.price_max} is not below split_threshold={self.split_threshold}",
            fix="raise split_threshold or lower price_max",
        )
        return self

    @property
    def ema_lambda(self) -> float:
        """The EMA decay ``lam = 1 - 2 / (span + 1)``."""
        return 1.0 - 2.0 / (self.signal_span + 1.0)

    @property
    def news_decay(self) -> float:
        """The per-bar decay ``2 ** (-1 / news_drift_half_life)`` of the post-news state."""
        return 2.0 ** (-1.0 / self.news_drift_half_life)

    @property
    def signal_gain(self) -> float:
        """``k = sqrt((1 + lam) / (1 - lam))``: ``k * EMA`` of unit shocks has unit variance."""
        lam = self.ema_lambda
        return math.sqrt((1.0 + lam) / (1.0 - lam))


class RegimeShift(FrozenConfig):
    """A planted regime change: the edge or the volatility changes from one session on.

    Sessions before ``session`` are, bit for bit, those of the same config without
    the shift; from the first bar of session ``session`` on (the live stream
    included) the planted edge has strength ``alpha`` and every bar's volatility
    ``sigma_it`` is ``vol_scale`` times what it would have been.

    ``vol_scale`` multiplies the output volatility ``sigma_it``, not the GARCH state
    ``h``: ``h`` follows the standardised shocks and reverts to its mean 1, so a
    scaled ``h`` would decay back within a few hundred bars, while a scaled
    ``sigma_it`` makes ``vol_scale`` hold exactly from the first changed bar on and for
    good. With the same seed every draw, ``h``, the signal and the post-news state
    are those of the unshifted market, so each changed bar's ``drift``, ``vol`` and
    ``sigma * eps`` are ``vol_scale`` times the unshifted ones (``drift`` also takes
    the new ``alpha``), and so is the high/low range around the body. Overnight
    gaps, news jumps and volume do not change.

    Parameters
    ----------
    session : int
        Index of the first changed session, counted from the first simulated session
        (0); at least 1. It may lie beyond the history (``SimulatorConfig.sessions``):
        the change then happens in the live stream that continues it.
    alpha : float or None
        The planted edge's strength from ``session`` on; None keeps the config's
        ``alpha``. Any finite number: a negative one flips the planted effect, so the
        Bayes rule becomes ``-sign(signal)``.
    vol_scale : float
        Multiplier (> 0, finite) of every bar's volatility ``sigma_it`` from
        ``session`` on; 3 triples the volatility.

    Examples
    --------
    >>> RegimeShift(session=20, alpha=-0.3).vol_scale
    1.0
    >>> RegimeShift(session=0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for RegimeShift
    ...
    """

    session: int
    alpha: float | None = None
    vol_scale: float = 1.0

    @field_validator("session")
    @classmethod
    def _session(cls, value: int) -> int:
        _require(
            value >= 1,
            f"shift.session={value} is below 1",
            fix="use the index of the first changed session, 1 or more "
            "(0 is the first session: set the config's alpha instead)",
        )
        return value

    @field_validator("alpha")
    @classmethod
    def _alpha(cls, value: float | None) -> float | None:
        _require(
            value is None or math.isfinite(value),
            f"shift.alpha={value} is not a finite number",
            fix="use a finite strength such as -0.3 (negative flips the planted effect), "
            "or leave it out to keep the config's alpha",
        )
        return value

    @field_validator("vol_scale")
    @classmethod
    def _vol_scale(cls, value: float) -> float:
        _require(
            math.isfinite(value) and value > 0,
            f"shift.vol_scale={value} is not a finite number above 0",
            fix="use a positive multiplier such as 3 (triples the volatility) or 1 (no change)",
        )
        return value


class SimulatorConfig(FrozenConfig):
    """What to simulate: the universe, the bars, the history and the planted edge.

    Parameters
    ----------
    symbols : int
        Number of symbols, named ``SIM00``, ``SIM01``, ... (wider when over 100).
    sectors : int
        Number of sectors; symbol ``i`` is in sector ``i % sectors``. Default 4, or
        ``symbols`` when fewer; an explicit value above ``symbols`` is an error.
    interval : str
        Bar interval: ``1m``, ``5m``, ``15m``, ``30m``, ``1h`` or ``1d`` (aliases accepted,
        stored in canonical form).
    start : date
        The history starts with the first session on or after this date.
    sessions : int
        Number of trading sessions of history; live streaming continues after them.
    seed : int
        Seed of every random stream (non-negative).
    alpha : float
        Strength of the planted predictable component; 0 makes the log price a martingale.
    calendar : str
        exchange-calendars name of the trading calendar.
    params : MarketParams
        The market's numbers.
    macro : bool
        Also emit the simulated macro series (``SIM_CPI``, ``SIM_GDP``,
        ``SIM_RATE``) with their release times and revisions; see
        :mod:`nexus.sources.simulator._macro`. They draw from their own random
        streams: the bars, news and corporate actions are the same either way.
    shift : RegimeShift or None
        A regime change from a given session on (the edge's strength, the
        volatility); None (the default) keeps one regime throughout.

    Examples
    --------
    >>> SimulatorConfig(interval="5min").interval
    '5m'
    >>> SimulatorConfig(symbols=2).sectors
    2
    >>> SimulatorConfig(symbols=3, sectors=5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for SimulatorConfig
    ...
    """

    symbols: int = 20
    sectors: int = _DEFAULT_SECTORS
    interval: str = "1m"
    start: date = date(2025, 1, 2)
    sessions: int = 60
    seed: int = 7
    alpha: float = 0.05
    calendar: str = DEFAULT_CALENDAR
    params: MarketParams = MarketParams()
    macro: bool = True
    shift: RegimeShift | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_sectors(cls, data: object) -> object:
        # an omitted ``sectors`` means min(4, symbols), so that SimulatorConfig(symbols=2) works
        if isinstance(data, dict) and "sectors" not in data:
            symbols = data.get("symbols", 20)
            if isinstance(symbols, int) and not isinstance(symbols, bool) and symbols >= 1:
                return {**data, "sectors": min(_DEFAULT_SECTORS, symbols)}
        return data

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: str) -> str:
        return Interval.parse(value).value

    @field_validator("symbols", "sectors", "sessions")
    @classmethod
    def _positive(cls, value: int, info: ValidationInfo) -> int:
        _require(value >= 1, f"{info.field_name}={value} is below 1", fix="use 1 or more")
        return value

    @field_validator("seed")
    @classmethod
    def _seed(cls, value: int) -> int:
        _require(value >= 0, f"seed={value} is negative", fix="use a seed >= 0")
        return value

    @field_validator("alpha")
    @classmethod
    def _alpha(cls, value: float) -> float:
        _require(
            math.isfinite(value) and value >= 0,
            f"alpha={value} is not a finite number >= 0",
            fix="use alpha=0 for a martingale or a small positive strength such as 0.05",
        )
        return value

    @field_validator("calendar")
    @classmethod
    def _calendar(cls, value: str) -> str:
        _require(
            value in xcals.get_calendar_names(include_aliases=True),
            f"calendar {value!r} is not known to exchange-calendars",
            fix="use an ISO MIC such as XNYS, XNAS or XLON",
        )
        return value

    @model_validator(mode="after")
    def _sectors_fit(self) -> Self:
        _require(
            self.sectors <= self.symbols,
            f"sectors={self.sectors} is more than symbols={self.symbols}",
            fix="use at most as many sectors as symbols",
        )
        return self

    @property
    def bar_interval(self) -> Interval:
        """:attr:`interval` as an :class:`~nexus.domain.Interval`."""
        return Interval.parse(self.interval)
