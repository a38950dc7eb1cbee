"""``nexus.errors`` exceptions as HTTP answers: a 4xx with the error's message, never a 500.

Every error body is ``{"detail": "<problem; fix>", "error": "<class name>"}``,
so :class:`nexus.client.Client` can raise the same exception class on its side.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from nexus.client._schemas import ErrorBody
from nexus.errors import (
    ArtifactError,
    ConfigError,
    DataError,
    NexusError,
    NotFittedError,
    RegistryError,
    StoreError,
    StoreUnavailableError,
    UnknownSymbolError,
)

__all__ = ["ERROR_RESPONSES", "HTTPError", "install_error_handlers", "status_of"]

_STATUS: tuple[tuple[type[NexusError], int], ...] = (
    (UnknownSymbolError, 404),
    (ArtifactError, 409),
    (RegistryError, 409),
    (NotFittedError, 409),
    (StoreUnavailableError, 503),
    (StoreError, 500),
    (ConfigError, 422),
    (DataError, 422),
)


class HTTPError(Exception):
    """A :class:`NexusError` answered with a chosen status (e.g. 404 for a missing version)."""

    def __init__(self, status: int, error: NexusError) -> None:
        super().__init__(str(error))
        self.status = status
        self.error = error


def status_of(error: NexusError) -> int:
    """The HTTP status for ``error``: by its class, 400 for any other Nexus error.

    Examples
    --------
    >>> status_of(UnknownSymbolError("symbol 'X' is unknown"))
    404
    >>> status_of(ConfigError("bad"))
    422
    """
    for cls, status in _STATUS:
        if isinstance(error, cls):
            return status
    return 400


def _body(error: NexusError, status: int) -> JSONResponse:
    return JSONResponse({"detail": str(error), "error": type(error).__name__}, status_code=status)


async def _nexus_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NexusError)
    return _body(exc, status_of(exc))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPError)
    return _body(exc.error, exc.status)


def install_error_handlers(app: FastAPI) -> None:
    """Answer :class:`NexusError` and :class:`HTTPError` raised by any route."""
    app.add_exception_handler(NexusError, _nexus_error)
    app.add_exception_handler(HTTPError, _http_error)


ERROR_RESPONSES: dict[int | str, dict] = {
    404: {
        "model": ErrorBody,
        "description": "Unknown symbol, macro series, slot, version, job or report.",
    },
}
"""The error answers most read routes document in the OpenAPI schema."""
