"""The RSS/Atom source: news items from feeds, fetched over HTTP, optionally polled live."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from datetime import datetime

import httpx
import pandas as pd

from nexus.errors import SourceError
from nexus.sources._base import SourceBatch
from nexus.sources._http import HttpFetcher
from nexus.sources._news import (
    Fetched,
    HttpNewsSource,
    failed_fetch,
    poll_forever,
    validate_items,
)
from nexus.sources.rss._config import Feed, RssConfig
from nexus.sources.rss._parse import parse_feed

__all__ = ["RssSource"]

_log = logging.getLogger("nexus.sources.rss")


class RssSource(HttpNewsSource):
    """News from RSS 2.0, RSS 1.0 and Atom feeds.

    Parameters
    ----------
    config : RssConfig
        Feeds, tickers, polling and HTTP settings.
    fetcher : HttpFetcher, optional
        Does every GET (default: one built from ``config``; it is closed by
        :meth:`close`). Tests pass one with a fake ``sleep``.
    clock : callable, optional
        ``() -> datetime`` (UTC), the fetch time used for ``available_at`` and
        the ``absurd_date`` check. Default: the system clock.

    Notes
    -----
    :meth:`fetch` yields one batch per feed (label: the feed's name) holding
    its ``news`` (``source = "rss:<name>"``, ``sentiment`` NaN: it is scored at
    ingest) and its ``rejects`` (see :mod:`nexus.sources._news` for the
    reasons). A feed that cannot be fetched (after the fetcher's retries), is
    too large or is not a feed gives one reject and the other feeds go on.
    ``since`` is accepted for the :class:`~nexus.sources.Source` protocol and
    not used: a feed holds its latest items only, and the store keeps one row
    per news id.

    Examples
    --------
    >>> from nexus.sources.rss import RssConfig
    >>> cfg = RssConfig(feeds=["https://example.com/rss.xml"], universe=["AAPL"])
    >>> with RssSource(cfg) as source:
    ...     source.name, source.total(), source.describe()["feeds"][0]["name"]
    ('rss', 1, 'example.com')
    """

    name = "rss"

    def __init__(
        self,
        config: RssConfig,
        *,
        fetcher: HttpFetcher | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(config, "rss feed", fetcher=fetcher, clock=clock)

    def total(self) -> int:
        """One batch per feed."""
        return len(self.config.feeds)

    def fetch(self, *, since: Mapping[str, pd.Timestamp] | None = None) -> Iterator[SourceBatch]:
        """Fetch every feed once; yield one batch per feed."""
        for fetched in self._collect():
            yield fetched.batch

    async def stream(
        self,
        *,
        since: Mapping[str, pd.Timestamp] | None = None,
        sleep: Callable[[float], Awaitable[object]] | None = None,
    ) -> AsyncIterator[SourceBatch]:
        """Poll every feed each ``poll_seconds``, without end; yield new items only.

        Each poll fetches the feeds one by one in a worker thread and yields,
        per feed, the items (and item rejects) not yielded before. A failed
        feed is logged at warning level and yielded as a ``fetch_failed`` (or
        ``too_large``, ``malformed_feed``) reject; polling goes on. When a
        feed answers 429 with a ``Retry-After`` over ``max_wait_s``, the next
        poll waits that long.

        Parameters
        ----------
        since : mapping, optional
            Not used (see the class notes).
        sleep : callable, optional
            ``async (seconds) -> None`` between polls (default ``asyncio.sleep``).
        """
        async for batch in poll_forever(
            self._collect,
            poll_seconds=self.config.poll_seconds,
            sleep=sleep or asyncio.sleep,
            label=self.name,
            log=_log,
        ):
            yield batch

    # -- one poll --------------------------------------------------------------------------

    def _collect(self) -> Iterator[Fetched]:
        extra = self.config.symbols  # tickers every item of every feed is about
        for feed in self.config.feeds:
            if extra:
                feed = feed.model_copy(
                    update={"symbols": list(dict.fromkeys(feed.symbols + extra))}
                )
            yield self._fetch_feed(feed)

    def _fetch_feed(self, feed: Feed) -> Fetched:
        try:
            response = self._fetcher.get(feed.url)
        except (SourceError, httpx.HTTPError) as exc:
            return failed_fetch(feed.name, feed.url, exc, _log)
        fetched_at = self._now()
        parsed = parse_feed(
            response.content, feed, fetched_at, content_type=response.headers.get("content-type")
        )
        if parsed.rejects:
            _log.warning("%s", parsed.rejects[0]["detail"])
        news, rejects = validate_items(parsed.items, self._rules, parsed.rejects)
        return Fetched(SourceBatch(label=feed.name, news=news, rejects=rejects))
