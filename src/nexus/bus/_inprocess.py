"""The in-process asyncio bus (the embedded default)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, Self

__all__ = ["InProcessBus", "Subscription"]


class Subscription:
    """One subscriber's bounded queue on one topic.

    When the subscriber falls behind and the queue is full, the oldest message
    is dropped and counted in :attr:`dropped`, so a slow subscriber never
    blocks the publisher or the other subscribers.
    """

    def __init__(self, bus: InProcessBus, topic: str, maxsize: int) -> None:
        self._bus = bus
        self.topic = topic
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=maxsize)
        self.dropped = 0
        self.closed = False

    def _offer(self, message: Any) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(message)

    async def get(self) -> Any:
        """Wait for and return the next message."""
        return await self._queue.get()

    def pending(self) -> int:
        """How many messages wait in the queue."""
        return self._queue.qsize()

    def close(self) -> None:
        """Stop receiving messages."""
        if not self.closed:
            self.closed = True
            self._bus._remove(self)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        if self.closed and self._queue.empty():
            raise StopAsyncIteration
        return await self.get()


class InProcessBus:
    """Publish/subscribe between tasks of one process.

    Subscribers receive the very object that was published (nothing is
    copied or encoded). :meth:`start` and :meth:`close` do nothing; they exist
    so that code written against :class:`~nexus.bus.Bus` runs on either bus.

    :meth:`publish` may be called from a worker thread (``asyncio.to_thread``):
    the delivery is then handed to the event loop the subscribers live in (the
    loop that called :meth:`start` or the first :meth:`subscribe`).

    Examples
    --------
    >>> import asyncio
    >>> async def demo():
    ...     bus = InProcessBus()
    ...     sub = bus.subscribe("bars")
    ...     bus.publish("bars", {"n": 1})
    ...     return await sub.get()
    >>> asyncio.run(demo())
    {'n': 1}
    """

    def __init__(self) -> None:
        self._subs: dict[str, list[Subscription]] = defaultdict(list)
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        """Nothing to connect to; remember the event loop for publishes from other threads."""
        self._loop = asyncio.get_running_loop()

    async def close(self) -> None:
        """Do nothing: subscriptions stay readable; close them to end their iteration."""

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

    def subscribe(self, topic: str, *, maxsize: int = 10_000) -> Subscription:
        """Return a new subscription to ``topic`` with a queue of ``maxsize`` messages."""
        sub = Subscription(self, topic, maxsize)
        self._subs[topic].append(sub)
        if self._loop is None or self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # no running loop: keep what we had
                self._loop = asyncio.get_running_loop()
        return sub

    def publish(self, topic: str, message: Any) -> int:
        """Deliver ``message`` to every subscriber of ``topic``; return how many get it."""
        subs = self._subs.get(topic, [])
        if not subs:
            return 0
        loop = self._loop
        if loop is not None and loop.is_running() and not _inside(loop):
            loop.call_soon_threadsafe(self._deliver, topic, message)
        else:
            self._deliver(topic, message)
        return len(subs)

    def _deliver(self, topic: str, message: Any) -> None:
        for sub in self._subs.get(topic, []):
            sub._offer(message)

    def subscribers(self, topic: str) -> int:
        """How many subscriptions ``topic`` has."""
        return len(self._subs.get(topic, []))

    def status(self) -> dict[str, Any]:
        """``{"backend": "memory", "connected": True, "subscribers": {topic: n}, "dropped": n}``."""
        return {
            "backend": "memory",
            "connected": True,
            "subscribers": {t: len(s) for t, s in self._subs.items() if s},
            "dropped": sum(sub.dropped for subs in self._subs.values() for sub in subs),
        }

    def _remove(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.topic, [])
        if sub in subs:
            subs.remove(sub)


def _inside(loop: asyncio.AbstractEventLoop) -> bool:
    """True when the caller runs in ``loop``'s thread (inside the loop)."""
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
