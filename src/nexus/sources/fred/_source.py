"""The FRED source: every vintage of macro series, as history and as a polling stream.

All HTTP goes through an :class:`~nexus.sources._http.HttpFetcher` (timeouts,
retries with backoff, ``Retry-After``, a size cap); tests pass one pointed at a
loopback server that answers with FRED-shaped payloads.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pandas as pd

from nexus.config import Settings
from nexus.errors import PayloadTooLargeError, RateLimitedError, SourceError
from nexus.sources._base import SourceBatch, rejects_frame
from nexus.sources._http import HttpFetcher
from nexus.sources.fred._config import FredConfig, resolve_api_key
from nexus.sources.fred._parse import (
    SOURCE,
    MalformedPayload,
    Parsed,
    parse_observations,
    read_page,
    reject,
)

__all__ = ["FredSource"]

Sleep = Callable[[float], Awaitable[object]]
Since = Mapping[str, pd.Timestamp] | None

_PATH = "/fred/series/observations"
_FIRST_VINTAGE, _LAST_VINTAGE = "1776-07-04", "9999-12-31"
_ERROR_MESSAGE = re.compile(r'"error_message"\s*:\s*"((?:[^"\\]|\\.)*)')
_KEY_REFUSED = re.compile(r"HTTP (401|403)|api_key", re.IGNORECASE)


def _cutoff(since: Since, series_id: str) -> pd.Timestamp | None:
    stamp = (since or {}).get(series_id)
    if stamp is None or pd.isna(stamp):
        return None
    stamp = pd.Timestamp(stamp)
    return stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")


class FredSource:
    """Every vintage of FRED series: what each value was, and from when it was known.

    Parameters
    ----------
    config : FredConfig
        The series and the fetching policy.
    fetcher : HttpFetcher, optional
        What GETs the pages. Default: one built from ``config`` for each
        :meth:`fetch` or :meth:`stream` (and closed after it).
    sleep : callable, optional
        ``await sleep(seconds)`` between polls of :meth:`stream`; a fake in tests.
    now : callable, optional
        ``() -> datetime`` (UTC), to tell a vintage from the future; default the clock.
    settings : Settings, optional
        Where ``NEXUS_FRED_API_KEY`` is read when ``config`` has no key.

    Raises
    ------
    ConfigError
        If there is no API key (see :func:`~nexus.sources.fred.resolve_api_key`).

    Notes
    -----
    One batch per series: its vintages (``macro``, ``MACRO_COLUMNS``, source
    ``"fred"``) and rejects. ``realtime_start`` is when a vintage became public:
    FRED gives a day, taken as the end of that day in New York unless
    ``release_time`` says when (see :mod:`nexus.sources.fred._parse`). A series
    that fails (network, HTTP error, malformed or oversized response) becomes a
    ``fetch_failed``, ``malformed_json`` or ``too_large`` reject and the other
    series go on; a refused API key raises. The key is never part of a message.

    Examples
    --------
    >>> src = FredSource(FredConfig(series=["GDP", "CPIAUCSL"], api_key="0123abcd"))
    >>> src.name, src.total(), "0123abcd" in str(src.describe())
    ('fred', 2, False)
    """

    name = SOURCE

    def __init__(
        self,
        config: FredConfig,
        *,
        fetcher: HttpFetcher | None = None,
        sleep: Sleep = asyncio.sleep,
        now: Callable[[], datetime] | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.config = config
        self.sleep = sleep
        self._key = resolve_api_key(config, settings)
        self._fetcher = fetcher
        self._now = now or (lambda: datetime.now(UTC))
        self._url = config.base_url + _PATH

    def describe(self) -> dict:
        """The configuration as JSON-able values, without the API key."""
        return self.config.model_dump(mode="json")

    def total(self) -> int:
        """One batch per series."""
        return len(self.config.series)

    def fetch(self, *, since: Since = None) -> Iterator[SourceBatch]:
        """Yield one batch per series with every vintage FRED keeps.

        Parameters
        ----------
        since : mapping of str to Timestamp, optional
            Per series id, the newest stored ``realtime_start``; older vintages
            are left out (naive times are UTC).

        Raises
        ------
        SourceError
            If FRED refuses the API key.
        """
        with self._session() as fetcher:
            for series_id in self.config.series:
                got = self._series(fetcher, series_id, since)
                yield _batch(series_id, got.parsed, got.failure)

    async def stream(self, *, since: Since = None) -> AsyncIterator[SourceBatch]:
        """Poll every ``poll_seconds``, yielding vintages not yielded before; without end.

        Each poll yields one batch per series, empty when nothing is new.

        The first poll yields everything (after ``since``); later polls only new
        vintages and new row rejects. A failed series is a ``fetch_failed`` (or
        ``too_large``, ``malformed_json``) reject and the stream goes on; when FRED
        asks to wait (HTTP 429 with a long ``Retry-After``) the stream waits that
        long before the next series. Downloads run in a worker thread.

        Raises
        ------
        SourceError
            If FRED refuses the API key.
        """
        seen: set[tuple] = set()
        with self._session() as fetcher:
            while True:
                for series_id in self.config.series:
                    got = await asyncio.to_thread(self._series, fetcher, series_id, since)
                    # one batch per series and poll, a quiet one too (a live ingest
                    # counts polls and reports each)
                    yield _batch(series_id, _unseen(got.parsed, seen), got.failure)
                    if got.wait:
                        await self.sleep(got.wait)
                await self.sleep(self.config.poll_seconds)

    # -- downloading -----------------------------------------------------------------

    @contextlib.contextmanager
    def _session(self) -> Iterator[HttpFetcher]:
        if self._fetcher is not None:
            yield self._fetcher
            return
        cfg = self.config
        with HttpFetcher(
            "FRED",
            timeout_s=cfg.timeout_s,
            max_retries=cfg.max_retries,
            backoff_s=cfg.backoff_s,
            min_interval_s=cfg.min_interval_s,
            max_bytes=cfg.max_bytes,
        ) as fetcher:
            yield fetcher

    def _params(self, series_id: str, offset: int) -> dict[str, str]:
        cfg = self.config
        params = {
            "series_id": series_id,
            "api_key": self._key,
            "file_type": "json",
            "realtime_start": str(cfg.realtime_start or _FIRST_VINTAGE),
            "realtime_end": _LAST_VINTAGE,
            "limit": str(cfg.page_size),
            "offset": str(offset),
        }
        if cfg.observation_start is not None:
            params["observation_start"] = str(cfg.observation_start)
        return params

    def _download(self, fetcher: HttpFetcher, series_id: str, rows: list) -> None:
        """Append every page's observations to ``rows`` (kept when a later page fails)."""
        offset = 0
        while True:
            response = fetcher.get(self._url, params=self._params(series_id, offset))
            page = read_page(response.content)
            rows.extend(page.observations)
            offset += len(page.observations)
            if not page.observations or offset >= page.count:
                return

    def _series(self, fetcher: HttpFetcher, series_id: str, since: Since) -> _Got:
        """Download and parse one series; a failure is returned, not raised."""
        rows: list = []
        failure, wait = None, None
        try:
            self._download(fetcher, series_id, rows)
        except MalformedPayload as exc:
            failure = reject(series_id, "malformed_json", exc.detail, self._scrub(exc.snippet))
        except PayloadTooLargeError as exc:
            failure = self._failure(series_id, "too_large", exc)
        except RateLimitedError as exc:
            failure, wait = self._failure(series_id, "fetch_failed", exc), exc.retry_after
        except SourceError as exc:
            self._raise_if_key_refused(exc)
            failure = self._failure(series_id, "fetch_failed", exc)
        except httpx.HTTPError as exc:  # what the fetcher does not wrap (a bad encoding, ...)
            failure = self._failure(series_id, "fetch_failed", exc)
        return _Got(self._parse(rows, series_id, since), failure, wait)

    def _parse(self, rows: list, series_id: str, since: Since) -> Parsed:
        today = self._now().astimezone(UTC).date()
        parsed = parse_observations(rows, series_id, today=today, release=self.config.release_clock)
        cutoff = _cutoff(since, series_id)
        if cutoff is None:
            return parsed
        macro = parsed.macro[parsed.macro["realtime_start"] > cutoff].reset_index(drop=True)
        return Parsed(macro=macro, rejects=parsed.rejects)

    # -- errors ----------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        """``text`` without the API key."""
        return text.replace(self._key, "***") if self._key else text

    def _failure(self, series_id: str, reason: str, exc: Exception) -> dict:
        detail = self._scrub(str(exc) if isinstance(exc, SourceError) else f"FRED: {exc!r}")
        payload = {"series_id": series_id, "url": self._url, "error": detail}
        return reject(series_id, reason, detail, payload)

    def _raise_if_key_refused(self, exc: SourceError) -> None:
        text = self._scrub(exc.message)
        if "answered HTTP" not in text or not _KEY_REFUSED.search(text):
            return
        found = _ERROR_MESSAGE.search(text)
        said = found.group(1).replace('\\"', '"') if found else text
        raise SourceError(
            f"FRED refused the API key: {said}",
            fix="set NEXUS_FRED_API_KEY (or api_key) to a registered key; a free one is at "
            "https://fredaccount.stlouisfed.org/apikeys",
        ) from None


@dataclass(frozen=True, slots=True)
class _Got:
    """One series' download: what parsed, the failure (a reject row) and FRED's wait."""

    parsed: Parsed
    failure: dict | None
    wait: float | None


def _batch(series_id: str, parsed: Parsed, failure: dict | None) -> SourceBatch:
    rejects = parsed.rejects
    if failure is not None:
        rejects = rejects_frame([*rejects.to_dict("records"), failure])
    return SourceBatch(label=series_id, macro=parsed.macro, rejects=rejects)


def _unseen(parsed: Parsed, seen: set[tuple]) -> Parsed:
    """``parsed`` without the vintages and row rejects in ``seen`` (which it extends)."""
    macro, rejects = parsed.macro, parsed.rejects
    keys = list(zip(macro["series_id"], macro["period"], macro["realtime_start"], strict=True))
    marks = list(zip(rejects["reason"], rejects["payload"], strict=True))
    new_macro = [k not in seen for k in keys]
    new_rejects = [m not in seen for m in marks]
    seen.update(keys, marks)
    return Parsed(
        macro=macro.loc[new_macro].reset_index(drop=True),
        rejects=rejects.loc[new_rejects].reset_index(drop=True),
    )
