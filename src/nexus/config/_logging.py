"""Logging setup: text for people, one JSON object per line for machines, context fields.

:func:`configure_logging` installs one handler on the root logger (replacing
the one it installed before, leaving any other alone). :func:`log_context`
adds fields (a request id, a bar time) to every record logged inside it, in
this thread or task and in the threads it starts with ``asyncio.to_thread``:
the fields live in a :mod:`contextvars` variable that the handler's filter
reads.

The JSON formatter is the standard library's ``logging.Formatter`` with
``format`` overridden (about forty lines). python-json-logger would do the
same, but the field names here (``time``, ``level``, ``logger``, ``message``,
``error``) and the context filter would still be ours, so it would add a
dependency and little else.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import IO, Any

from nexus.errors import ConfigError

__all__ = [
    "LOG_FORMATS",
    "LOG_LEVELS",
    "JsonFormatter",
    "configure_logging",
    "current_log_context",
    "log_context",
]

LOG_FORMATS = ("text", "json")
"""The values of ``NEXUS_LOG_FORMAT``."""

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
"""The values of ``NEXUS_LOG_LEVEL``."""

_CONTEXT: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "nexus_log_context", default=MappingProxyType({})
)

# the attributes every LogRecord has; anything else on a record came from ``extra``
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add ``fields`` to every record logged inside the block.

    Contexts nest: an inner one adds to (and for the same name overrides) the
    outer one, and the outer fields are back when it ends. A field passed as
    ``extra=`` to the logging call wins over the context's.

    Examples
    --------
    >>> with log_context(request_id="ab12"):
    ...     with log_context(bar_ts="2025-01-02T14:30:00+00:00"):
    ...         sorted(current_log_context())
    ['bar_ts', 'request_id']
    >>> dict(current_log_context())
    {}
    """
    token = _CONTEXT.set(MappingProxyType({**_CONTEXT.get(), **fields}))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def current_log_context() -> Mapping[str, Any]:
    """The fields :func:`log_context` adds here (read-only)."""
    return _CONTEXT.get()


class _ContextFilter(logging.Filter):
    """Copies the log context's fields onto each record (``extra`` fields win)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _CONTEXT.get().items():
            if name not in record.__dict__:
                setattr(record, name, value)
        return True


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD and k[:1] != "_"}


def _time(record: logging.LogRecord) -> str:
    stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line.

    Keys: ``time`` (ISO 8601, UTC, milliseconds), ``level``, ``logger``,
    ``message``, then every ``extra`` and :func:`log_context` field (values
    JSON cannot hold are written with ``str``), then ``error`` (the formatted
    exception) when the record carries one and ``stack`` with ``stack_info``.
    A field named like one of those keys does not replace it.

    Examples
    --------
    >>> record = logging.LogRecord("nexus.live", logging.WARNING, "", 0, "slow %s", ("bar",), None)
    >>> record.slot = "lstm"
    >>> out = json.loads(JsonFormatter().format(record))
    >>> out["level"], out["logger"], out["message"], out["slot"]
    ('WARNING', 'nexus.live', 'slow bar', 'lstm')
    """

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in _extras(record).items():
            out.setdefault(name, value)
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["error"] = record.exc_text
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, default=str, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    """``time LEVEL logger: message  key=value ...`` for people."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        line = f"{_time(record)} {record.levelname} {record.name}: {record.getMessage()}"
        line = f"{line}  {fields}" if fields else line
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        if record.stack_info:
            line = f"{line}\n{self.formatStack(record.stack_info)}"
        return line


class _NexusHandler(logging.StreamHandler):
    """The handler :func:`configure_logging` installs; writes to ``sys.stderr`` as it is
    at each record (so a replaced or captured stderr is followed) unless given a stream."""

    def __init__(self, stream: IO[str] | None) -> None:
        super().__init__(stream)
        self._fixed = stream  # StreamHandler set it to sys.stderr as it was then

    @property
    def stream(self) -> IO[str]:  # type: ignore[override]
        return self._fixed if self._fixed is not None else sys.stderr

    @stream.setter
    def stream(self, value: IO[str] | None) -> None:
        self._fixed = value


def configure_logging(
    level: str = "INFO", fmt: str = "text", stream: IO[str] | None = None
) -> logging.Handler:
    """Send log records to ``stream`` as text or JSON lines; return the handler.

    Nexus's own loggers (``nexus.*``) log at ``level``; other libraries'
    at WARNING and above (or ``level``, if higher), so a library's chatter does not
    bury ours. Calling it again replaces the handler it installed before;
    other handlers on the root logger (a test's, an application's) are kept.

    Parameters
    ----------
    level : str
        ``DEBUG``, ``INFO``, ``WARNING``, ``ERROR`` or ``CRITICAL`` (any case).
    fmt : str
        ``text`` (``time LEVEL logger: message  key=value``) or ``json``
        (:class:`JsonFormatter`).
    stream : file, optional
        Where to write. Default: standard error.

    Raises
    ------
    ConfigError
        If ``level`` or ``fmt`` is not one of those.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> handler = configure_logging("info", "json", stream=out)
    >>> with log_context(request_id="ab12"):
    ...     logging.getLogger("nexus.api").info("hello")
    >>> json.loads(out.getvalue())["request_id"]
    'ab12'
    >>> logging.getLogger().removeHandler(handler)
    """
    name = str(level).strip().upper()
    if name not in LOG_LEVELS:
        raise ConfigError(
            f"log level {level!r} is not a level",
            fix=f"set NEXUS_LOG_LEVEL to one of {', '.join(LOG_LEVELS)}",
        )
    if fmt not in LOG_FORMATS:
        raise ConfigError(
            f"log format {fmt!r} is not a format",
            fix="set NEXUS_LOG_FORMAT to text (for people) or json (one object per line)",
        )
    handler = _NexusHandler(stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else _TextFormatter())
    handler.addFilter(_ContextFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _NexusHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    number = logging.getLevelName(name)
    root.setLevel(max(number, logging.WARNING))
    logging.getLogger("nexus").setLevel(number)
    return handler
