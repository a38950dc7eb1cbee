"""The in-process asyncio bus (the embedded default)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

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

    def subscribe(self, topic: str, *, maxsize: int = 10_000) -> Subscription:
        """Return a new subscription to ``topic`` with a queue of ``maxsize`` messages."""
        sub = Subscription(self, topic, maxsize)
        self._subs[topic].append(sub)
        return sub

    def publish(self, topic: str, message: Any) -> int:
        """Deliver ``message`` to every subscriber of ``topic``; return how many got it."""
        subs = self._subs.get(topic, [])
        for sub in subs:
            sub._offer(message)
        return len(subs)

    def subscribers(self, topic: str) -> int:
        """How many subscriptions ``topic`` has."""
        return len(self._subs.get(topic, []))

    def _remove(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.topic, [])
        if sub in subs:
            subs.remove(sub)
