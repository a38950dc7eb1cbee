"""Configuration of the NewsAPI-style source."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from pydantic import Field, field_validator, model_validator

from nexus.errors import ConfigError
from nexus.sources._news import NewsConfig, check_url, normalize_ticker

__all__ = ["NewsApiConfig"]

_LANGUAGE = re.compile(r"^[a-z]{2}$")


class NewsApiConfig(NewsConfig):
    """What to ask a NewsAPI-style ``/v2/everything`` endpoint for.

    Each query is one batch. An article found by a per-ticker query is about
    that ticker; an article found by ``query`` is about the tickers of
    ``universe`` and ``names`` it mentions (others are rejected as
    ``no_symbol``). Fields shared with the RSS source (``universe``, ``names``,
    ``timeout_s``, ``max_retries``, ``backoff_s``, ``max_wait_s``,
    ``min_interval_s``, ``max_bytes``, ``available_after``, ...) are those of
    :class:`~nexus.sources._news.NewsConfig`.

    Parameters
    ----------
    query : str, optional
        One search (NewsAPI syntax: ``"apple OR microsoft"``, quotes, ``+``/``-``).
    queries : dict of str to str
        Ticker -> search; every article it finds is about that ticker
        (``{"AAPL": "Apple OR AAPL"}``). At least one of ``query`` and
        ``queries`` is needed.
    base_url : str
        The server (``https://newsapi.org``); requests go to ``<base_url>/v2/everything``.
    api_key : str, optional
        Sent as ``X-Api-Key``. Default: ``NEXUS_NEWSAPI_KEY`` from the
        environment. Never written to ``describe()`` or ``config_id``.
    language : str, optional
        Two-letter language code (``en``).
    start : datetime, optional
        The oldest publication time asked for (``from``; naive means UTC).
        A live stream moves it to the newest article seen after each poll.
    page_size : int
        Articles per page (at most 100).
    max_pages : int
        Pages read per query and poll; pagination also stops at
        ``totalResults``. NewsAPI's free plan serves the first 100 results only.
    poll_seconds : float
        Default 900: one query every 15 minutes stays within the free plan's
        100 requests a day.

    Examples
    --------
    >>> cfg = NewsApiConfig(queries={"aapl": "Apple"}, api_key="k")
    >>> cfg.queries, cfg.base_url, "api_key" in cfg.model_dump()
    ({'AAPL': 'Apple'}, 'https://newsapi.org', False)
    """

    query: str | None = None
    queries: dict[str, str] = Field(default_factory=dict)
    base_url: str = "https://newsapi.org"
    api_key: str | None = Field(default=None, repr=False, exclude=True)
    language: str | None = None
    start: datetime | None = None
    page_size: int = Field(default=100, ge=1, le=100)
    max_pages: int = Field(default=1, ge=1, le=100)
    poll_seconds: float = Field(default=900.0, gt=0.0, le=86_400.0)

    @field_validator("query")
    @classmethod
    def _check_query(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return _search(value, "query")

    @field_validator("queries")
    @classmethod
    def _check_queries(cls, value: dict[str, str]) -> dict[str, str]:
        return {normalize_ticker(k): _search(v, f"queries[{k!r}]") for k, v in value.items()}

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        return check_url(value, "base_url").rstrip("/")

    @field_validator("language")
    @classmethod
    def _check_language(cls, value: str | None) -> str | None:
        if value is not None and not _LANGUAGE.match(value):
            raise ConfigError(
                f"language {value!r} is not a two-letter code", fix="use e.g. 'en' or 'de'"
            )
        return value

    @field_validator("start")
    @classmethod
    def _check_start(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @model_validator(mode="after")
    def _check_targets(self) -> NewsApiConfig:
        if not (self.query or self.queries):
            raise ConfigError(
                "neither query nor queries is set", fix="set query, or queries per ticker"
            )
        if self.query and not (self.universe or self.names):
            raise ConfigError(
                "query is set but universe and names are empty, so no ticker could apply to "
                "its articles",
                fix="set universe (tickers to detect) or names, or use queries per ticker",
            )
        return self


def _search(value: str, what: str) -> str:
    text = " ".join(value.split())
    if not text or len(text) > 500:
        raise ConfigError(
            f"{what} is {'empty' if not text else f'{len(text)} characters long'}",
            fix="give a search of 1 to 500 characters, e.g. 'Apple OR AAPL'",
        )
    return text
