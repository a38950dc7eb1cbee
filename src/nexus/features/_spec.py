"""The declarative feature spec: which features, with which parameters, and their warm-ups.

A spec is YAML (``configs/features/default.yaml``) parsed into frozen pydantic
models. Each feature kind is one :class:`FeatureParams` subclass that names its
output columns and says how many leading bars of each symbol they are undefined
(``warmup``): before that bar the batch output is NaN, from that bar on the batch
and the online values agree within 1e-9.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import Field, ValidationError, field_serializer, field_validator, model_validator

from nexus.config import FrozenConfig, read_yaml
from nexus.errors import ConfigError
from nexus.features._macro_features import MacroFeatureParams
from nexus.features._news_features import NEWS_FEATURES, NewsFeatureParams
from nexus.features._warmup import ema_warmup, macd_warmup, wilder_warmup

__all__ = [
    "AtrParams",
    "BollingerParams",
    "CalendarParams",
    "ClosePositionParams",
    "EmaDistanceParams",
    "FeatureParams",
    "FeatureSet",
    "FeatureSpec",
    "HighLowRangeParams",
    "LogReturnParams",
    "MacdParams",
    "MarketBetaParams",
    "MarketReturnParams",
    "RealizedVolParams",
    "RsiParams",
    "VolumeImbalanceParams",
    "VolumeZscoreParams",
]

Period = Annotated[int, Field(ge=1)]
Output = tuple[str, int]
CalendarField = Literal["minute_of_hour", "hour_of_day", "day_of_week", "month"]


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_keys(data: Any, known: list[str], what: str) -> None:
    """Raise naming the first key of ``data`` that is not in ``known`` (``what`` says whose)."""
    if not isinstance(data, Mapping):
        return
    for key in data:
        if key not in known:
            fix = f"use one of {', '.join(known)}" if known else "it takes no parameters: use {}"
            raise ConfigError(f"unknown {what} {key!r}{_suggest(str(key), known)}", fix=fix)


def _unique(values: tuple[int, ...], what: str) -> tuple[int, ...]:
    if len(set(values)) != len(values):
        raise ConfigError(f"{what} {list(values)} repeats a value", fix="list each value once")
    return values


class FeatureParams(FrozenConfig):
    """The parameters of one feature kind; subclasses name their outputs and warm-ups."""

    kind: ClassVar[str] = ""

    @model_validator(mode="before")
    @classmethod
    def _known_parameters(cls, data: Any) -> Any:
        if data is None:
            return {}
        _check_keys(data, list(cls.model_fields), f"parameter of feature {cls.kind!r}:")
        return data

    def outputs(self) -> tuple[Output, ...]:
        """``(column name, warm-up in bars)`` of each output, in column order."""
        raise NotImplementedError


class LogReturnParams(FeatureParams):
    """``ret_k = log(close_t / close_{t-k})`` for each ``k`` in ``periods``; warm-up ``k``."""

    kind: ClassVar[str] = "log_return"
    periods: tuple[Period, ...] = Field((1, 5, 15, 60), min_length=1)

    @field_validator("periods")
    @classmethod
    def _distinct(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        return _unique(v, "log_return periods")

    def outputs(self) -> tuple[Output, ...]:
        return tuple((f"ret_{k}", k) for k in self.periods)


class HighLowRangeParams(FeatureParams):
    """``hl_range = log(high / low)`` of the bar; warm-up 0."""

    kind: ClassVar[str] = "hl_range"

    def outputs(self) -> tuple[Output, ...]:
        return (("hl_range", 0),)


class ClosePositionParams(FeatureParams):
    """``close_pos = (close - low) / (high - low)``, 0.5 when ``high == low``; warm-up 0."""

    kind: ClassVar[str] = "close_position"

    def outputs(self) -> tuple[Output, ...]:
        return (("close_pos", 0),)


class RsiParams(FeatureParams):
    """``rsi_p = talib.RSI(close, p) / 100`` in [0, 1]; warm-up ``p`` + seed decay.

    After ``rsi_flat_bars(p)`` (62 for 14) unchanged closes the value is 0.5: in a
    flat stretch TA-Lib's two Wilder averages decay together and their ratio is
    set by bars from before the stretch, which no bounded buffer can know.
    """

    kind: ClassVar[str] = "rsi"
    periods: tuple[Annotated[int, Field(ge=2)], ...] = Field((14,), min_length=1)

    @field_validator("periods")
    @classmethod
    def _distinct(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        return _unique(v, "rsi periods")

    def outputs(self) -> tuple[Output, ...]:
        return tuple((f"rsi_{p}", wilder_warmup(p)) for p in self.periods)


class MacdParams(FeatureParams):
    """``talib.MACD`` line, signal and histogram divided by close; warm-up lookback + decay."""

    kind: ClassVar[str] = "macd"
    fast: int = Field(12, ge=2)
    slow: int = Field(26, ge=2)
    signal: int = Field(9, ge=2)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.fast >= self.slow:
            raise ConfigError(
                f"macd fast={self.fast} is not below slow={self.slow}",
                fix="use a fast period shorter than the slow one (e.g. 12 and 26)",
            )
        return self

    def outputs(self) -> tuple[Output, ...]:
        w = macd_warmup(self.fast, self.slow, self.signal)
        return (("macd", w), ("macd_signal", w), ("macd_hist", w))


class EmaDistanceParams(FeatureParams):
    """``ema_dist_p = close / talib.EMA(close, p) - 1``; warm-up ``p - 1`` + seed decay."""

    kind: ClassVar[str] = "ema_distance"
    periods: tuple[Annotated[int, Field(ge=2)], ...] = Field((12, 26), min_length=1)

    @field_validator("periods")
    @classmethod
    def _distinct(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        return _unique(v, "ema_distance periods")

    def outputs(self) -> tuple[Output, ...]:
        return tuple((f"ema_dist_{p}", ema_warmup(p)) for p in self.periods)


class BollingerParams(FeatureParams):
    """Bollinger bands (SMA +- ``width`` population sds): ``bb_pctb`` and ``bb_width``."""

    kind: ClassVar[str] = "bollinger"
    period: int = Field(20, ge=2)
    width: float = Field(2.0, gt=0)

    def outputs(self) -> tuple[Output, ...]:
        w = self.period - 1
        return (("bb_pctb", w), ("bb_width", w))


class AtrParams(FeatureParams):
    """``atr_p = talib.ATR(high, low, close, p) / close``; warm-up ``p`` + seed decay."""

    kind: ClassVar[str] = "atr"
    periods: tuple[Annotated[int, Field(ge=2)], ...] = Field((14,), min_length=1)

    @field_validator("periods")
    @classmethod
    def _distinct(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        return _unique(v, "atr periods")

    def outputs(self) -> tuple[Output, ...]:
        return tuple((f"atr_{p}", wilder_warmup(p)) for p in self.periods)


class RealizedVolParams(FeatureParams):
    """``rvol_w``: sample sd of 1-bar log returns over ``w`` bars, and its z-score ``rvol_w_z``.

    The z-score compares ``rvol_w`` with its own mean and sample sd over the last
    ``zscore_window`` bars (the current one included). ``zscore_window: null``
    leaves the z-scores out.
    """

    kind: ClassVar[str] = "realized_vol"
    windows: tuple[Annotated[int, Field(ge=2)], ...] = Field((15, 60), min_length=1)
    zscore_window: int | None = Field(390, ge=2)

    @field_validator("windows")
    @classmethod
    def _distinct(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        return _unique(v, "realized_vol windows")

    def outputs(self) -> tuple[Output, ...]:
        out = [(f"rvol_{w}", w) for w in self.windows]
        if self.zscore_window is not None:
            z = self.zscore_window
            out += [(f"rvol_{w}_z", w + z - 1) for w in self.windows]
        return tuple(out)


class VolumeZscoreParams(FeatureParams):
    """``volume_z``: z-score of ``log(1 + volume)`` against the last ``window`` bars."""

    kind: ClassVar[str] = "volume_zscore"
    window: int = Field(390, ge=2)

    def outputs(self) -> tuple[Output, ...]:
        return (("volume_z", self.window - 1),)


class VolumeImbalanceParams(FeatureParams):
    """``volume_imbalance = sum(sign(close - open) * volume) / sum(volume)`` over ``window``."""

    kind: ClassVar[str] = "volume_imbalance"
    window: int = Field(30, ge=1)

    def outputs(self) -> tuple[Output, ...]:
        return (("volume_imbalance", self.window - 1),)


class CalendarParams(FeatureParams):
    """sin/cos of the bar's open time in ``timezone``: minute, hour, weekday, month."""

    kind: ClassVar[str] = "calendar"
    timezone: str = "America/New_York"
    fields: tuple[CalendarField, ...] = Field(
        ("minute_of_hour", "hour_of_day", "day_of_week", "month"), min_length=1
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"calendar timezone {v!r} is not an IANA time zone",
                fix="use a name such as America/New_York, Europe/London or UTC",
            ) from None
        return v

    @field_validator("fields")
    @classmethod
    def _distinct(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ConfigError(f"calendar fields {list(v)} repeat a field", fix="list each once")
        return v

    def outputs(self) -> tuple[Output, ...]:
        return tuple(
            (f"{_CALENDAR_PREFIX[f]}_{part}", 0) for f in self.fields for part in ("sin", "cos")
        )


_CALENDAR_PREFIX = {
    "minute_of_hour": "minute",
    "hour_of_day": "hour",
    "day_of_week": "dow",
    "month": "month",
}


class MarketReturnParams(FeatureParams):
    """``mkt_ret``: mean 1-bar log return of the symbols that have a bar at this ts."""

    kind: ClassVar[str] = "market_return"

    def outputs(self) -> tuple[Output, ...]:
        return (("mkt_ret", 1),)


class MarketBetaParams(FeatureParams):
    """Rolling ``beta_w`` and ``corr_w`` of the symbol's 1-bar log returns to ``mkt_ret``."""

    kind: ClassVar[str] = "market_beta"
    window: int = Field(60, ge=3)

    def outputs(self) -> tuple[Output, ...]:
        w = self.window
        return ((f"beta_{w}", w), (f"corr_{w}", w))


class FeatureSet(FrozenConfig):
    """Which feature kinds are on; a kind left out (or ``None``) is off.

    In YAML, ``rsi: {}`` (or a bare ``rsi:``) turns a kind on with its default
    parameters. Columns come out in the order of the fields below.
    """

    log_return: LogReturnParams | None = None
    hl_range: HighLowRangeParams | None = None
    close_position: ClosePositionParams | None = None
    rsi: RsiParams | None = None
    macd: MacdParams | None = None
    ema_distance: EmaDistanceParams | None = None
    bollinger: BollingerParams | None = None
    atr: AtrParams | None = None
    realized_vol: RealizedVolParams | None = None
    volume_zscore: VolumeZscoreParams | None = None
    volume_imbalance: VolumeImbalanceParams | None = None
    calendar: CalendarParams | None = None
    market_return: MarketReturnParams | None = None
    market_beta: MarketBetaParams | None = None

    @model_validator(mode="before")
    @classmethod
    def _known_features(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        _check_keys(data, list(cls.model_fields), "feature")
        # a bare ``rsi:`` in YAML is None: it means "on, with the defaults"
        return {k: ({} if v is None else v) for k, v in data.items()}

    def enabled(self) -> tuple[FeatureParams, ...]:
        """The parameters of each enabled kind, in column order."""
        return tuple(p for p in (getattr(self, f) for f in type(self).model_fields) if p)


class FeatureSpec(FrozenConfig):
    """A declarative feature set: the features, their parameters and lagged copies.

    Parameters
    ----------
    features : FeatureSet
        The enabled feature kinds and their parameters.
    lags : mapping of str to list of int
        ``{column: [k, ...]}`` adds ``{column}_lag{k}``, the column's value ``k``
        bars earlier for the same symbol (warm-up: the column's plus ``k``). Stored
        frozen and canonical, as ``((column, (k, ...)), ...)`` sorted by column and
        ``k``; lag columns follow the base columns in base-column order, then ``k``.
    news : NewsFeatureParams, optional
        Adds ``news_sentiment, news_count, news_surprise`` of the items available at
        each bar's close (after the lag columns). ``news: {}`` (or a bare ``news:``)
        uses the default windows. The pipeline then needs the stored news.
    macro : MacroFeatureParams, optional
        Adds level, change and surprise of each listed macro series as known at each
        bar's close (after the news columns); NaN until a series is known. The
        pipeline then needs the stored vintages.

    Examples
    --------
    >>> spec = FeatureSpec(features={"rsi": {"periods": [7]}}, lags={"rsi_7": [1]})
    >>> spec.names()
    ('rsi_7', 'rsi_7_lag1')
    >>> FeatureSpec(features={"rsii": {}})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for FeatureSpec
    ...unknown feature 'rsii' (did you mean 'rsi'?); use one of log_return, hl_range, ...
    """

    features: FeatureSet
    lags: tuple[tuple[str, tuple[Annotated[int, Field(ge=1)], ...]], ...] = ()
    news: NewsFeatureParams | None = None
    macro: MacroFeatureParams | None = None

    @model_validator(mode="before")
    @classmethod
    def _known_sections(cls, data: Any) -> Any:
        _check_keys(data, list(cls.model_fields), "feature spec section")
        if isinstance(data, Mapping) and "news" in data and data["news"] is None:
            return {**data, "news": {}}  # a bare ``news:`` turns it on with the defaults
        return data

    @field_validator("lags", mode="before")
    @classmethod
    def _lag_mapping(cls, v: Any) -> Any:
        return tuple(v.items()) if isinstance(v, Mapping) else v

    @field_validator("lags")
    @classmethod
    def _canonical_lags(cls, v: tuple[tuple[str, tuple[int, ...]], ...]) -> tuple:
        return tuple(
            sorted((name, tuple(sorted(_unique(ks, f"lags of {name!r}")))) for name, ks in v)
        )

    @field_serializer("lags")
    def _lags_as_mapping(self, v: tuple) -> dict[str, list[int]]:
        return {name: list(ks) for name, ks in v}

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        base = [name for p in self.features.enabled() for name, _ in p.outputs()]
        if not base:
            raise ConfigError(
                "the feature spec enables no feature",
                fix=f"enable at least one of {', '.join(FeatureSet.model_fields)}",
            )
        names = [name for name, _ in self.lags]
        if len(set(names)) != len(names):
            raise ConfigError(f"lags name a column twice: {names}", fix="list each column once")
        for name in names:
            if name in self.context_names():
                raise ConfigError(
                    f"lags name {name!r}, a news or macro column; those are not lagged",
                    fix=f"lag one of {', '.join(base)}, or widen the news windows instead",
                )
            if name not in base:
                raise ConfigError(
                    f"lags name unknown feature column {name!r}{_suggest(name, base)}",
                    fix=f"lag one of {', '.join(base)}",
                )
        return self

    def outputs(self) -> tuple[Output, ...]:
        """``(column name, warm-up)`` of every feature column, in column order.

        News and macro columns have warm-up 0: they are defined from a symbol's
        first bar (macro columns are NaN while their series is not yet known).
        """
        base = [o for p in self.features.enabled() for o in p.outputs()]
        warm = dict(base)
        position = {name: i for i, (name, _) in enumerate(base)}
        ordered = sorted(self.lags, key=lambda pair: position[pair[0]])
        lagged = [(f"{n}_lag{k}", warm[n] + k) for n, ks in ordered for k in ks]
        return (*base, *lagged, *((name, 0) for name in self.context_names()))

    def context_names(self) -> tuple[str, ...]:
        """The news columns then the macro columns (empty when neither is on)."""
        news = NEWS_FEATURES if self.news is not None else ()
        macro = self.macro.names() if self.macro is not None else ()
        return (*news, *macro)

    def lagged(self) -> tuple[tuple[str, tuple[int, ...]], ...]:
        """``(column, (k, ...))`` of every lagged column, in lag-column order."""
        position = {name: i for i, name in enumerate(self.names())}
        return tuple(sorted(self.lags, key=lambda pair: position[pair[0]]))

    def names(self) -> tuple[str, ...]:
        """Every feature column name, in column order."""
        return tuple(name for name, _ in self.outputs())

    def warmups(self) -> dict[str, int]:
        """Warm-up in bars of every feature column."""
        return dict(self.outputs())

    @classmethod
    def default(cls) -> FeatureSpec:
        """The default spec, identical to ``configs/features/default.yaml``."""
        on = {name: {} for name in FeatureSet.model_fields}
        return cls(features=on, lags={"ret_1": (1, 2, 5), "rsi_14": (1,), "mkt_ret": (1,)})

    @classmethod
    def from_yaml(cls, path: str | Path) -> FeatureSpec:
        """Read a spec from a YAML file.

        Raises
        ------
        SourceNotFoundError
            If ``path`` does not exist.
        ConfigError
            If the YAML is malformed or names an unknown feature, parameter or column.
        """
        data = read_yaml(path, what="feature spec", example="configs/features/default.yaml")
        return cls.parse(data, source=str(path))

    @classmethod
    def parse(cls, data: Any, *, source: str = "feature spec") -> FeatureSpec:
        """Validate a mapping (parsed YAML or JSON), raising one readable :class:`ConfigError`."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            # our own checks already say how to fix; pydantic's type errors do not
            own = all(err["type"] == "value_error" for err in exc.errors())
            raise ConfigError(f"{source}: {_describe(exc)}", fix=None if own else _FIX) from None

    def to_yaml(self) -> str:
        """This spec as YAML that :meth:`from_yaml` reads back to an equal spec."""
        data = self.model_dump(mode="json", exclude_none=True)
        return yaml.safe_dump(data, sort_keys=False)


_FIX = "see configs/features/default.yaml and docs/features.md for the features and parameters"


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)
