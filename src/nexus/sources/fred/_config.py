"""Configuration of the FRED source."""

from __future__ import annotations

import re
from datetime import date, time

from pydantic import Field, field_validator

from nexus.config import FrozenConfig, Settings
from nexus.errors import ConfigError

__all__ = ["DEFAULT_BASE_URL", "FredConfig", "resolve_api_key"]

DEFAULT_BASE_URL = "https://api.stlouisfed.org"
"""Where the FRED API lives."""

_SERIES_ID = re.compile(r"^[A-Z0-9_.]{1,64}$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class FredConfig(FrozenConfig):
    """Which FRED series to download, with every vintage, and how hard to try.

    Parameters
    ----------
    series : list of str
        FRED series ids (``GDP``, ``CPIAUCSL``, ``UNRATE``), upper-cased, duplicates dropped.
    api_key : str, optional
        The FRED API key (free at https://fredaccount.stlouisfed.org/apikeys).
        Default: ``NEXUS_FRED_API_KEY`` (:attr:`nexus.config.Settings.fred_api_key`),
        read when the source is built (:func:`resolve_api_key`). It is never
        shown: not in ``repr``, not in ``model_dump`` (hence not in the ingest
        log), not in error messages.
    base_url : str
        The API's root, without ``/fred/...``. Default ``https://api.stlouisfed.org``.
    realtime_start : date, optional
        The oldest vintage asked for. Default 1776-07-04: every vintage FRED
        (ALFRED) keeps.
    observation_start : date, optional
        The oldest observation period asked for. Default: all.
    release_time : str, optional
        ``"HH:MM"`` in New York time: when the series' releases are published
        (``"08:30"`` for CPI and GDP, ``"14:00"`` for FOMC decisions). FRED gives
        only the date a vintage appeared. Without ``release_time`` a vintage is
        taken as public at the **end** of that date in New York (the next day
        00:00 America/New_York, in UTC): later than the truth, so a feature never
        sees a value before it could have been known. Set it only when every
        series of this config is released at that time.
    poll_seconds : float
        The live stream's pause between polls. Default one hour.
    page_size : int
        Observations per request (FRED allows at most 100 000); longer
        histories are read page by page (``offset``).
    timeout_s : float
        Connect and read timeout of each request.
    max_retries : int
        Retries of a timed-out, dropped, 5xx or 429 request.
    backoff_s : float
        The first retry's delay; each later one doubles, plus up to 50 % jitter.
    min_interval_s : float
        Least time between two requests (FRED allows 120 a minute).
    max_bytes : int
        The largest response read; a longer one is rejected (``too_large``).

    Examples
    --------
    >>> config = FredConfig(series=["gdp", "CPIAUCSL", "GDP"], api_key="0123abcd")
    >>> config.series, config.release_time, config.poll_seconds
    (['GDP', 'CPIAUCSL'], None, 3600.0)
    >>> "0123abcd" in repr(config) or "api_key" in config.model_dump()
    False
    >>> FredConfig(series=["CPIAUCSL"], release_time="8:30").release_clock
    datetime.time(8, 30)
    """

    series: list[str] = Field(min_length=1)
    api_key: str | None = Field(default=None, repr=False, exclude=True)
    base_url: str = DEFAULT_BASE_URL
    realtime_start: date | None = None
    observation_start: date | None = None
    release_time: str | None = None
    poll_seconds: float = Field(default=3600.0, gt=0.0)
    page_size: int = Field(default=100_000, ge=1, le=100_000)
    timeout_s: float = Field(default=30.0, gt=0.0, le=600.0)
    max_retries: int = Field(default=4, ge=0, le=20)
    backoff_s: float = Field(default=1.0, ge=0.0, le=600.0)
    min_interval_s: float = Field(default=0.5, ge=0.0, le=60.0)
    max_bytes: int = Field(default=50_000_000, ge=1_000)

    @field_validator("series")
    @classmethod
    def _check_series(cls, value: list[str]) -> list[str]:
        out = [s.strip().upper() for s in value]
        bad = [s for s in out if not _SERIES_ID.match(s)]
        if bad:
            raise ConfigError(
                f"series {bad} are not FRED series ids",
                fix="use ids as FRED shows them, e.g. ['GDP', 'CPIAUCSL', 'UNRATE']",
            )
        return list(dict.fromkeys(out))

    @field_validator("base_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ConfigError(
                f"base_url {value!r} is not an http(s) URL", fix=f"use {DEFAULT_BASE_URL}"
            )
        return value.rstrip("/")

    @field_validator("release_time")
    @classmethod
    def _check_release_time(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip()
        if len(text) == 4 and text[1] == ":":
            text = "0" + text
        if not _CLOCK.match(text):
            raise ConfigError(
                f"release_time {value!r} is not a time of day HH:MM",
                fix="give New York time, e.g. '08:30', or leave it unset (end of the day)",
            )
        return text

    @field_validator("realtime_start")
    @classmethod
    def _check_realtime_start(cls, value: date | None) -> date | None:
        # a field validator, not a model one: a model's error would show every input, the key too
        if value is not None and value < date(1776, 7, 4):
            raise ConfigError(
                f"realtime_start {value} is before 1776-07-04",
                fix="FRED keeps no vintage older than that; leave realtime_start unset",
            )
        return value

    @property
    def release_clock(self) -> time | None:
        """:attr:`release_time` as a :class:`datetime.time`, or None."""
        if self.release_time is None:
            return None
        hours, minutes = self.release_time.split(":")
        return time(int(hours), int(minutes))


def resolve_api_key(config: FredConfig, settings: Settings | None = None) -> str:
    """The key to use: ``config.api_key``, else ``NEXUS_FRED_API_KEY``.

    Parameters
    ----------
    config : FredConfig
        The source's configuration.
    settings : Settings, optional
        Where to read ``fred_api_key``; default ``Settings()`` (the environment).

    Raises
    ------
    ConfigError
        If neither holds a key; the message names ``NEXUS_FRED_API_KEY``.

    Examples
    --------
    >>> resolve_api_key(FredConfig(series=["GDP"], api_key=" k1 "))
    'k1'
    """
    key = (config.api_key or "").strip()
    if not key:
        key = ((settings or Settings()).fred_api_key or "").strip()
    if not key:
        raise ConfigError(
            "the FRED source has no API key",
            fix="set NEXUS_FRED_API_KEY (a free key from "
            "https://fredaccount.stlouisfed.org/apikeys) or give api_key in the config",
        )
    return key
