"""``X-Request-ID``: one id per request, in every log line of it and in the answer."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nexus.config import log_context

__all__ = ["REQUEST_ID_HEADER", "RequestIdMiddleware"]

REQUEST_ID_HEADER = "X-Request-ID"
"""The header that carries a request's id, both ways."""

# what a caller's id may look like; anything else (too long, spaces, control
# characters that could forge log lines) is replaced by a fresh id
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def _request_id_of(scope: Scope) -> str:
    """The caller's ``X-Request-ID`` if it is a sane token, else a new uuid4 hex."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _ACCEPTED.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Pure ASGI middleware: takes or makes the request id, logs under it, answers with it.

    For every HTTP request and WebSocket connection the id (the caller's
    ``X-Request-ID`` when it is 1-128 characters of letters, digits and
    ``._:-``; otherwise a new uuid4 hex) is put in the log context as
    ``request_id`` (:func:`nexus.config.log_context`), so each log line of the
    request carries it, and sent back in the response's ``X-Request-ID``
    header. It is also in ``scope["state"]["request_id"]``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = _request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with log_context(request_id=request_id):
            await self.app(scope, receive, send_with_id)
