"""The live stream as an async iterator of typed messages (the ``websockets`` client)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK, InvalidHandshake

from nexus.client._errors import unreachable
from nexus.client._schemas import ErrorMessage, StreamMessage, parse_message
from nexus.errors import ConfigError, NexusError, UnknownSymbolError

__all__ = ["Stream"]

_POLICY_VIOLATION = 1008


class Stream:
    """One connection to ``/ws/stream``.

    Iterate it (``async for message in stream``) for the snapshot, then bar,
    prediction, recommendation, model, alert and heartbeat messages, each parsed
    into its model (:data:`~nexus.client.StreamMessage`). Use it as an async
    context manager to close it on exit. Iteration ends when the server closes
    normally.

    Raises
    ------
    UnknownSymbolError
        On connecting, when the server refuses a symbol (close code 1008).
    ConfigError
        When the server refuses the subscription for another reason.
    SourceError
        When the server cannot be reached.
    """

    def __init__(self, url: str, *, open_timeout: float = 10.0) -> None:
        self.url = url
        self.open_timeout = open_timeout
        self._ws: ClientConnection | None = None
        self._first: StreamMessage | None = None

    async def connect(self) -> Stream:
        """Open the connection and read the snapshot (iteration yields it first)."""
        if self._ws is not None:
            return self
        try:
            self._ws = await connect(self.url, open_timeout=self.open_timeout, max_size=2**26)
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            raise unreachable(self.url, exc) from exc
        first = await self._receive()
        if isinstance(first, ErrorMessage):
            await self.close()
            cls = UnknownSymbolError if "unknown symbol" in first.message else ConfigError
            raise cls(first.message)
        self._first = first
        return self

    async def _receive(self) -> StreamMessage:
        assert self._ws is not None
        try:
            raw = await self._ws.recv()
        except ConnectionClosedOK:
            raise StopAsyncIteration from None
        except ConnectionClosed as exc:
            rcvd = exc.rcvd
            if rcvd is not None and rcvd.code == _POLICY_VIOLATION:
                raise ConfigError(f"the server closed the stream: {rcvd.reason}") from None
            raise NexusError(f"the stream from {self.url} broke ({exc})") from None
        return parse_message(raw)

    def __aiter__(self) -> Stream:
        return self

    async def __anext__(self) -> StreamMessage:
        if self._ws is None:
            await self.connect()
        if self._first is not None:
            first, self._first = self._first, None
            return first
        return await self._receive()

    async def send(self, message: dict[str, Any]) -> None:
        """Send a client message (JSON) to the server."""
        if self._ws is None:
            await self.connect()
        assert self._ws is not None
        await self._ws.send(json.dumps(message))

    async def subscribe(self, symbols: Iterable[str]) -> None:
        """Add ``symbols``; the server answers ``subscribed`` and a snapshot of them."""
        await self.send({"action": "subscribe", "symbols": list(symbols)})

    async def unsubscribe(self, symbols: Iterable[str]) -> None:
        """Remove ``symbols``; the server answers ``subscribed``."""
        await self.send({"action": "unsubscribe", "symbols": list(symbols)})

    async def ping(self) -> None:
        """Ask the server for a ``pong`` message."""
        await self.send({"action": "ping"})

    async def close(self) -> None:
        """Close the connection."""
        if self._ws is not None:
            ws, self._ws = self._ws, None
            await ws.close()

    async def __aenter__(self) -> Stream:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
