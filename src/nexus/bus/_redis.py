"""The Redis bus: publish/subscribe between processes through Redis pub/sub."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections import deque
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from nexus.bus._codec import decode, encode
from nexus.bus._inprocess import InProcessBus, Subscription
from nexus.errors import BusError, BusUnavailableError, ConfigError, DataError

__all__ = ["RedisBus"]

_log = logging.getLogger("nexus.bus")

_SCHEMES = ("redis://", "rediss://", "unix://")
_BATCH = 1_000
_TRANSIENT = (RedisConnectionError, RedisTimeoutError, OSError)


class RedisBus:
    """Publish/subscribe between processes through Redis pub/sub.

    A message published on ``topic`` goes to the Redis channel
    ``<prefix>:<topic>`` as :func:`~nexus.bus.encode` JSON. Every process with
    a :class:`RedisBus` on the same server and prefix receives it, this one
    included: local subscriptions get their messages back through Redis, in
    the order each publisher sent them, as decoded copies.

    :meth:`publish` never blocks: it encodes the message and puts it on a
    bounded outgoing queue that a writer task sends (in pipelined batches).
    A reader task, subscribed to ``<prefix>:*``, decodes what arrives and
    offers it to the local subscriptions (bounded, drop-oldest, see
    :class:`~nexus.bus.Subscription`). Both tasks run from :meth:`start` to
    :meth:`close`, in the event loop that called :meth:`start`.

    This is pub/sub, not a log: a message published while this bus is
    disconnected (or before :meth:`start` returned) is not replayed to it.
    Consumers rebuild their state from the store when they start.

    Parameters
    ----------
    url : str
        ``redis://host:port/db``, ``rediss://...`` or ``unix:///path.sock``.
    prefix : str
        Channel prefix, so several deployments (or test runs) can share a server.
    outgoing_maxsize : int
        Messages the outgoing queue holds while Redis is slow or away; beyond
        that the oldest are dropped and counted (``status()["dropped_outgoing"]``).
    connect_timeout : float
        Seconds to wait for Redis to answer when connecting.
    flush_timeout : float
        Seconds :meth:`close` waits for the outgoing queue to drain.
    backoff_initial, backoff_max : float
        Reconnection delays: doubled after each failed attempt, up to the maximum.

    Raises
    ------
    ConfigError
        If ``url`` is not a Redis URL or ``prefix`` is empty.

    Examples
    --------
    >>> bus = RedisBus("redis://127.0.0.1:6379/0", prefix="demo")
    >>> bus.channel("bars")
    'demo:bars'
    >>> bus.status()["state"]
    'new'
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "nexus",
        outgoing_maxsize: int = 100_000,
        connect_timeout: float = 3.0,
        flush_timeout: float = 2.0,
        backoff_initial: float = 0.1,
        backoff_max: float = 5.0,
    ) -> None:
        if not isinstance(url, str) or not url.startswith(_SCHEMES):
            raise ConfigError(
                f"bus URL {url!r} is not a Redis URL",
                fix="use redis://host:6379/0, rediss://host:6380/0 or unix:///path/redis.sock",
            )
        if not prefix:
            raise ConfigError("the Redis bus prefix is empty", fix="use a name such as 'nexus'")
        if outgoing_maxsize < 1:
            raise ConfigError(
                f"outgoing_maxsize {outgoing_maxsize} is below 1", fix="use 1 or more"
            )
        self.url = url
        self.prefix = prefix
        self.outgoing_maxsize = outgoing_maxsize
        self.connect_timeout = connect_timeout
        self.flush_timeout = flush_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self._local = InProcessBus()
        self._channel_prefix = f"{prefix}:".encode()
        self._pattern = _glob_escape(prefix) + ":*"
        self._outgoing: deque[tuple[str, bytes]] = deque()
        self._state = "new"
        self._redis: Redis | None = None
        self._tasks: list[asyncio.Task] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0
        self._wake = asyncio.Event()  # binds to the loop that first waits on it
        self._idle = asyncio.Event()
        self._idle.set()
        self._writer_ok = False
        self._reader_ok = False
        self._counts = dict.fromkeys(
            ("published", "sent", "received", "dropped_outgoing", "undecodable", "reconnects"), 0
        )

    # -- the Bus protocol --------------------------------------------------------------------

    def channel(self, topic: str) -> str:
        """The Redis channel of ``topic``: ``<prefix>:<topic>``."""
        return f"{self.prefix}:{topic}"

    def subscribe(self, topic: str, *, maxsize: int = 10_000) -> Subscription:
        """Return a new subscription to ``topic`` with a queue of ``maxsize`` messages.

        It receives what is published on ``topic`` by any process (this one
        included) while the bus is started.
        """
        return self._local.subscribe(topic, maxsize=maxsize)

    def publish(self, topic: str, message: Any) -> int:
        """Queue ``message`` for Redis; return how many local subscriptions will get it.

        Subscribers in other processes are not counted (they are not known
        here). Safe to call from another thread than the bus's event loop.

        Raises
        ------
        BusError
            If the bus is not started, or already closed.
        DataError
            If ``message`` is not a bus event (see :func:`~nexus.bus.encode`).
        """
        if self._state != "started":
            raise self._not_started(f"RedisBus.publish({topic!r})")
        data = encode(message)
        channel = self.channel(topic)
        if threading.get_ident() == self._thread:
            self._enqueue(channel, data)
        else:
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._enqueue, channel, data)
        return self._local.subscribers(topic)

    async def start(self) -> None:
        """Connect to Redis, subscribe to ``<prefix>:*`` and start the writer and reader.

        When it returns, every message published on this prefix from then on
        reaches the local subscriptions. Calling it again does nothing.

        Raises
        ------
        BusUnavailableError
            If Redis does not answer within ``connect_timeout`` (nothing keeps
            running; once started, the bus rides out Redis restarts instead).
        BusError
            If the bus was closed.
        """
        if self._state == "started":
            return
        if self._state == "closed":
            raise self._not_started("RedisBus.start()")
        client = Redis.from_url(
            self.url,
            socket_connect_timeout=self.connect_timeout,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            await asyncio.wait_for(client.ping(), self.connect_timeout)
            pubsub = await self._open_pubsub(client)
        except (*_TRANSIENT, RedisError, TimeoutError) as exc:
            await client.aclose()
            raise BusUnavailableError(
                f"Redis at {_redact(self.url)} is not reachable ({exc or type(exc).__name__})",
                fix="start it (redis-server --port 6379), check NEXUS_BUS_URL, or unset "
                "NEXUS_BUS_URL to use the in-process bus",
            ) from exc
        self._redis = client
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._writer_ok = self._reader_ok = True
        self._tasks = [
            asyncio.create_task(self._write_loop(), name=f"nexus.bus writer {self.prefix}"),
            asyncio.create_task(self._read_loop(pubsub), name=f"nexus.bus reader {self.prefix}"),
        ]
        for task in self._tasks:
            task.add_done_callback(_log_crash)
        self._state = "started"
        _log.info("bus connected to Redis at %s (prefix %r)", _redact(self.url), self.prefix)

    async def close(self) -> None:
        """Send what is queued (waiting up to ``flush_timeout``), then stop and disconnect.

        Local subscriptions stay open and keep what they hold; nothing new
        arrives. Calling it again does nothing.
        """
        if self._state != "started":
            self._state = "closed"
            return
        self._state = "closed"
        assert self._redis is not None
        try:
            await asyncio.wait_for(self._idle.wait(), self.flush_timeout)
        except TimeoutError:
            _log.warning(
                "bus closed with %d messages not sent to Redis at %s (not reachable for %.1f s)",
                len(self._outgoing),
                _redact(self.url),
                self.flush_timeout,
            )
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self._redis.aclose()
        self._redis = None
        self._writer_ok = self._reader_ok = False

    def status(self) -> dict[str, Any]:
        """Health and counters, JSON-able.

        ``connected`` is True while both the writer and the reader reach
        Redis; ``pending`` counts messages waiting to be sent; ``published``,
        ``sent``, ``received`` (decoded for a local subscription),
        ``dropped_outgoing``, ``undecodable`` and ``reconnects`` count since
        the bus was made; ``dropped`` sums the local subscriptions' drops.
        """
        local = self._local.status()
        return {
            "backend": "redis",
            "url": _redact(self.url),
            "prefix": self.prefix,
            "state": self._state,
            "connected": self._state == "started" and self._writer_ok and self._reader_ok,
            "pending": len(self._outgoing),
            **self._counts,
            "subscribers": local["subscribers"],
            "dropped": local["dropped"],
        }

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- writer ------------------------------------------------------------------------------

    def _enqueue(self, channel: str, data: bytes) -> None:
        if self._state != "started":  # closed while a call from another thread was on its way
            self._counts["dropped_outgoing"] += 1
            return
        if len(self._outgoing) >= self.outgoing_maxsize:
            self._outgoing.popleft()
            self._counts["dropped_outgoing"] += 1
        self._outgoing.append((channel, data))
        self._counts["published"] += 1
        self._idle.clear()
        self._wake.set()

    async def _write_loop(self) -> None:
        delay, down_since = self.backoff_initial, 0.0
        while True:
            if not self._outgoing:
                self._idle.set()
                await self._wake.wait()
                self._wake.clear()
                continue
            batch = [self._outgoing.popleft() for _ in range(min(_BATCH, len(self._outgoing)))]
            try:
                await self._send(batch)
            except _TRANSIENT as exc:
                self._outgoing.extendleft(reversed(batch))
                if self._writer_ok:
                    down_since = time.monotonic()
                    self._writer_ok = False
                    _log.warning(
                        "bus cannot publish to Redis at %s (%s); retrying, %d messages wait",
                        _redact(self.url),
                        exc,
                        len(self._outgoing),
                    )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_max)
                continue
            except RedisError as exc:
                self._counts["dropped_outgoing"] += len(batch)
                _log.error("bus dropped %d messages Redis refused: %s", len(batch), exc)
                continue
            if not self._writer_ok:
                self._writer_ok = True
                self._counts["reconnects"] += 1
                _log.warning(
                    "bus publishing to Redis at %s again after %.1f s",
                    _redact(self.url),
                    time.monotonic() - down_since,
                )
            delay = self.backoff_initial
            self._counts["sent"] += len(batch)

    async def _send(self, batch: list[tuple[str, bytes]]) -> None:
        assert self._redis is not None
        async with self._redis.pipeline(transaction=False) as pipe:
            for channel, data in batch:
                pipe.publish(channel, data)
            await pipe.execute()

    # -- reader ------------------------------------------------------------------------------

    async def _open_pubsub(self, client: Redis) -> PubSub:
        """A pub/sub connection whose pattern subscription Redis has confirmed."""
        pubsub = client.pubsub()
        try:
            await pubsub.psubscribe(self._pattern)
            async with asyncio.timeout(self.connect_timeout):
                while True:
                    message = await pubsub.get_message(timeout=self.connect_timeout)
                    if message is not None and message["type"] == "psubscribe":
                        return pubsub
        except BaseException:
            await pubsub.aclose()
            raise

    async def _read_loop(self, pubsub: PubSub) -> None:
        try:
            while True:
                try:
                    while True:
                        message = await pubsub.get_message(timeout=None)
                        if message is not None and message["type"] == "pmessage":
                            self._deliver(message["channel"], message["data"])
                except (*_TRANSIENT, RedisError) as exc:
                    await pubsub.aclose()
                    pubsub = await self._reconnect_reader(exc)
        finally:
            await pubsub.aclose()

    async def _reconnect_reader(self, exc: BaseException) -> PubSub:
        assert self._redis is not None
        self._reader_ok = False
        down_since, delay = time.monotonic(), self.backoff_initial
        _log.warning(
            "bus lost its Redis subscription at %s (%s); reconnecting",
            _redact(self.url),
            exc or type(exc).__name__,
        )
        while True:
            await asyncio.sleep(delay)
            try:
                pubsub = await self._open_pubsub(self._redis)
            except (*_TRANSIENT, RedisError, TimeoutError) as again:
                _log.debug("bus reconnection to Redis failed: %s", again)
                delay = min(delay * 2, self.backoff_max)
                continue
            self._reader_ok = True
            self._counts["reconnects"] += 1
            _log.warning(
                "bus subscribed to Redis at %s again after %.1f s; messages published "
                "meanwhile were not received",
                _redact(self.url),
                time.monotonic() - down_since,
            )
            return pubsub

    def _deliver(self, channel: bytes, data: bytes) -> None:
        if not channel.startswith(self._channel_prefix):
            return
        topic = channel[len(self._channel_prefix) :].decode(errors="replace")
        if not self._local.subscribers(topic):
            return
        try:
            message = decode(data)
        except DataError as exc:
            self._counts["undecodable"] += 1
            _log.warning("bus skipped a message on %s: %s", channel.decode(errors="replace"), exc)
            return
        self._counts["received"] += 1
        self._local.publish(topic, message)

    def _not_started(self, what: str) -> BusError:
        if self._state == "closed":
            return BusError(
                f"{what} was called after close()", fix="open a new bus (nexus.bus.open_bus)"
            )
        return BusError(
            f"{what} was called before start()",
            fix="await bus.start() (or use `async with bus:`) in the event loop first",
        )


def _glob_escape(text: str) -> str:
    """Escape the glob characters of a Redis PSUBSCRIBE pattern."""
    return re.sub(r"([\\*?\[\]])", r"\\\1", text)


def _redact(url: str) -> str:
    """``url`` without its password (it goes into logs and errors)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _log_crash(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        _log.error("bus task %s stopped", task.get_name(), exc_info=task.exception())
