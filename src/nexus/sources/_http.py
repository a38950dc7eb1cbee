"""HTTP GET for the web sources: timeouts, retries with backoff, Retry-After, a size cap.

Every HTTP source (``rss``, ``newsapi``, ``fred``) fetches through one
:class:`HttpFetcher`, so they all treat a vendor the same way:

- a timeout, a dropped connection, a 5xx or a 429 is retried, up to
  ``max_retries`` times, after ``backoff_s`` doubling each time (plus up to
  50 % jitter), never more than ``max_backoff_s``;
- a 429 or 503 with ``Retry-After`` (seconds or an HTTP date) waits what the
  vendor asked; when that is longer than ``max_wait_s`` it raises
  :class:`~nexus.errors.RateLimitedError` with ``retry_after`` at once, so a
  poller can sleep that long instead of hammering;
- requests are spaced at least ``min_interval_s`` apart (a vendor's rate limit);
- any other 4xx fails at once (a bad key or URL does not heal by retrying);
- a body over ``max_bytes`` is not read further:
  :class:`~nexus.errors.PayloadTooLargeError`.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from nexus.errors import PayloadTooLargeError, RateLimitedError, SourceError

__all__ = ["HttpFetcher", "Response", "retry_after_seconds"]

_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_USER_AGENT = "nexus-quant/0.1 (+https://github.com/nexus-quant)"


@dataclass(frozen=True, slots=True)
class Response:
    """A successful GET: final URL, status, headers, raw body and how many tries it took."""

    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes
    attempts: int


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait, or None when absent or unreadable.

    Examples
    --------
    >>> retry_after_seconds("7")
    7.0
    >>> now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    >>> retry_after_seconds("Thu, 01 Jan 2026 12:00:30 GMT", now)
    30.0
    >>> retry_after_seconds("soon") is None
    True
    """
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class HttpFetcher:
    """GET with the retry, rate-limit and size rules above.

    Parameters
    ----------
    what : str
        The source, for error messages (``"rss feed"``, ``"FRED"``).
    timeout_s : float
        Connect and read timeout of each attempt.
    max_retries : int
        Retries after the first attempt.
    backoff_s, max_backoff_s : float
        First retry delay (doubling) and the longest delay.
    max_wait_s : float
        The longest ``Retry-After`` honoured by waiting; longer ones raise.
    min_interval_s : float
        Least time between two requests.
    max_bytes : int
        Largest body read.
    client : httpx.Client, optional
        The client to use (default: one owned by this fetcher).
    sleep : callable, optional
        ``time.sleep``, replaceable in tests.

    Examples
    --------
    >>> fetcher = HttpFetcher("example", max_retries=0)
    >>> fetcher.max_retries, fetcher.max_bytes
    (0, 10000000)
    >>> fetcher.close()
    """

    def __init__(
        self,
        what: str,
        *,
        timeout_s: float = 10.0,
        max_retries: int = 4,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        max_wait_s: float = 120.0,
        min_interval_s: float = 0.0,
        max_bytes: int = 10_000_000,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.what = what
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.max_wait_s = max_wait_s
        self.min_interval_s = min_interval_s
        self.max_bytes = max_bytes
        self._own = client is None
        self._client = client or httpx.Client(
            timeout=timeout_s, follow_redirects=True, headers={"User-Agent": _USER_AGENT}
        )
        self._sleep = sleep
        self._last = -float("inf")

    def close(self) -> None:
        """Close the HTTP client if this fetcher made it."""
        if self._own:
            self._client.close()

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """GET ``url``; retry what is transient; return the body of the first 2xx.

        Raises
        ------
        SourceError
            A permanent 4xx, or every attempt failed.
        RateLimitedError
            The vendor asked to wait longer than ``max_wait_s``.
        PayloadTooLargeError
            The body is larger than ``max_bytes``.
        """
        problem = ""
        for attempt in range(self.max_retries + 1):
            self._space()
            try:
                status, head, body = self._once(url, params, headers)
            except httpx.TimeoutException:
                problem, wait = f"timed out after {self.timeout_s:g} s", None
            except httpx.TransportError as exc:
                problem, wait = f"could not connect ({type(exc).__name__}: {exc})", None
            else:
                if 200 <= status < 300:
                    return Response(url, status, head, body, attempt + 1)
                if status not in _RETRY_STATUS:
                    raise SourceError(
                        f"{self.what}: GET {url} answered HTTP {status}: {_snippet(body)}",
                        fix="check the URL, the parameters and the API key",
                    )
                problem, wait = f"HTTP {status}", retry_after_seconds(head.get("retry-after"))
                if wait is not None and wait > self.max_wait_s:
                    raise RateLimitedError(
                        f"{self.what}: GET {url} answered HTTP {status} and asks to wait "
                        f"{wait:.0f} s",
                        fix="poll less often, or wait and run again",
                        retry_after=wait,
                    )
            if attempt < self.max_retries:
                self._sleep(wait if wait is not None else self._backoff(attempt))
        raise SourceError(
            f"{self.what}: GET {url} failed {self.max_retries + 1} times (last: {problem})",
            fix="check the network and the vendor's status, then run again",
        )

    def _space(self) -> None:
        gap = self.min_interval_s - (time.monotonic() - self._last)
        if gap > 0:
            self._sleep(gap)
        self._last = time.monotonic()

    def _backoff(self, attempt: int) -> float:
        delay = self.backoff_s * 2**attempt
        return min(self.max_backoff_s, delay * (1.0 + 0.5 * random.random()))

    def _once(
        self, url: str, params: Mapping[str, str] | None, headers: Mapping[str, str] | None
    ) -> tuple[int, dict[str, str], bytes]:
        with self._client.stream("GET", url, params=params, headers=headers) as response:
            head = {k.lower(): v for k, v in response.headers.items()}
            declared = head.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise self._too_large(url, int(declared))
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise self._too_large(url, size)
                chunks.append(chunk)
            return response.status_code, head, b"".join(chunks)

    def _too_large(self, url: str, size: int) -> PayloadTooLargeError:
        return PayloadTooLargeError(
            f"{self.what}: GET {url} returned more than {self.max_bytes:,} bytes ({size:,} read "
            "or declared)",
            fix="raise max_bytes if the feed is really this large",
        )


def _snippet(body: bytes, limit: int = 200) -> str:
    text = body[:limit].decode("utf-8", errors="replace").replace("\n", " ").strip()
    return text + ("..." if len(body) > limit else "")
