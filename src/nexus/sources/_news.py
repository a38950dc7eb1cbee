"""What the news sources (``rss``, ``newsapi``) share: ids, tickers, validation, polling.

A news source turns a vendor's payload into :class:`RawItem` values and hands
them to :func:`validate_items`, which returns a ``NEWS_COLUMNS`` frame and a
``REJECT_COLUMNS`` frame. Every item lands in exactly one of them; duplicates
within one batch (same :func:`news_id`) collapse into one row: the first
one's text and times, and the union of their ``symbols`` and ``source``
(comma-separated, sorted).

Reject reasons (column ``reason``), item level:

``not_utf8``
    The item's text held bytes that could not be decoded.
``no_headline``
    No title, or one that is empty once HTML and whitespace are removed.
``no_timestamp`` / ``bad_timestamp``
    No publication time, or one that cannot be read.
``absurd_date``
    Published before 1970 or more than a day after it was fetched.
``too_long``
    A headline or body over the configured length (not a news item, or garbage).
``no_symbol``
    No ticker of the source's symbols, universe or company names applies.
``removed``
    A vendor's placeholder for a withdrawn article (NewsAPI's ``[Removed]``).
``malformed_item``
    An item that is not even shaped like one (a JSON article that is not an object).

and feed level (one row for a whole feed, page or query; see :data:`FEED_REASONS`):
``fetch_failed``, ``too_large``, ``malformed_feed``, ``malformed_json``, ``api_error``.

``available_at`` is when Nexus could first have seen an item. By default it is
the time the item was fetched (never before ``published_at``): honest, but the
first ingest of an archive makes every old item "available" only now, so a
backtest over that period sees none of it. ``available_after`` (seconds) sets
``available_at = published_at + available_after`` instead; use it only for
archives whose publication times are trusted, accepting that an item which in
reality reached the vendor late is treated as known earlier than it was.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pandas as pd
from pydantic import Field, field_validator

from nexus.config import FrozenConfig
from nexus.domain import NEWS_COLUMNS, merge_lists, news_frame
from nexus.errors import ConfigError, PayloadTooLargeError, RateLimitedError
from nexus.sources._base import SourceBatch, rejects_frame
from nexus.sources._http import HttpFetcher

__all__ = [
    "FEED_REASONS",
    "ITEM_REASONS",
    "Fetched",
    "HttpNewsSource",
    "NewsConfig",
    "NewsRules",
    "RawItem",
    "SymbolFinder",
    "check_url",
    "failed_fetch",
    "failure_row",
    "find_symbols",
    "news_id",
    "normalize_headline",
    "normalize_ticker",
    "now_utc",
    "plain_text",
    "poll_forever",
    "reject_row",
    "to_json",
    "validate_items",
]

ITEM_REASONS = (
    "not_utf8",
    "no_headline",
    "no_timestamp",
    "bad_timestamp",
    "absurd_date",
    "too_long",
    "no_symbol",
    "removed",
    "malformed_item",
)
"""Reasons a single item is rejected."""

FEED_REASONS = ("fetch_failed", "too_large", "malformed_feed", "malformed_json", "api_error")
"""Reasons a whole feed, page or query is rejected (one row, the payload names the URL)."""

_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")
# a source's rows: NEWS_COLUMNS but the scorer's name, which news_frame() leaves empty
_ROW_COLUMNS = tuple(c for c in NEWS_COLUMNS if c != "sentiment_model")
"""What a source fills; :func:`~nexus.domain.news_frame` adds the rest (sentiment_model)."""
_TICKER = re.compile(r"^[A-Z0-9][A-Z0-9.\-=^/]*$")
# fmt: off
_BLOCK_TAGS = frozenset({
    "p", "br", "div", "li", "ul", "ol", "dl", "dt", "dd", "tr", "td", "th", "table",
    "blockquote", "pre", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption",
    "section", "article", "header", "footer",
})
_HTML_TAGS = _BLOCK_TAGS | frozenset({
    "a", "abbr", "b", "big", "cite", "code", "del", "em", "font", "i", "iframe", "img", "ins",
    "kbd", "mark", "picture", "q", "s", "small", "source", "span", "strike", "strong", "sub",
    "sup", "tbody", "tfoot", "thead", "u", "video", "script", "style", "time", "wbr", "center",
    "caption", "nav", "main", "aside",
})
# fmt: on


# -- ids and text ---------------------------------------------------------------------------


def normalize_headline(headline: str) -> str:
    """The headline as :func:`news_id` compares it.

    Unicode NFKC, case-folded, punctuation replaced by spaces, whitespace collapsed.

    Examples
    --------
    >>> normalize_headline("  Apple’s Q2:   BEATS estimates! ")
    'apple s q2 beats estimates'
    """
    text = unicodedata.normalize("NFKC", headline).casefold()
    text = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text)
    return " ".join(text.split())


def news_id(headline: str, published_at: datetime | pd.Timestamp | str) -> str:
    """A stable id of a story: the same headline on the same UTC day gives the same id.

    Two feeds carrying one story (differing in case, punctuation, spacing or
    the time of day) get one id, so the store keeps it once. A story published
    either side of midnight UTC by two feeds gets two ids.

    Parameters
    ----------
    headline : str
        The plain-text headline.
    published_at : datetime, Timestamp or str
        Publication time; a naive value is taken as UTC.

    Returns
    -------
    str
        24 hex digits of a SHA-256 of the normalised headline and the UTC date.

    Examples
    --------
    >>> a = news_id("Apple beats estimates!", "2024-05-01T13:45:00Z")
    >>> a == news_id("APPLE  beats estimates", "2024-05-01T09:00:00-04:00")
    True
    >>> a == news_id("Apple beats estimates", "2024-05-02T13:45:00Z"), len(a)
    (False, 24)
    """
    stamp = pd.Timestamp(published_at)
    stamp = stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")
    key = f"{normalize_headline(headline)}|{stamp:%Y-%m-%d}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


class _TextOnly(HTMLParser):
    """Collects the text of HTML; a "tag" that is no HTML element (``<AAPL.O>``) stays text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in _HTML_TAGS:
            self.handle_data(self.get_starttag_text() or "")
        elif tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: object) -> None:
        if tag not in _HTML_TAGS:
            self.handle_data(self.get_starttag_text() or "")
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag not in _HTML_TAGS:
            self.handle_data(f"</{tag}>")
        elif tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def plain_text(markup: str | None) -> str:
    """Text of an HTML fragment: tags removed, entities decoded, whitespace collapsed.

    Examples
    --------
    >>> plain_text("<p>Apple &amp; <b>Microsoft</b></p><p>rise</p>")
    'Apple & Microsoft rise'
    >>> plain_text("Apple Inc <AAPL.O> beats")
    'Apple Inc <AAPL.O> beats'
    >>> plain_text(None)
    ''
    """
    if not markup:
        return ""
    parser = _TextOnly()
    parser.feed(markup)
    parser.close()
    return " ".join("".join(parser.parts).split())


def to_json(value: Any) -> str:
    """``value`` as compact JSON; what JSON cannot hold is written with ``str``.

    Examples
    --------
    >>> to_json({"title": "x", "n": 1})
    '{"title":"x","n":1}'
    """
    return json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))


# -- tickers ---------------------------------------------------------------------------------


def normalize_ticker(value: str) -> str:
    """A ticker stripped and upper-cased; :class:`~nexus.errors.ConfigError` if it is not one.

    Examples
    --------
    >>> normalize_ticker(" brk.b ")
    'BRK.B'
    """
    ticker = str(value).strip().upper()
    if not _TICKER.match(ticker):
        raise ConfigError(
            f"{value!r} is not a ticker",
            fix="use letters, digits and . - = ^ / only, e.g. 'AAPL' or 'BRK.B'",
        )
    return ticker


def _alternation(words: Iterable[str]) -> str:
    ordered = sorted(set(words), key=lambda w: (-len(w), w))
    return "|".join(r"\s+".join(re.escape(part) for part in w.split()) for w in ordered)


class SymbolFinder:
    """Finds the tickers of a universe, and company names, mentioned in text.

    A ticker counts when written as a cashtag (``$AAPL``, any case) or as a
    whole word in capitals (``AAPL``; case-sensitive, so ``apple`` is not
    ``AAPL``). One-letter tickers (``F``, ``T``) count only as cashtags, since
    ``A`` starts many sentences. A company name (``Apple``) counts as a whole
    word in any case and maps to its ticker.

    Parameters
    ----------
    universe : iterable of str
        Tickers to look for.
    names : mapping of str to str, optional
        Company name -> ticker.

    Examples
    --------
    >>> finder = SymbolFinder(["AAPL", "MSFT", "F"], {"Alphabet": "GOOGL"})
    >>> finder.find("$aapl and MSFT beat; alphabet lags. A fine day for $F")
    ('AAPL', 'F', 'GOOGL', 'MSFT')
    >>> finder.find("msft and AAPLX are not tickers here")
    ()
    """

    def __init__(self, universe: Iterable[str] = (), names: Mapping[str, str] | None = None):
        self.universe = frozenset(t.strip().upper() for t in universe if t.strip())
        self.names = {" ".join(k.split()).casefold(): v.upper() for k, v in (names or {}).items()}
        tickers = _alternation(self.universe)
        bare = _alternation(t for t in self.universe if len(t) > 1)
        self._cashtag = re.compile(rf"(?<![\w$])\$({tickers})(?!\w)", re.I) if tickers else None
        self._bare = re.compile(rf"(?<![\w$])({bare})(?!\w)") if bare else None
        words = _alternation(self.names)
        self._names = re.compile(rf"(?<!\w)({words})(?!\w)", re.I) if words else None

    def find(self, text: str) -> tuple[str, ...]:
        """The sorted tickers mentioned in ``text``."""
        found: set[str] = set()
        if self._cashtag:
            found.update(m.group(1).upper() for m in self._cashtag.finditer(text))
        if self._bare:
            found.update(m.group(1) for m in self._bare.finditer(text))
        if self._names:
            found.update(
                self.names[" ".join(m.group(1).split()).casefold()]
                for m in self._names.finditer(text)
            )
        return tuple(sorted(found))


def find_symbols(
    text: str, universe: Iterable[str], names: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """The tickers of ``universe`` (and of ``names``) mentioned in ``text``.

    See :class:`SymbolFinder`; build one instead when matching many texts.

    Examples
    --------
    >>> find_symbols("Why $TSLA and NVDA moved; Microsoft too", ["NVDA", "TSLA", "MSFT"],
    ...              {"Microsoft": "MSFT"})
    ('MSFT', 'NVDA', 'TSLA')
    """
    return SymbolFinder(universe, names).find(text)


# -- validation ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RawItem:
    """One news item as a vendor sent it, before validation.

    Parameters
    ----------
    headline, body, url : str
        Plain text (HTML removed) and the link.
    source : str
        The ``source`` column: ``rss:<feed>``, ``newsapi:<outlet>``.
    published : str or None
        The publication time as the vendor wrote it (None: absent).
    published_at : Timestamp or None
        ``published`` read as UTC (None: absent or unreadable).
    fetched_at : Timestamp
        When the payload holding the item arrived (UTC).
    symbols : tuple of str
        Tickers the item is about because of where it came from (a per-ticker
        feed or query).
    tags : tuple of str
        The vendor's category terms; those that are tickers of the universe count.
    payload : str
        The raw item as JSON, kept in the reject row.
    undecodable : bool
        The item's text held bytes that could not be decoded.
    """

    headline: str
    body: str
    url: str
    source: str
    published: str | None
    published_at: pd.Timestamp | None
    fetched_at: pd.Timestamp
    symbols: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    payload: str = "{}"
    undecodable: bool = False


@dataclass(frozen=True)
class NewsRules:
    """How :func:`validate_items` judges items.

    Parameters
    ----------
    finder : SymbolFinder
        Tickers and company names to detect.
    available_after : float, optional
        Seconds after ``published_at`` an item counts as available; None: when fetched.
    max_headline_chars, max_body_chars : int
        Longer items are rejected as ``too_long``.
    max_ahead_s : float
        How far (seconds) after its fetch time an item may claim to be published.
    """

    finder: SymbolFinder = field(default_factory=SymbolFinder)
    available_after: float | None = None
    max_headline_chars: int = 1_000
    max_body_chars: int = 100_000
    max_ahead_s: float = 86_400.0


def reject_row(
    reason: str,
    detail: str,
    payload: str,
    *,
    symbol: str | None = None,
    ts: pd.Timestamp | None = None,
) -> dict:
    """One ``REJECT_COLUMNS`` row (``interval`` is None for news)."""
    return {
        "symbol": symbol,
        "interval": None,
        "ts": ts,
        "reason": reason,
        "detail": detail,
        "payload": payload,
    }


def _time_problem(item: RawItem, rules: NewsRules) -> tuple[str, str] | None:
    if not (item.published or "").strip():
        return "no_timestamp", f"{item.source}: the item has no publication time"
    when = item.published_at
    if when is None:
        return "bad_timestamp", f"{item.source}: cannot read the time {item.published!r}"
    if when < _EPOCH or when > item.fetched_at + pd.Timedelta(seconds=rules.max_ahead_s):
        return (
            "absurd_date",
            f"{item.source}: published {when.isoformat()}, before 1970 or more than "
            f"{rules.max_ahead_s:g} s after it was fetched ({item.fetched_at.isoformat()})",
        )
    return None


def _problem(item: RawItem, rules: NewsRules) -> tuple[str, str] | None:
    if item.undecodable:
        return "not_utf8", f"{item.source}: the item holds bytes that are not valid text"
    if not item.headline.strip():
        return "no_headline", f"{item.source}: the item has no headline"
    problem = _time_problem(item, rules)
    if problem:
        return problem
    if len(item.headline) > rules.max_headline_chars or len(item.body) > rules.max_body_chars:
        return (
            "too_long",
            f"{item.source}: headline {len(item.headline)} / body {len(item.body)} characters, "
            f"over {rules.max_headline_chars} / {rules.max_body_chars}",
        )
    return None


def _symbols_of(item: RawItem, rules: NewsRules) -> tuple[str, ...]:
    finder = rules.finder
    tagged = {t.strip().upper() for t in item.tags} & finder.universe
    mentioned = finder.find(f"{item.headline}\n{item.body}")
    return tuple(sorted({*item.symbols, *tagged, *mentioned}))


def _available_at(item: RawItem, rules: NewsRules) -> pd.Timestamp:
    published = item.published_at
    assert published is not None
    if rules.available_after is not None:
        return published + pd.Timedelta(seconds=rules.available_after)
    return max(item.fetched_at, published)


def _row(item: RawItem, symbols: tuple[str, ...], rules: NewsRules) -> dict:
    return {
        "id": news_id(item.headline, item.published_at),
        "published_at": item.published_at,
        "available_at": _available_at(item, rules),
        "headline": item.headline,
        "symbols": ",".join(symbols),
        "body": item.body,
        "url": item.url,
        "sentiment": float("nan"),
        "source": item.source,
    }


def _merge(rows: dict[str, dict], row: dict) -> None:
    """Add ``row``; a second row with the same id only adds its symbols and source."""
    first = rows.setdefault(row["id"], row)
    if first is not row:
        first["symbols"] = merge_lists([first["symbols"], row["symbols"]])
        first["source"] = merge_lists([first["source"], row["source"]])


def validate_items(
    items: Iterable[RawItem], rules: NewsRules, rejects: Iterable[dict] = ()
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``items`` into a news frame and a rejects frame.

    Parameters
    ----------
    items : iterable of RawItem
        Parsed items of one batch.
    rules : NewsRules
        Tickers to detect, ``available_at`` policy and length limits.
    rejects : iterable of dict, optional
        Reject rows already made (feed-level problems), put first.

    Returns
    -------
    news : DataFrame, shape (n, 9)
        ``NEWS_COLUMNS``, one row per id, ``sentiment`` NaN (scored at ingest).
    rejects : DataFrame, shape (r, 6)
        ``REJECT_COLUMNS``, ``reason`` one of :data:`ITEM_REASONS` or :data:`FEED_REASONS`.

    Examples
    --------
    >>> now = pd.Timestamp("2024-05-01T14:00:00Z")
    >>> item = RawItem(headline="$AAPL beats", body="", url="", source="rss:demo",
    ...                published="2024-05-01T13:45:00Z",
    ...                published_at=pd.Timestamp("2024-05-01T13:45:00Z"), fetched_at=now)
    >>> news, bad = validate_items([item, item], NewsRules(finder=SymbolFinder(["AAPL"])))
    >>> news[["symbols", "available_at"]].to_dict("records"), len(bad)
    ([{'symbols': 'AAPL', 'available_at': Timestamp('2024-05-01 14:00:00+0000', tz='UTC')}], 0)
    """
    rows: dict[str, dict] = {}
    bad = list(rejects)
    for item in items:
        problem = _problem(item, rules)
        symbols = _symbols_of(item, rules) if problem is None else ()
        if problem is None and not symbols:
            problem = ("no_symbol", f"{item.source}: no ticker of the universe is mentioned")
        if problem is not None:
            first = (item.symbols or (None,))[0]
            bad.append(reject_row(*problem, item.payload, symbol=first, ts=item.published_at))
            continue
        _merge(rows, _row(item, symbols, rules))
    news = pd.DataFrame(list(rows.values()), columns=list(_ROW_COLUMNS))
    return news_frame(news), rejects_frame(bad)


# -- configuration ---------------------------------------------------------------------------


class NewsConfig(FrozenConfig):
    """Settings every news source shares (see the subclasses for the rest).

    Parameters
    ----------
    universe : list of str
        Tickers to detect in headlines and bodies (``$AAPL``, ``AAPL``).
    names : dict of str to str
        Company name -> ticker, detected case-insensitively (``{"Apple": "AAPL"}``).
    poll_seconds : float
        Time between two polls of :meth:`stream`.
    timeout_s : float
        Connect and read timeout of one request.
    max_retries : int
        Retries of a timed-out, 5xx or 429 request.
    backoff_s : float
        The first retry's delay, doubling each time.
    max_wait_s : float
        The longest ``Retry-After`` waited for inside one fetch; a longer one
        fails the fetch (``stream`` then waits that long before its next poll).
    min_interval_s : float
        Least time between two requests (a vendor's rate limit).
    max_bytes : int
        Largest response read; a larger one is rejected as ``too_large``.
    available_after : float, optional
        Seconds after publication an item counts as available; default None:
        when it was fetched (see :mod:`nexus.sources._news` for the trade-off).
    max_headline_chars, max_body_chars : int
        Longer items are rejected as ``too_long``.
    """

    universe: list[str] = Field(default_factory=list)
    names: dict[str, str] = Field(default_factory=dict)
    poll_seconds: float = Field(default=300.0, gt=0.0, le=86_400.0)
    timeout_s: float = Field(default=10.0, gt=0.0, le=600.0)
    max_retries: int = Field(default=3, ge=0, le=20)
    backoff_s: float = Field(default=1.0, ge=0.0, le=600.0)
    max_wait_s: float = Field(default=60.0, ge=0.0, le=3_600.0)
    min_interval_s: float = Field(default=0.0, ge=0.0, le=3_600.0)
    max_bytes: int = Field(default=5_000_000, ge=1_000, le=1_000_000_000)
    available_after: float | None = Field(default=None, ge=0.0)
    max_headline_chars: int = Field(default=1_000, ge=10)
    max_body_chars: int = Field(default=100_000, ge=100)

    @field_validator("universe")
    @classmethod
    def _check_universe(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(normalize_ticker(t) for t in value))

    @field_validator("names")
    @classmethod
    def _check_names(cls, value: dict[str, str]) -> dict[str, str]:
        out = {}
        for name, ticker in value.items():
            if not name.strip():
                raise ConfigError(
                    "names holds an empty company name", fix='use e.g. {"Apple": "AAPL"}'
                )
            out[" ".join(name.split())] = normalize_ticker(ticker)
        return out

    def rules(self) -> NewsRules:
        """The validation rules these settings describe."""
        return NewsRules(
            finder=SymbolFinder(self.universe, self.names),
            available_after=self.available_after,
            max_headline_chars=self.max_headline_chars,
            max_body_chars=self.max_body_chars,
        )

    def fetcher_options(self) -> dict[str, float | int]:
        """Keyword arguments of :class:`~nexus.sources._http.HttpFetcher`."""
        return {
            "timeout_s": self.timeout_s,
            "max_retries": self.max_retries,
            "backoff_s": self.backoff_s,
            "max_wait_s": self.max_wait_s,
            "min_interval_s": self.min_interval_s,
            "max_bytes": self.max_bytes,
        }


def check_url(value: str, what: str) -> str:
    """``value`` stripped, if it is an http(s) URL with a host; else ConfigError.

    Examples
    --------
    >>> check_url(" https://example.com/feed.xml ", "feed url")
    'https://example.com/feed.xml'
    """
    url = value.strip()
    scheme, _, rest = url.partition("://")
    if scheme.lower() not in ("http", "https") or not rest.split("/")[0]:
        raise ConfigError(
            f"{what} {value!r} is not an http(s) URL",
            fix="use a URL such as https://example.com/feed.xml (file:// and other schemes "
            "are not fetched)",
        )
    return url


# -- live polling ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fetched:
    """One target's batch, and how long the vendor asked to wait (a rate limit)."""

    batch: SourceBatch
    retry_after: float | None = None


class _Seen:
    """The ids (and reject keys) already yielded, the newest ``limit`` of them."""

    def __init__(self, limit: int = 200_000) -> None:
        self._keys: dict[str, None] = {}
        self._limit = limit

    def add(self, key: str) -> bool:
        """Record ``key``; True if it is new."""
        if key in self._keys:
            return False
        self._keys[key] = None
        if len(self._keys) > self._limit:
            del self._keys[next(iter(self._keys))]
        return True


def _only_new(batch: SourceBatch, seen: _Seen) -> SourceBatch:
    """``batch`` without the news and item-level rejects already yielded (maybe nothing)."""
    news, rejects = batch.news, batch.rejects
    if news is not None and len(news):
        news = news.loc[[seen.add(i) for i in news["id"]]].reset_index(drop=True)
    if rejects is not None and len(rejects):
        keep = [
            r in FEED_REASONS or seen.add(f"{r}|{p}")
            for r, p in zip(rejects["reason"], rejects["payload"], strict=True)
        ]
        rejects = rejects.loc[keep].reset_index(drop=True)
    return SourceBatch(label=batch.label, news=news, rejects=rejects)


def failure_row(label: str, url: str, exc: Exception, log: logging.Logger) -> dict:
    """A failed request as a ``fetch_failed`` (or ``too_large``) reject row, logged as a warning."""
    log.warning("%s: %s", label, exc)
    reason = "too_large" if isinstance(exc, PayloadTooLargeError) else "fetch_failed"
    payload = to_json({"label": label, "url": url, "error": str(exc)})
    return reject_row(reason, f"{label}: {exc}", payload)


def failed_fetch(label: str, url: str, exc: Exception, log: logging.Logger) -> Fetched:
    """A target whose request failed, as a batch holding :func:`failure_row`.

    A :class:`~nexus.errors.RateLimitedError` carries its ``retry_after`` on
    to the poller.
    """
    row = failure_row(label, url, exc, log)
    retry_after = exc.retry_after if isinstance(exc, RateLimitedError) else None
    return Fetched(SourceBatch(label=label, rejects=rejects_frame([row])), retry_after)


def _crash_batch(label: str, exc: Exception, log: logging.Logger) -> SourceBatch:
    log.warning("%s: poll failed: %s", label, exc)
    row = reject_row("fetch_failed", f"{type(exc).__name__}: {exc}", to_json({"error": str(exc)}))
    return SourceBatch(label=label, rejects=rejects_frame([row]))


async def _next(it: Iterator[Fetched], label: str, log: logging.Logger) -> Fetched | None:
    try:
        return await asyncio.to_thread(next, it, None)
    except ConfigError:
        raise  # a wrong key or setting does not heal by polling again
    except Exception as exc:
        return Fetched(_crash_batch(label, exc, log))


async def poll_forever(
    collect: Callable[[], Iterator[Fetched]],
    *,
    poll_seconds: float,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    label: str,
    log: logging.Logger,
) -> AsyncIterator[SourceBatch]:
    """Poll ``collect`` every ``poll_seconds``; yield what was not yielded before.

    Each poll runs ``collect()`` (blocking I/O) one target at a time in a
    worker thread. A target's batch is yielded without the news ids and
    item-level rejects already yielded (feed-level rejects, such as
    ``fetch_failed``, are yielded every time they happen). An unexpected error
    ends the poll with a ``fetch_failed`` reject; the next poll comes as usual.
    When a target reports ``retry_after``, the next poll waits at least that long.
    A :class:`~nexus.errors.ConfigError` (a refused API key) is raised.

    Yields
    ------
    SourceBatch
        One per target and poll, holding only what is new (maybe nothing: a
        live ingest counts polls and reports quiet ones too).
    """
    seen = _Seen()
    while True:
        wait = poll_seconds
        it = collect()
        while (fetched := await _next(it, label, log)) is not None:
            if fetched.retry_after:
                wait = max(wait, fetched.retry_after)
            yield _only_new(fetched.batch, seen)
        await sleep(wait)


class HttpNewsSource:
    """What the web news sources share: the HTTP fetcher, the clock, the validation rules.

    Parameters
    ----------
    config : NewsConfig
        The source's config (``fetcher_options()`` and ``rules()`` come from it).
    what : str
        The source in error messages (``"rss feed"``, ``"NewsAPI"``).
    fetcher : HttpFetcher, optional
        The fetcher to use; by default one made from the config and closed by
        :meth:`close`.
    clock : callable, optional
        ``() -> datetime``, the fetch time (``available_at``); default: now, UTC.
    """

    name = ""

    def __init__(
        self,
        config: NewsConfig,
        what: str,
        *,
        fetcher: HttpFetcher | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self._own = fetcher is None
        self._fetcher = fetcher or HttpFetcher(what, **config.fetcher_options())
        self._clock = clock or now_utc
        self._rules = config.rules()

    def close(self) -> None:
        """Close the HTTP client if this source made it."""
        if self._own:
            self._fetcher.close()

    def __enter__(self) -> HttpNewsSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> dict:
        """The configuration (never an API key), as recorded in the ingest log."""
        return self.config.model_dump(mode="json")

    def _now(self) -> pd.Timestamp:
        stamp = pd.Timestamp(self._clock())
        return stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")


def now_utc() -> datetime:
    """The current time, UTC."""
    return datetime.now(UTC)
