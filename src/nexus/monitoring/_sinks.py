"""Where alerts go besides the store and the WebSocket: the log and a webhook.

A sink takes one :class:`~nexus.bus.AlertRaised` at a time through ``send``,
which never blocks for long and never raises into the caller (the monitor must
keep running whatever a receiver does), and ``close``, which flushes what is
queued and stops.

- :class:`LogSink` writes one structured record per alert on the logger
  ``nexus.alerts`` at the alert's level, the alert's fields under
  ``extra["alert"]``.
- :class:`WebhookSink` POSTs each alert as JSON from a background thread fed by
  a bounded queue. A connection error, a timeout, a 5xx or a 429 is retried
  with exponential backoff and jitter (a numeric ``Retry-After`` is honoured up
  to ``max_backoff``); any other 4xx is not. An alert that still fails is
  logged as an error and counted, and the sink goes on with the next one.
- :func:`sinks_from_settings` builds the sinks that :class:`~nexus.config.Settings`
  asks for.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from urllib.parse import urlsplit

import httpx

from nexus import __version__
from nexus.bus import AlertRaised
from nexus.errors import ConfigError

if TYPE_CHECKING:
    from nexus.config import Settings

__all__ = ["AlertSink", "LogSink", "WebhookSink", "sinks_from_settings"]

_log = logging.getLogger("nexus.monitoring")

_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "critical": logging.CRITICAL}
_URL_FIX = (
    "give a full http(s) URL such as https://hooks.example.com/nexus, "
    "or leave NEXUS_ALERT_WEBHOOK_URL unset"
)


@runtime_checkable
class AlertSink(Protocol):
    """Anything alerts can be sent to."""

    def send(self, alert: AlertRaised) -> None:
        """Take one alert; never block for long and never raise."""
        ...  # pragma: no cover

    def close(self, timeout: float = 5.0) -> None:
        """Flush what is queued (waiting at most ``timeout`` seconds), then stop."""
        ...  # pragma: no cover


class LogSink:
    """One structured log record per alert.

    The record's level is the alert's (``info`` -> INFO, ``warning`` -> WARNING,
    ``critical`` -> CRITICAL; an unknown level logs as WARNING), its message reads
    ``[critical] monitor/lstm rollback: ...`` and ``record.alert`` holds
    :meth:`AlertRaised.to_dict`, for a JSON log formatter.

    Parameters
    ----------
    logger : logging.Logger, optional
        Where to write. Default: the logger ``nexus.alerts``.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> sink = LogSink()
    >>> sink.logger.name
    'nexus.alerts'
    >>> sink.send(AlertRaised(level="info", source="monitor", message="window filled",
    ...                       at=datetime(2026, 1, 5, tzinfo=UTC)))
    >>> sink.close()
    """

    name = "log"

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger if logger is not None else logging.getLogger("nexus.alerts")

    def send(self, alert: AlertRaised) -> None:
        """Log ``alert``; a failure to log is itself logged, never raised."""
        try:
            level = _LEVELS.get(str(alert.level).lower(), logging.WARNING)
            who = f"{alert.source}/{alert.slot}" if alert.slot else alert.source
            kind = f" {alert.kind}" if alert.kind else ""
            self.logger.log(
                level,
                "[%s] %s%s: %s",
                alert.level,
                who,
                kind,
                alert.message,
                extra={"alert": alert.to_dict()},
            )
        except Exception:
            _log.exception("log sink: could not log alert %r", getattr(alert, "id", alert))

    def close(self, timeout: float = 5.0) -> None:
        """Nothing to flush: records are written as they come."""

    def __repr__(self) -> str:
        return f"LogSink(logger={self.logger.name!r})"


class WebhookSink:
    """POST each alert as JSON to a URL, from a background thread, with retries.

    ``send`` only queues the alert. A worker thread (started on the first
    ``send``) POSTs :meth:`AlertRaised.to_dict` as JSON with the headers
    ``Content-Type: application/json``, ``User-Agent: nexus/<version>`` and
    ``Idempotency-Key: <alert.id>`` (a receiver can drop the repeats a retry may
    cause). Per alert:

    - a connection error, a timeout, a 5xx or a 429 is retried up to ``retries``
      times after the first attempt, waiting ``backoff * 2**n`` seconds plus up
      to 50 % jitter, at most ``max_backoff``; a numeric ``Retry-After`` replaces
      that wait (capped at ``max_backoff``);
    - any other 4xx is not retried (a wrong URL or token does not heal);
    - after the last failure an ERROR names the URL, the alert id and the last
      problem, and the sink goes on with the next alert.

    When the queue is full the oldest alert is dropped (counted in ``dropped``,
    with a warning), so a dead receiver never holds back the monitor or grows
    memory without bound. Logs name the URL without its query string or
    password, since webhook URLs often carry a token.

    Parameters
    ----------
    url : str
        The receiver: ``http://`` or ``https://`` with a host.
    timeout : float
        Seconds allowed for each phase of one attempt (connect, send, read).
    retries : int
        Retries after the first attempt.
    backoff, max_backoff : float
        The first retry delay (doubling each retry) and the longest delay.
    queue_size : int
        Alerts held while the worker is busy; beyond that the oldest is dropped.
    headers : mapping, optional
        Extra headers (``Authorization``, ...); they may replace ``User-Agent``.
    on_result : callable, optional
        ``on_result(sink_name, ok)`` after each alert is delivered (True) or
        given up (False), called on the worker thread (for a metric). An error
        in it is logged and ignored.
    name : str
        The sink's name passed to ``on_result``. Default ``webhook``.

    Attributes
    ----------
    sent, failed, dropped, retried : int
        Alerts delivered, alerts given up after their retries (or a 4xx),
        alerts dropped (queue full, sent after ``close``, or still queued when
        ``close`` timed out) and retries made, across all alerts.

    Raises
    ------
    ConfigError
        The URL is not a usable http(s) URL, or a number is out of range.

    Examples
    --------
    >>> sink = WebhookSink("https://hooks.example.com/nexus?token=s3cret", timeout=2)
    >>> sink
    WebhookSink('https://hooks.example.com/nexus?...')
    >>> sink.stats()
    {'sent': 0, 'failed': 0, 'dropped': 0, 'retried': 0, 'queued': 0}
    >>> sink.close()
    >>> WebhookSink("ftp://hooks.example.com/x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nexus.errors.ConfigError: alert webhook URL 'ftp://hooks.example.com/x' has the scheme 'ftp'...
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        queue_size: int = 1000,
        headers: Mapping[str, str] | None = None,
        on_result: Callable[[str, bool], None] | None = None,
        name: str = "webhook",
    ) -> None:
        self.url = _check_url(url)
        self.timeout = _check_number("timeout", timeout, 0.0, positive=True)
        self.retries = int(_check_number("retries", retries, 0, integer=True))
        self.backoff = _check_number("backoff", backoff, 0.0)
        self.max_backoff = _check_number("max_backoff", max_backoff, 0.0)
        self.queue_size = int(_check_number("queue_size", queue_size, 1, integer=True))
        self.name = name
        self._headers = {"User-Agent": f"nexus/{__version__}", **dict(headers or {})}
        self._headers["Content-Type"] = "application/json"
        self._on_result = on_result
        self._safe_url = _redact(self.url)
        self._rng = random.Random()
        self._queue: deque[AlertRaised] = deque()
        self._cond = threading.Condition()
        self._abandon = threading.Event()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._counts = {"sent": 0, "failed": 0, "dropped": 0, "retried": 0}

    # -- counters ---------------------------------------------------------------

    @property
    def sent(self) -> int:
        """Alerts delivered (a 2xx answer)."""
        return self._count("sent")

    @property
    def failed(self) -> int:
        """Alerts given up after their retries, or refused with a 4xx."""
        return self._count("failed")

    @property
    def dropped(self) -> int:
        """Alerts never attempted: queue overflow, sent after close, left at close."""
        return self._count("dropped")

    @property
    def retried(self) -> int:
        """Retries made, over all alerts."""
        return self._count("retried")

    def stats(self) -> dict[str, int]:
        """The counters and the number of alerts waiting, as one consistent snapshot."""
        with self._cond:
            return {**self._counts, "queued": len(self._queue)}

    def _count(self, key: str) -> int:
        with self._cond:
            return self._counts[key]

    def _add(self, key: str, n: int = 1) -> None:
        with self._cond:
            self._counts[key] += n

    # -- the caller's side --------------------------------------------------------

    def send(self, alert: AlertRaised) -> None:
        """Queue ``alert`` for the worker; returns at once and never raises."""
        try:
            with self._cond:
                if self._closing:
                    self._counts["dropped"] += 1
                    dropped: AlertRaised | None = alert
                    why = "the sink is closed"
                else:
                    dropped, why = None, ""
                    if len(self._queue) >= self.queue_size:
                        dropped = self._queue.popleft()
                        self._counts["dropped"] += 1
                        why = f"the queue is full ({self.queue_size} alerts)"
                    self._queue.append(alert)
                    self._start_worker()
                    self._cond.notify()
            if dropped is not None:
                _log.warning(
                    "webhook %s: dropped alert %s (%s); %d dropped so far",
                    self._safe_url,
                    dropped.id,
                    why,
                    self.dropped,
                )
        except Exception:
            _log.exception("webhook %s: could not queue an alert", self._safe_url)

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued, waiting at most ``timeout`` seconds, then stop.

        Alerts still queued when the time is up are dropped (and counted); the
        one in flight ends by its own ``timeout`` without further retries.
        Calling it again does nothing more.
        """
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            thread = self._thread
        if thread is None or self._abandon.is_set():
            return
        thread.join(max(0.0, timeout))
        if not thread.is_alive():
            return
        self._abandon.set()
        with self._cond:
            left = len(self._queue)
            self._queue.clear()
            self._counts["dropped"] += left
        if left:
            _log.warning(
                "webhook %s: closed after %g s with %d alerts undelivered",
                self._safe_url,
                timeout,
                left,
            )

    def __repr__(self) -> str:
        return f"WebhookSink({self._safe_url!r})"

    # -- the worker's side ----------------------------------------------------------

    def _start_worker(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"nexus-{self.name}-sink", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout, headers=self._headers) as client:
            while True:
                with self._cond:
                    while not self._queue and not self._closing:
                        self._cond.wait()
                    if not self._queue or self._abandon.is_set():
                        return
                    alert = self._queue.popleft()
                self._handle(client, alert)

    def _handle(self, client: httpx.Client, alert: AlertRaised) -> None:
        try:
            ok, attempts, problem = self._deliver(client, alert)
        except Exception as exc:  # the worker must outlive any one alert
            ok, attempts, problem = False, 0, f"{type(exc).__name__}: {exc}"
        self._add("sent" if ok else "failed")
        if not ok:
            _log.error(
                "webhook %s: alert %s not delivered after %d attempt(s) (last: %s)",
                self._safe_url,
                alert.id,
                attempts,
                problem,
            )
        if self._on_result is not None:
            try:
                self._on_result(self.name, ok)
            except Exception:
                _log.exception("webhook %s: on_result hook failed", self._safe_url)

    def _deliver(self, client: httpx.Client, alert: AlertRaised) -> tuple[bool, int, str]:
        """POST one alert with retries: (delivered, attempts made, last problem)."""
        body = json.dumps(alert.to_dict(), default=str).encode()
        headers = {"Idempotency-Key": alert.id}
        problem, attempts = "", 0
        for attempt in range(self.retries + 1):
            attempts += 1
            ok, problem, wait = self._attempt(client, body, headers, attempt)
            if ok:
                return True, attempts, ""
            if wait is None or attempt == self.retries:
                break
            if self._abandon.wait(wait):
                problem += "; the sink was closed before the next retry"
                break
            self._add("retried")
        return False, attempts, problem

    def _attempt(
        self, client: httpx.Client, body: bytes, headers: dict[str, str], attempt: int
    ) -> tuple[bool, str, float | None]:
        """One POST: (ok, problem, seconds to wait before a retry or None: do not retry)."""
        try:
            response = client.post(self.url, content=body, headers=headers)
        except httpx.TimeoutException:
            return False, f"timed out after {self.timeout:g} s", self._backoff(attempt)
        except httpx.TransportError as exc:
            problem = f"could not connect ({type(exc).__name__}: {exc})"
            return False, problem, self._backoff(attempt)
        status = response.status_code
        if response.is_success:
            return True, "", None
        problem = f"HTTP {status}: {_snippet(response.content)}"
        if status != 429 and status < 500:
            return False, problem + " (not retried)", None
        asked = _retry_after(response.headers.get("retry-after"))
        if asked is not None:
            return False, problem, min(self.max_backoff, asked)
        return False, problem, self._backoff(attempt)

    def _backoff(self, attempt: int) -> float:
        delay = self.backoff * 2**attempt
        return min(self.max_backoff, delay * (1.0 + 0.5 * self._rng.random()))


def sinks_from_settings(
    settings: Settings, *, on_result: Callable[[str, bool], None] | None = None
) -> list[AlertSink]:
    """The sinks ``settings`` asks for: a :class:`LogSink`, and a :class:`WebhookSink`
    when ``alert_webhook_url`` is set.

    Parameters
    ----------
    settings : Settings
        Reads ``alert_webhook_url``, ``alert_webhook_timeout`` and
        ``alert_webhook_retries`` (``NEXUS_ALERT_WEBHOOK_*``).
    on_result : callable, optional
        Passed to the :class:`WebhookSink`.

    Examples
    --------
    >>> from nexus.config import Settings
    >>> sinks_from_settings(Settings(home="/tmp/nx"))
    [LogSink(logger='nexus.alerts')]
    >>> sinks = sinks_from_settings(
    ...     Settings(home="/tmp/nx", alert_webhook_url="https://hooks.example.com/a"))
    >>> sinks
    [LogSink(logger='nexus.alerts'), WebhookSink('https://hooks.example.com/a')]
    >>> for sink in sinks:
    ...     sink.close()
    """
    sinks: list[AlertSink] = [LogSink()]
    if settings.alert_webhook_url:
        sinks.append(
            WebhookSink(
                settings.alert_webhook_url,
                timeout=settings.alert_webhook_timeout,
                retries=settings.alert_webhook_retries,
                on_result=on_result,
            )
        )
    return sinks


def _check_url(url: object) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ConfigError(f"alert webhook URL {url!r} is empty or not text", fix=_URL_FIX)
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise ConfigError(
            f"alert webhook URL {url!r} has the scheme {parts.scheme!r}, not http or https",
            fix=_URL_FIX,
        )
    try:
        host, _ = parts.hostname, parts.port
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as exc:
        raise ConfigError(f"alert webhook URL {url!r} is malformed ({exc})", fix=_URL_FIX) from exc
    if not host:
        raise ConfigError(f"alert webhook URL {url!r} has no host", fix=_URL_FIX)
    return url


def _check_number(
    name: str, value: object, minimum: float, *, positive: bool = False, integer: bool = False
) -> float:
    kind = int if integer else (int, float)
    bad_type = isinstance(value, bool) or not isinstance(value, kind)
    if bad_type or value < minimum or (positive and value <= minimum):  # type: ignore[operator]
        bound = f"> {minimum:g}" if positive else f">= {minimum:g}"
        what = "an integer" if integer else "a number"
        raise ConfigError(
            f"WebhookSink {name}={value!r} is out of range",
            fix=f"give {what} {bound}",
        )
    return float(value)  # type: ignore[arg-type]


def _retry_after(value: str | None) -> float | None:
    """Seconds of a numeric ``Retry-After``; None when absent or not a number."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _redact(url: str) -> str:
    """``url`` without a password or query string, for logs."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return f"{parts.scheme}://{netloc}{parts.path}" + ("?..." if parts.query else "")


def _snippet(body: bytes, limit: int = 200) -> str:
    text = body[:limit].decode("utf-8", errors="replace").replace("\n", " ").strip()
    return (text + ("..." if len(body) > limit else "")) or "(empty body)"
