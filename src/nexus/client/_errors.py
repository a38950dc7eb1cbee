"""Error answers of the API as ``nexus.errors`` exceptions carrying the server's detail."""

from __future__ import annotations

from typing import Any

import httpx

import nexus.errors as errors
from nexus.errors import (
    AuthError,
    ConfigError,
    NexusError,
    RegistryError,
    SourceError,
    StoreUnavailableError,
    UnknownSymbolError,
)

__all__ = ["error_for", "raise_for_status", "unreachable"]

_BY_STATUS: dict[int, type[NexusError]] = {
    401: AuthError,
    403: AuthError,
    404: UnknownSymbolError,
    409: RegistryError,
    422: ConfigError,
    503: StoreUnavailableError,
}


def _detail(body: Any, fallback: str) -> str:
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):  # FastAPI's validation errors
        parts = []
        for item in detail[:5]:
            if isinstance(item, dict):
                where = ".".join(str(p) for p in item.get("loc", ()))
                parts.append(f"{where}: {item.get('msg', '')}")
        detail = "; ".join(parts)
    return str(detail) if detail else fallback


def error_for(status: int, body: Any, fallback: str = "") -> NexusError:
    """The exception for an error answer: the class the server named, else one by status.

    Examples
    --------
    >>> err = error_for(404, {"detail": "unknown symbol 'X'", "error": "UnknownSymbolError"})
    >>> type(err).__name__, str(err), err.status_code
    ('UnknownSymbolError', "unknown symbol 'X'", 404)
    >>> type(error_for(403, {"detail": "the X-API-Key key is not valid"})).__name__
    'AuthError'
    """
    name = body.get("error") if isinstance(body, dict) else None
    cls = getattr(errors, name, None) if isinstance(name, str) else None
    if not (isinstance(cls, type) and issubclass(cls, NexusError)):
        cls = _BY_STATUS.get(status, NexusError)
    error = cls(_detail(body, fallback or f"HTTP {status}"))
    error.status_code = status  # type: ignore[attr-defined]
    return error


def raise_for_status(response: httpx.Response) -> None:
    """Raise :func:`error_for` the answer unless it is a success."""
    if response.is_success:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    fallback = f"{response.request.method} {response.request.url.path} answered " + (
        f"{response.status_code} {response.reason_phrase}"
    )
    raise error_for(response.status_code, body, fallback)


def unreachable(base_url: str, exc: Exception) -> SourceError:
    """The error for a server that cannot be reached at all."""
    return SourceError(
        f"the Nexus API at {base_url} cannot be reached ({exc})",
        fix="start it (nexus up or nexus serve) or check the client's base_url",
    )
