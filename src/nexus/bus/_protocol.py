"""The :class:`Bus` protocol every bus implements."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

from nexus.bus._inprocess import Subscription

__all__ = ["Bus"]


@runtime_checkable
class Bus(Protocol):
    """Publish/subscribe between the stages (ingest, live engine, API).

    Implemented by :class:`~nexus.bus.InProcessBus` (one process) and
    :class:`~nexus.bus.RedisBus` (several processes); :func:`~nexus.bus.open_bus`
    builds the one a URL names. Use it as ``async with bus:`` (or call
    :meth:`start` and :meth:`close`) inside the event loop that publishes and
    subscribes.
    """

    def publish(self, topic: str, message: Any) -> int:
        """Send ``message`` to the subscribers of ``topic``; never blocks.

        Returns how many local subscriptions it was handed to (or will be).
        """
        ...

    def subscribe(self, topic: str, *, maxsize: int = 10_000) -> Subscription:
        """Return a new bounded, drop-oldest subscription to ``topic``."""
        ...

    async def start(self) -> None:
        """Connect (if the bus has anything to connect to)."""
        ...

    async def close(self) -> None:
        """Send what is pending, then disconnect."""
        ...

    def status(self) -> dict[str, Any]:
        """JSON-able health and counters (``backend``, ``connected``, ...)."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
