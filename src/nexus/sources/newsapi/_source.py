"""The NewsAPI-style source: articles from ``/v2/everything``, paginated, optionally polled."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

import httpx
import pandas as pd

from nexus.config import Settings
from nexus.errors import ConfigError, RateLimitedError, SourceError
from nexus.sources._base import SourceBatch
from nexus.sources._http import HttpFetcher, Response
from nexus.sources._news import (
    Fetched,
    HttpNewsSource,
    RawItem,
    failure_row,
    poll_forever,
    validate_items,
)
from nexus.sources.newsapi._config import NewsApiConfig
from nexus.sources.newsapi._parse import article_items, parse_page

__all__ = ["NewsApiSource"]

_log = logging.getLogger("nexus.sources.newsapi")
_REFUSED = re.compile(r"answered HTTP (401|403)\b")


@dataclass(frozen=True, slots=True)
class _Query:
    label: str
    q: str
    symbols: tuple[str, ...]


def _api_key(config: NewsApiConfig, settings: Settings | None) -> str:
    key = config.api_key or (settings if settings is not None else Settings()).newsapi_key
    if not key or not key.strip():
        raise ConfigError(
            "the NewsAPI source has no API key: api_key is not set and neither is "
            "NEXUS_NEWSAPI_KEY",
            fix="export NEXUS_NEWSAPI_KEY=<your key> (free at https://newsapi.org/register), "
            "or set api_key in the source's config",
        )
    return key.strip()


class NewsApiSource(HttpNewsSource):
    """News from a NewsAPI-style ``/v2/everything`` endpoint (newsapi.org v2 format).

    Parameters
    ----------
    config : NewsApiConfig
        Queries, tickers, pagination, polling and HTTP settings.
    fetcher : HttpFetcher, optional
        Does every GET (default: one built from ``config``, closed by :meth:`close`).
    clock : callable, optional
        ``() -> datetime`` (UTC), the fetch time. Default: the system clock.
    settings : Settings, optional
        Where the key comes from when ``config.api_key`` is None (default:
        ``Settings()``, i.e. ``NEXUS_NEWSAPI_KEY``).

    Raises
    ------
    ConfigError
        If there is no API key.

    Notes
    -----
    :meth:`fetch` yields one batch per query (label: the ticker of a
    per-ticker query, else the query), asking
    ``GET <base_url>/v2/everything?q=...&sortBy=publishedAt&pageSize=...&page=N``
    (plus ``from`` and ``language`` when set) with the key in ``X-Api-Key``,
    page after page until ``totalResults`` articles, an empty page or
    ``max_pages``. A page that fails (after the fetcher's retries, including
    NewsAPI's 429 ``rateLimited``), is too large, not JSON or an API error
    gives one reject and ends that query; the articles of earlier pages are
    kept. A refused key (HTTP 401 or 403) raises :class:`ConfigError`, in
    :meth:`fetch` and :meth:`stream` alike. ``since`` is accepted for the
    :class:`~nexus.sources.Source` protocol and not used (``start`` sets
    ``from``).

    Examples
    --------
    >>> from nexus.sources.newsapi import NewsApiConfig
    >>> cfg = NewsApiConfig(queries={"AAPL": "Apple", "MSFT": "Microsoft"}, api_key="secret")
    >>> with NewsApiSource(cfg) as source:
    ...     source.name, source.total(), "secret" in str(source.describe())
    ('newsapi', 2, False)
    """

    name = "newsapi"

    def __init__(
        self,
        config: NewsApiConfig,
        *,
        fetcher: HttpFetcher | None = None,
        clock: Callable[[], datetime] | None = None,
        settings: Settings | None = None,
    ) -> None:
        self._key = _api_key(config, settings)  # first: no client is made for a refused config
        super().__init__(config, "NewsAPI", fetcher=fetcher, clock=clock)
        self._queries = self._targets()

    def total(self) -> int:
        """One batch per query."""
        return len(self._queries)

    def fetch(self, *, since: Mapping[str, pd.Timestamp] | None = None) -> Iterator[SourceBatch]:
        """Run every query once (from ``start``); yield one batch per query.

        Raises
        ------
        ConfigError
            If the server refuses the API key.
        """
        for fetched in self._collect({}):
            yield fetched.batch

    async def stream(
        self,
        *,
        since: Mapping[str, pd.Timestamp] | None = None,
        sleep: Callable[[float], Awaitable[object]] | None = None,
    ) -> AsyncIterator[SourceBatch]:
        """Run every query each ``poll_seconds``, without end; yield new articles only.

        The first poll asks from ``start``; later ones from the newest article
        a query has returned (articles seen before are not yielded again). A
        failed query is logged at warning level and yielded as a reject;
        polling goes on, after at least the ``retry_after`` of a rate limit.

        Parameters
        ----------
        since : mapping, optional
            Not used.
        sleep : callable, optional
            ``async (seconds) -> None`` between polls (default ``asyncio.sleep``).

        Raises
        ------
        ConfigError
            If the server refuses the API key.
        """
        starts: dict[str, pd.Timestamp] = {}
        async for batch in poll_forever(
            lambda: self._collect(starts),
            poll_seconds=self.config.poll_seconds,
            sleep=sleep or asyncio.sleep,
            label=self.name,
            log=_log,
        ):
            yield batch

    # -- one poll --------------------------------------------------------------------------

    def _targets(self) -> list[_Query]:
        cfg = self.config
        out = [_Query(cfg.query, cfg.query, ())] if cfg.query else []
        out += [_Query(ticker, q, (ticker,)) for ticker, q in cfg.queries.items()]
        return out

    def _collect(self, starts: dict[str, pd.Timestamp]) -> Iterator[Fetched]:
        for query in self._queries:
            fetched = self._run(query, starts.get(query.label))
            news = fetched.batch.news
            if news is not None and len(news):
                newest = news["published_at"].max()
                starts[query.label] = max(starts.get(query.label, newest), newest)
            yield fetched

    def _params(self, query: _Query, start: pd.Timestamp | None, page: int) -> dict[str, str]:
        cfg = self.config
        params = {"q": query.q, "sortBy": "publishedAt", "pageSize": str(cfg.page_size)}
        params["page"] = str(page)
        since = start if start is not None else cfg.start
        if since is not None:
            params["from"] = pd.Timestamp(since).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S")
        if cfg.language:
            params["language"] = cfg.language
        return params

    def _get(self, url: str, params: dict[str, str]) -> Response | Exception:
        try:
            return self._fetcher.get(url, params=params, headers={"X-Api-Key": self._key})
        except (SourceError, httpx.HTTPError) as exc:
            if _REFUSED.search(str(exc)):
                raise ConfigError(
                    f"{self.config.base_url} refused the NewsAPI key: {exc}",
                    fix="check NEXUS_NEWSAPI_KEY (or api_key in the config); see "
                    "https://newsapi.org/account",
                ) from exc
            return exc

    def _run(self, query: _Query, start: pd.Timestamp | None) -> Fetched:
        url = f"{self.config.base_url}/v2/everything"
        items: list[RawItem] = []
        rejects: list[dict] = []
        retry_after, count = None, 0
        for page_no in range(1, self.config.max_pages + 1):
            params = self._params(query, start, page_no)
            shown = f"{url}?{urlencode(params)}"
            got = self._get(url, params)
            if isinstance(got, Exception):
                rejects.append(failure_row(query.label, shown, got, _log))
                retry_after = got.retry_after if isinstance(got, RateLimitedError) else None
                break
            page = parse_page(got.content, label=f"newsapi:{query.label}", url=shown)
            if page.rejects:
                _log.warning("%s", page.rejects[0]["detail"])
                rejects += page.rejects
                break
            fresh, bad = article_items(
                page, label=query.label, symbols=query.symbols, fetched_at=self._now()
            )
            items, rejects, count = items + fresh, rejects + bad, count + len(page.articles)
            if not page.articles or (page.total is not None and count >= page.total):
                break
        news, bad = validate_items(items, self._rules, rejects)
        return Fetched(SourceBatch(label=query.label, news=news, rejects=bad), retry_after)
