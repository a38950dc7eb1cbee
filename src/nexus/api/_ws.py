"""``/ws/stream``: the WebSocket endpoint in front of the stream hub.

A client names its symbols in the query string (``?symbols=A,B``; omitted:
every symbol). An unknown symbol gets an ``error`` message and the close code
1008 (policy violation). Otherwise the client gets a snapshot, then the live
messages. Client messages are JSON of at most :data:`MAX_CLIENT_MESSAGE` bytes:
``subscribe`` / ``unsubscribe`` a list of symbols, or ``ping``. Anything else is
answered with an ``error`` message to that client alone; the connection stays.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, WebSocket
from pydantic import ValidationError

from nexus.api._hub import HubClient, StreamHub, encode
from nexus.api._params import MAX_SYMBOLS
from nexus.api._state import ws_state_of
from nexus.client._schemas import PingRequest, SubscribeRequest, parse_client_message

__all__ = ["MAX_CLIENT_MESSAGE", "POLICY_VIOLATION", "router"]

MAX_CLIENT_MESSAGE = 4096
"""Bytes; longer client messages are refused."""
POLICY_VIOLATION = 1008

router = APIRouter()

_USAGE = (
    'send {"action": "subscribe" or "unsubscribe", "symbols": ["SIM00", ...]} or {"action": "ping"}'
)


def _error(message: str) -> dict[str, Any]:
    return {"type": "error", "message": message}


def _query_symbols(text: str | None) -> tuple[frozenset[str] | None, str | None]:
    """The symbols of the query string, or the problem with them."""
    if text is None or not text.strip():
        return None, None
    symbols = frozenset(s.strip() for s in text.split(",") if s.strip())
    if len(symbols) > MAX_SYMBOLS:
        return None, f"symbols names {len(symbols)} symbols, more than {MAX_SYMBOLS}"
    return symbols, None


@router.websocket("/ws/stream")
async def stream(websocket: WebSocket) -> None:
    """Snapshot, then bar, prediction, recommendation, model, alert and heartbeat messages."""
    hub = ws_state_of(websocket).hub
    await websocket.accept()
    symbols, problem = _query_symbols(websocket.query_params.get("symbols"))
    if problem is None and symbols is not None:
        unknown = await hub.unknown(symbols)
        if unknown:
            problem = (
                f"unknown symbol(s) {', '.join(unknown[:10])} in ?symbols=; "
                "GET /api/symbols lists the symbols this server knows"
            )
    if problem is not None:
        await websocket.send_text(encode(_error(problem)))
        reason = problem.encode()[:120].decode(errors="ignore")  # a close reason: <= 123 bytes
        await websocket.close(POLICY_VIOLATION, reason=reason)
        return
    client = hub.connect(websocket.send_text, symbols)
    try:
        await _receive(websocket, hub, client)
    finally:
        await hub.disconnect(client)


async def _receive(websocket: WebSocket, hub: StreamHub, client: HubClient) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        raw = message.get("text")
        if raw is None:
            raw = message.get("bytes") or b""
        await _handle(hub, client, raw)


async def _handle(hub: StreamHub, client: HubClient, raw: str | bytes) -> None:
    size = len(raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else raw)
    if size > MAX_CLIENT_MESSAGE:
        hub.reply(
            client,
            _error(
                f"message of {size} bytes is over the {MAX_CLIENT_MESSAGE}-byte limit; {_USAGE}"
            ),
        )
        return
    try:
        request = parse_client_message(raw)
    except ValidationError as exc:
        hub.reply(client, _error(f"message refused ({_problem(exc)}); {_USAGE}"))
        return
    if isinstance(request, PingRequest):
        hub.reply(client, {"type": "pong"})
        return
    await _subscription(hub, client, request)


async def _subscription(hub: StreamHub, client: HubClient, request: SubscribeRequest) -> None:
    named = frozenset(request.symbols)
    if request.action == "subscribe":
        unknown = await hub.unknown(named)
        if unknown:
            hub.reply(
                client,
                _error(
                    f"unknown symbol(s) {', '.join(unknown[:10])}; nothing changed; "
                    "GET /api/symbols lists the symbols this server knows"
                ),
            )
            return
        if client.symbols is None:
            hub.resubscribe(client, None)
            return
        added = named - client.symbols
        hub.resubscribe(client, client.symbols | named, added)
        return
    current = hub.known_symbols() if client.symbols is None else client.symbols
    hub.resubscribe(client, current - named)


def _problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    if first["type"] == "json_invalid":
        return "not valid JSON"
    where = ".".join(str(p) for p in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])
