"""API-key auth for the endpoints that change state (promote, rollback, retrain).

The key travels in the ``X-API-Key`` header and is compared with every key of
``NEXUS_API_KEYS`` in constant time. A missing key is 401, a wrong key 403, and
a server with no keys configured refuses every such request with 403. The
check runs before the request body is read, so a refused request changes
nothing.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader

from nexus.api._state import state_of

__all__ = ["API_KEY_HEADER", "require_api_key"]

API_KEY_HEADER = "X-API-Key"

_scheme = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="One of the keys in NEXUS_API_KEYS (comma-separated) on the server.",
)


def _matches(given: str, keys: tuple[str, ...]) -> bool:
    """True when ``given`` equals one of ``keys``; every key is compared (constant time)."""
    given_bytes = given.encode("utf-8", "surrogateescape")
    found = False
    for key in keys:
        found |= secrets.compare_digest(given_bytes, key.encode("utf-8", "surrogateescape"))
    return found


def require_api_key(request: Request, key: Annotated[str | None, Depends(_scheme)] = None) -> None:
    """Refuse the request unless it carries a configured API key (a FastAPI dependency).

    Raises
    ------
    HTTPException
        401 when the header is missing, 403 when the key is wrong or the server
        has no keys.
    """
    keys = state_of(request).settings.api_keys
    if not keys:
        raise HTTPException(
            403,
            "this server has no API keys, so it refuses every change; "
            "set NEXUS_API_KEYS=<key>[,<key>...] where the server runs and restart it",
        )
    if not key:
        raise HTTPException(
            401,
            f"the {API_KEY_HEADER} header is missing; send one of the server's NEXUS_API_KEYS",
            headers={"WWW-Authenticate": "APIKey"},
        )
    if not _matches(key, keys):
        raise HTTPException(
            403, f"the {API_KEY_HEADER} key is not valid; send one of the server's NEXUS_API_KEYS"
        )
