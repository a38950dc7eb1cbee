"""Error answers: server statuses for nexus.errors, and the client's exceptions for answers."""

from __future__ import annotations

import pytest

from nexus.api._errors import status_of
from nexus.client._errors import error_for
from nexus.errors import (
    ArtifactError,
    AuthError,
    ConfigError,
    DataError,
    NexusError,
    RegistryError,
    SourceError,
    StoreError,
    StoreUnavailableError,
    UnknownIntervalError,
    UnknownSymbolError,
)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (UnknownSymbolError("x"), 404),
        (RegistryError("x"), 409),
        (ArtifactError("x"), 409),
        (ConfigError("x"), 422),
        (UnknownIntervalError("x"), 422),
        (DataError("x"), 422),
        (StoreUnavailableError("x"), 503),
        (StoreError("x"), 500),
        (SourceError("x"), 400),
        (NexusError("x"), 400),
    ],
)
def test_status_of_each_error(error: NexusError, status: int) -> None:
    assert status_of(error) == status


def test_the_client_raises_the_class_the_server_named() -> None:
    body = {"detail": "slot 'x' has no previous champion; promote one", "error": "RegistryError"}
    error = error_for(409, body)
    assert type(error) is RegistryError
    assert str(error) == body["detail"]
    assert error.status_code == 409


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, AuthError),
        (403, AuthError),
        (404, UnknownSymbolError),
        (409, RegistryError),
        (422, ConfigError),
        (503, StoreUnavailableError),
        (500, NexusError),
    ],
)
def test_without_a_class_the_status_decides(status: int, cls: type) -> None:
    assert type(error_for(status, {"detail": "d"})) is cls


def test_a_class_that_is_not_a_nexus_error_is_ignored() -> None:
    error = error_for(422, {"detail": "d", "error": "SystemExit"})
    assert type(error) is ConfigError


def test_validation_errors_are_summarised() -> None:
    body = {"detail": [{"loc": ["query", "limit"], "msg": "Input should be >= 1", "type": "x"}]}
    assert str(error_for(422, body)) == "query.limit: Input should be >= 1"
    assert str(error_for(502, None, "GET /x answered 502 Bad Gateway")).endswith("Bad Gateway")
