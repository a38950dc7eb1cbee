"""The one exception hierarchy of Nexus.

Every error Nexus raises on bad input or an unusable environment is a
:class:`NexusError`. Each message names the input, the problem and the fix, so
the CLI can print it as one readable line. Subclasses also derive from the
builtin that fits, so existing ``except ValueError`` clauses keep working::

    NexusError
    ├── ConfigError (ValueError)          a setting, option or config value is wrong
    │   └── UnknownIntervalError          an interval Nexus does not know
    ├── DataError (ValueError)            input data cannot be used
    │   ├── SourceNotFoundError (FileNotFoundError)
    │   ├── ArchiveError                  an unreadable or unsafe archive
    │   ├── ChecksumError                 a file does not match its checksum
    │   ├── ArtifactError                 a model version is missing, incomplete or corrupt
    │   ├── NoUsableRowsError             nothing in the input survived validation
    │   └── AlignmentError                signals that do not line up with the bars
    ├── NotFittedError (ValueError, AttributeError)  a model used before fit or load
    ├── UnknownSymbolError (LookupError)  a symbol no source or store knows
    ├── AuthError (PermissionError)       an API key is missing or wrong (HTTP 401/403)
    ├── RegistryError (RuntimeError)      a registry operation was refused, or
    │                                     model_config.json is unreadable or locked
    ├── SourceError (RuntimeError)        a data vendor failed after retries
    │   ├── RateLimitedError              a vendor asked to wait longer than allowed
    │   └── PayloadTooLargeError          a response over the size limit
    ├── BusError (RuntimeError)           the bus refused a publish (not started, closed)
    │   └── BusUnavailableError           the bus server (Redis) cannot be reached
    └── StoreError (RuntimeError)         the store cannot be opened or written
        └── StoreUnavailableError         the database is not reachable or is locked

Examples
--------
>>> from nexus.errors import ConfigError
>>> err = ConfigError("interval '7m' is not supported", fix="use one of 1m, 5m, 1d")
>>> str(err)
"interval '7m' is not supported; use one of 1m, 5m, 1d"
>>> isinstance(err, ValueError)
True
"""

from __future__ import annotations

__all__ = [
    "AlignmentError",
    "ArchiveError",
    "ArtifactError",
    "AuthError",
    "BusError",
    "BusUnavailableError",
    "ChecksumError",
    "ConfigError",
    "DataError",
    "NexusError",
    "NoUsableRowsError",
    "NotFittedError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "RegistryError",
    "SourceError",
    "SourceNotFoundError",
    "StoreError",
    "StoreUnavailableError",
    "UnknownIntervalError",
    "UnknownSymbolError",
]


class NexusError(Exception):
    """Base class of every Nexus error.

    Parameters
    ----------
    message : str
        What went wrong, naming the offending input.
    fix : str, optional
        What the user can do about it.
    """

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.message}; {self.fix}" if self.fix else self.message


class ConfigError(NexusError, ValueError):
    """A setting, CLI option or configuration value is invalid."""


class UnknownIntervalError(ConfigError):
    """An interval string that Nexus does not support."""


class DataError(NexusError, ValueError):
    """Input data cannot be used as given."""


class SourceNotFoundError(DataError, FileNotFoundError):
    """A file or folder named as input does not exist."""


class ArchiveError(DataError):
    """An archive is unreadable, empty or unsafe to extract."""


class ChecksumError(DataError):
    """A file's checksum does not match the expected value."""


class ArtifactError(DataError):
    """A model version is missing, lacks a file, or fails its checksum manifest."""


class NoUsableRowsError(DataError):
    """No row of the input could be stored."""


class AlignmentError(DataError):
    """Signals or probabilities that do not line up with the bars they are backtested on."""


class NotFittedError(NexusError, ValueError, AttributeError):
    """A model was used (predict, save, export) before ``fit`` or ``load``.

    Derives from ``ValueError`` and ``AttributeError`` like scikit-learn's.
    """


class UnknownSymbolError(NexusError, LookupError):
    """A symbol that neither the source nor the store knows."""

    def __str__(self) -> str:  # LookupError would quote the message
        return NexusError.__str__(self)


class AuthError(NexusError, PermissionError):
    """A request that changes state came without a valid API key (HTTP 401 or 403)."""


class RegistryError(NexusError, RuntimeError):
    """The model registry refused an operation (for example a rollback with no previous
    champion), or its ``model_config.json`` cannot be read or locked."""


class SourceError(NexusError, RuntimeError):
    """A data source failed, for example a vendor that kept failing after retries."""


class RateLimitedError(SourceError):
    """A vendor answered 429 and asked to wait longer than the caller allows.

    ``retry_after`` holds the seconds it asked for; a poller waits that long
    before its next request.
    """

    def __init__(self, message: str, *, fix: str | None = None, retry_after: float = 0.0) -> None:
        super().__init__(message, fix=fix)
        self.retry_after = retry_after


class PayloadTooLargeError(SourceError):
    """A response body larger than the configured limit (it is not read further)."""


class BusError(NexusError, RuntimeError):
    """The bus cannot do what was asked, for example a publish before ``start()``."""


class BusUnavailableError(BusError):
    """The bus server (Redis) cannot be reached."""


class StoreError(NexusError, RuntimeError):
    """The store could not complete an operation."""


class StoreUnavailableError(StoreError):
    """The store cannot be reached or is locked by another process."""
