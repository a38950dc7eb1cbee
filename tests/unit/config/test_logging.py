"""Structured logs: the JSON formatter, the text format, log_context and configure_logging."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest

from nexus.config import Settings, configure_logging, current_log_context, log_context
from nexus.errors import ConfigError

log = logging.getLogger("nexus.tests.logging")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the root and ``nexus`` loggers back as they were (logging is process-wide)."""
    root, nexus = logging.getLogger(), logging.getLogger("nexus")
    handlers, levels = list(root.handlers), (root.level, nexus.level)
    yield
    root.handlers[:] = handlers
    root.setLevel(levels[0])
    nexus.setLevel(levels[1])


@pytest.fixture
def lines(restore_logging: None) -> Callable[[], list[dict]]:
    """JSON logging at DEBUG into a buffer; returns a reader of the records so far, parsed."""
    out = io.StringIO()
    configure_logging("DEBUG", "json", stream=out)
    return lambda: [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_json_object_per_line_with_time_level_logger_message(
    lines: Callable[[], list[dict]],
) -> None:
    log.info("bar %s stored", "14:30")
    log.warning("second")
    first, second = lines()
    assert first["level"] == "INFO"
    assert second["level"] == "WARNING"
    assert first["logger"] == "nexus.tests.logging"
    assert first["message"] == "bar 14:30 stored"
    assert first["time"].endswith("Z")
    assert datetime.fromisoformat(first["time"]).utcoffset().total_seconds() == 0
    assert list(first)[:4] == ["time", "level", "logger", "message"]


def test_extra_fields_appear_and_values_json_cannot_hold_become_text(
    lines: Callable[[], list[dict]],
) -> None:
    log.warning("drift", extra={"alert": "drift", "slot": "lstm", "when": datetime(2025, 1, 2)})
    (record,) = lines()
    assert record["alert"] == "drift"
    assert record["slot"] == "lstm"
    assert record["when"] == "2025-01-02 00:00:00"


def test_log_context_fields_appear_nest_and_are_gone_after(lines: Callable[[], list[dict]]) -> None:
    with log_context(request_id="r1"):
        log.info("outer")
        with log_context(bar_ts="2025-01-02T14:30:00+00:00", request_id="r2"):
            log.info("inner")
        log.info("outer again")
    log.info("outside")
    outer, inner, again, outside = lines()
    assert outer["request_id"] == "r1"
    assert "bar_ts" not in outer
    assert inner["request_id"] == "r2"
    assert inner["bar_ts"] == "2025-01-02T14:30:00+00:00"
    assert again["request_id"] == "r1"
    assert "bar_ts" not in again
    assert "request_id" not in outside
    assert dict(current_log_context()) == {}


def test_an_explicit_extra_wins_over_the_context(lines: Callable[[], list[dict]]) -> None:
    with log_context(slot="lstm"):
        log.info("x", extra={"slot": "transformer"})
    assert lines()[0]["slot"] == "transformer"


def test_exceptions_are_logged_as_error(lines: Callable[[], list[dict]]) -> None:
    with log_context(bar_ts="t"):
        try:
            raise ValueError("bad bar")
        except ValueError:
            log.exception("scoring failed")
    (record,) = lines()
    assert record["message"] == "scoring failed"
    assert record["error"].startswith("Traceback")
    assert "ValueError: bad bar" in record["error"]
    assert record["bar_ts"] == "t"


def test_context_follows_tasks_and_worker_threads(lines: Callable[[], list[dict]]) -> None:
    async def one(bar: str) -> None:
        with log_context(bar_ts=bar):
            await asyncio.sleep(0)
            await asyncio.to_thread(log.info, "in a thread")
            log.info("in the task")

    async def both() -> None:
        await asyncio.gather(one("a"), one("b"))

    asyncio.run(both())
    seen = sorted((r["bar_ts"], r["message"]) for r in lines())
    assert seen == [
        ("a", "in a thread"),
        ("a", "in the task"),
        ("b", "in a thread"),
        ("b", "in the task"),
    ]


def test_level_applies_to_nexus_loggers_and_other_libraries_stay_at_warning(
    restore_logging: None,
) -> None:
    out = io.StringIO()
    configure_logging("info", "json", stream=out)
    log.debug("hidden")
    log.info("shown")
    logging.getLogger("some.library").info("library chatter")
    logging.getLogger("some.library").warning("library warning")
    assert [json.loads(line)["message"] for line in out.getvalue().splitlines()] == [
        "shown",
        "library warning",
    ]


def test_configuring_again_replaces_the_handler_and_keeps_others(
    restore_logging: None,
) -> None:
    other = logging.NullHandler()
    logging.getLogger().addHandler(other)
    first, second = io.StringIO(), io.StringIO()
    configure_logging("INFO", "json", stream=first)
    configure_logging("INFO", "text", stream=second)
    with log_context(request_id="ab12"):
        log.warning("once")
    assert first.getvalue() == ""
    text = second.getvalue()
    assert text.count("\n") == 1
    assert " WARNING nexus.tests.logging: once  request_id=ab12" in text
    assert other in logging.getLogger().handlers


def test_text_logs_go_to_stderr_as_it_is_when_logging(
    restore_logging: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_logging("INFO", "text")
    later = io.StringIO()
    monkeypatch.setattr(sys, "stderr", later)
    log.info("to the stderr of now")
    assert "to the stderr of now" in later.getvalue()


@pytest.mark.parametrize(
    ("level", "fmt", "match"),
    [("LOUD", "text", "log level 'LOUD'.*NEXUS_LOG_LEVEL"), ("INFO", "xml", "NEXUS_LOG_FORMAT")],
)
def test_unknown_level_or_format_is_a_config_error(level: str, fmt: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        configure_logging(level, fmt)


def test_settings_read_the_log_level_and_format(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEXUS_LOG_LEVEL", raising=False)
    monkeypatch.delenv("NEXUS_LOG_FORMAT", raising=False)
    assert (Settings().log_level, Settings().log_format) == ("INFO", "text")
    monkeypatch.setenv("NEXUS_LOG_LEVEL", "debug")
    monkeypatch.setenv("NEXUS_LOG_FORMAT", "JSON")
    assert (Settings().log_level, Settings().log_format) == ("DEBUG", "json")
    monkeypatch.setenv("NEXUS_LOG_FORMAT", "yaml")
    with pytest.raises(ValueError, match="NEXUS_LOG_FORMAT 'yaml' is not a log format"):
        Settings()
