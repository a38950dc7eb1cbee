"""Configuration of the RSS/Atom source."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from nexus.config import FrozenConfig
from nexus.errors import ConfigError
from nexus.sources._news import NewsConfig, check_url, normalize_ticker

__all__ = ["Feed", "RssConfig"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class Feed(FrozenConfig):
    """One RSS or Atom feed.

    Parameters
    ----------
    name : str
        Short name, recorded as ``source = "rss:<name>"`` (letters, digits, ``_ . -``).
    url : str
        The feed's http(s) URL.
    symbols : list of str
        Tickers every item of this feed is about (a per-ticker feed).

    Examples
    --------
    >>> Feed(name="nasdaq-aapl", url="https://example.com/aapl.xml", symbols=["aapl"]).symbols
    ['AAPL']
    """

    name: str
    url: str
    symbols: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ConfigError(
                f"feed name {value!r} is empty or holds characters other than letters, "
                "digits, _ . -",
                fix="use a short name such as 'reuters-business'",
            )
        return value

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return check_url(value, "feed url")

    @field_validator("symbols")
    @classmethod
    def _check_symbols(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(normalize_ticker(t) for t in value))


def _feed_of(value: object) -> object:
    """A bare URL string as a feed named after its host."""
    if isinstance(value, str):
        url = check_url(value, "feed url")
        return {"name": urlsplit(url).hostname or "feed", "url": url}
    return value


class RssConfig(NewsConfig):
    """Which feeds to read and which tickers their items are about.

    An item is kept when at least one ticker applies to it: its feed's
    ``symbols``, the config's ``symbols``, a ticker of ``universe`` mentioned
    in its headline or summary (``$AAPL`` or ``AAPL``) or in its categories,
    or a company of ``names`` mentioned there. Other items are rejected as
    ``no_symbol``. The remaining fields (``poll_seconds``, ``timeout_s``,
    ``max_retries``, ``backoff_s``, ``max_wait_s``, ``min_interval_s``,
    ``max_bytes``, ``available_after``, ...) are those of
    :class:`~nexus.sources._news.NewsConfig`.

    Parameters
    ----------
    feeds : list of Feed
        The feeds; a bare URL string stands for a feed named after its host.
        Names must be unique.
    symbols : list of str
        Tickers every item of every feed is about.

    Examples
    --------
    >>> cfg = RssConfig(feeds=["https://feeds.example.com/markets.xml"], universe=["aapl"])
    >>> cfg.feeds[0].name, cfg.universe, cfg.poll_seconds
    ('feeds.example.com', ['AAPL'], 300.0)
    >>> RssConfig(feeds=["ftp://example.com/feed"], universe=["AAPL"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for RssConfig
    ...
    """

    feeds: list[Feed] = Field(min_length=1)
    symbols: list[str] = Field(default_factory=list)

    @field_validator("feeds", mode="before")
    @classmethod
    def _expand_feeds(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            return [_feed_of(v) for v in value]
        return value

    @field_validator("symbols")
    @classmethod
    def _check_symbols(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(normalize_ticker(t) for t in value))

    @model_validator(mode="after")
    def _check_feeds(self) -> RssConfig:
        names = [f.name for f in self.feeds]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ConfigError(
                f"feed names {twice} are used more than once",
                fix="give every feed its own name",
            )
        if not (self.symbols or self.universe or self.names):
            blind = [f.name for f in self.feeds if not f.symbols]
            if blind:
                raise ConfigError(
                    f"no ticker can apply to the items of feeds {blind}: they have no "
                    "symbols, and universe, names and symbols are empty",
                    fix="set universe (tickers to detect in the text), names, or the "
                    "feed's symbols",
                )
        return self
