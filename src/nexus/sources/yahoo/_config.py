"""Configuration of the Yahoo Finance source."""

from __future__ import annotations

from datetime import date

from pydantic import Field, field_validator, model_validator

from nexus.config import FrozenConfig
from nexus.domain import Interval
from nexus.errors import ConfigError

__all__ = ["PERIODS", "YahooConfig"]

PERIODS = ("1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max")
"""The ``period`` values Yahoo accepts."""


class YahooConfig(FrozenConfig):
    """What to download from Yahoo Finance and how hard to try.

    Parameters
    ----------
    symbols : list of str
        Yahoo tickers (``AAPL``, ``^GSPC``, ``EURUSD=X``, ``BTC-USD``), upper-cased.
    interval : str
        ``1m``, ``5m``, ``15m``, ``30m``, ``1h`` or ``1d``. Yahoo keeps 1m bars
        for about a week and other intraday bars for 60 days (1h: 730 days).
    start, end : date, optional
        First day (inclusive) and last day (exclusive, as Yahoo reads it), in
        the exchange's time zone.
    period : str, optional
        ``1d, 5d, 1mo, 3mo, 6mo, 1y, 2y, 5y, 10y, ytd`` or ``max``; at most two
        of ``start``, ``end`` and ``period``. With none, Yahoo returns one month.
    max_retries : int
        Retries after the first attempt when Yahoo fails transiently.
    backoff_seconds : float
        The first retry's delay; each later one doubles, plus up to 50 % jitter.
    calendar : str, optional
        The exchange calendar recorded for every symbol. Default: guessed from
        the ticker (``=X`` -> ``FX``, ``-USD`` -> ``24/7``, ``.L`` -> ``XLON``,
        ..., otherwise ``XNYS``).

    Examples
    --------
    >>> YahooConfig(symbols=["aapl"], period="max").symbols
    ['AAPL']
    """

    symbols: list[str] = Field(min_length=1)
    interval: str = "1d"
    start: date | None = None
    end: date | None = None
    period: str | None = None
    max_retries: int = Field(default=4, ge=0, le=20)
    backoff_seconds: float = Field(default=1.0, ge=0.0, le=600.0)
    calendar: str | None = None

    @field_validator("symbols")
    @classmethod
    def _check_symbols(cls, value: list[str]) -> list[str]:
        out = [s.strip().upper() for s in value]
        if not all(out):
            raise ConfigError(
                "symbols holds an empty ticker", fix="remove it, e.g. ['AAPL', 'MSFT']"
            )
        return list(dict.fromkeys(out))

    @field_validator("interval")
    @classmethod
    def _check_interval(cls, value: str) -> str:
        return Interval.parse(value).value

    @field_validator("period")
    @classmethod
    def _check_period(cls, value: str | None) -> str | None:
        if value is not None and value not in PERIODS:
            raise ConfigError(
                f"period {value!r} is not one Yahoo accepts", fix=f"use one of {', '.join(PERIODS)}"
            )
        return value

    @model_validator(mode="after")
    def _check_range(self) -> YahooConfig:
        if self.period and self.start and self.end:
            raise ConfigError("start, end and period are all set", fix="give at most two of them")
        if self.start and self.end and self.start >= self.end:
            raise ConfigError(
                f"start {self.start} is not before end {self.end}",
                fix="end is exclusive: give an end after start",
            )
        return self
