"""Alert sinks: the log record, the webhook's checks, its queue and its close."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from nexus.bus import AlertRaised
from nexus.config import Settings
from nexus.errors import ConfigError
from nexus.monitoring._sinks import AlertSink, LogSink, WebhookSink, sinks_from_settings
from tests._alert_sinks import sink_factory, wait_for
from tests._http_server import Reply, ScriptedServer, scripted_server

AT = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def _alert(n: int = 0, **fields: object) -> AlertRaised:
    values: dict = {
        "level": "critical",
        "source": "monitor",
        "message": f"accuracy 0.41 under the floor 0.45 (#{n})",
        "at": AT,
        "details": {"accuracy": 0.41, "floor": 0.45},
        "kind": "rollback",
        "slot": "lstm",
    }
    values.update(fields)
    return AlertRaised(**values)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as running:
        yield running


@pytest.fixture
def make_sink() -> Iterator[Callable[..., WebhookSink]]:
    """WebhookSinks with small timeouts and backoff, closed after the test."""
    with sink_factory(close_timeout=1.0, timeout=2.0, backoff=0.01) as make:
        yield make


# -- LogSink ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "levelno"),
    [("info", logging.INFO), ("warning", logging.WARNING), ("critical", logging.CRITICAL)],
)
def test_log_sink_writes_one_record_at_the_alerts_level(
    caplog: pytest.LogCaptureFixture, level: str, levelno: int
) -> None:
    alert = _alert(level=level)
    with caplog.at_level(logging.DEBUG, logger="nexus.alerts"):
        LogSink().send(alert)
    (record,) = [r for r in caplog.records if r.name == "nexus.alerts"]
    assert record.levelno == levelno
    assert record.getMessage() == (
        f"[{level}] monitor/lstm rollback: accuracy 0.41 under the floor 0.45 (#0)"
    )
    assert record.alert == alert.to_dict()  # type: ignore[attr-defined]
    json.dumps(record.alert)  # type: ignore[attr-defined]  # ready for a JSON formatter


def test_log_sink_message_without_slot_or_kind(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="nexus.alerts"):
        LogSink().send(_alert(level="info", slot="", kind="", message="store reachable again"))
    assert caplog.records[-1].getMessage() == "[info] monitor: store reachable again"


def test_log_sink_logs_an_unknown_level_as_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="nexus.alerts"):
        LogSink().send(_alert(level="severe"))
    assert caplog.records[-1].levelno == logging.WARNING
    assert caplog.records[-1].getMessage().startswith("[severe] monitor/lstm")


def test_log_sink_writes_to_the_given_logger(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.alerts")
    with caplog.at_level(logging.INFO, logger="tests.alerts"):
        sink = LogSink(logger)
        sink.send(_alert())
        sink.close()
    assert [r.name for r in caplog.records] == ["tests.alerts"]


def test_both_sinks_satisfy_the_protocol() -> None:
    webhook = WebhookSink("http://127.0.0.1:9/alerts")
    assert isinstance(LogSink(), AlertSink)
    assert isinstance(webhook, AlertSink)
    webhook.close()


# -- WebhookSink checks --------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "is empty"),
        ("ftp://hooks.example.com/x", "scheme 'ftp'"),
        ("hooks.example.com/x", "scheme ''"),
        ("http://", "has no host"),
        ("https:///path-only", "has no host"),
        ("http://hooks.example.com:99999/x", "malformed"),
    ],
)
def test_webhook_rejects_a_bad_url_naming_it_and_the_fix(url: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem) as caught:
        WebhookSink(url)
    message = str(caught.value)
    assert repr(url) in message
    assert "https://hooks.example.com/nexus" in message  # the fix shows a usable URL


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("timeout", 0),
        ("timeout", "5"),
        ("retries", -1),
        ("retries", 1.5),
        ("backoff", -0.1),
        ("queue_size", 0),
        ("queue_size", True),
    ],
)
def test_webhook_rejects_out_of_range_options(option: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"{option}={value!r}"):
        WebhookSink("https://hooks.example.com/a", **{option: value})  # type: ignore[arg-type]


def test_webhook_keeps_tokens_out_of_its_repr() -> None:
    sink = WebhookSink("https://bot:pw@hooks.example.com/T1/B2?token=s3cret")
    assert "s3cret" not in repr(sink)
    assert "pw" not in repr(sink)
    assert repr(sink) == "WebhookSink('https://hooks.example.com/T1/B2?...')"
    sink.close()


# -- WebhookSink queue and close -----------------------------------------------------------


def test_queue_overflow_drops_the_oldest_and_counts_it(
    server: ScriptedServer,
    make_sink: Callable[..., WebhookSink],
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.script("/hook", Reply(delay_s=0.4), Reply())
    sink = make_sink(server.url("/hook"), queue_size=2)
    alerts = [_alert(n) for n in range(5)]
    sink.send(alerts[0])
    wait_for(lambda: server.hits("/hook") == 1)  # the worker is busy with the first one
    with caplog.at_level(logging.WARNING, logger="nexus.monitoring"):
        for alert in alerts[1:]:
            sink.send(alert)  # returns at once although the worker is stuck
    assert sink.dropped == 2
    assert sink.stats()["queued"] == 2
    dropped_logs = [r.getMessage() for r in caplog.records if "dropped alert" in r.getMessage()]
    assert len(dropped_logs) == 2
    assert alerts[1].id in dropped_logs[0]
    assert alerts[2].id in dropped_logs[1]
    assert "queue is full (2 alerts)" in dropped_logs[0]

    sink.close(timeout=5)
    delivered = [json.loads(r.body)["id"] for r in server.requests]
    assert delivered == [alerts[0].id, alerts[3].id, alerts[4].id]
    assert sink.stats() == {"sent": 3, "failed": 0, "dropped": 2, "retried": 0, "queued": 0}


def test_send_does_not_block_on_a_slow_receiver(
    server: ScriptedServer, make_sink: Callable[..., WebhookSink]
) -> None:
    server.script("/hook", Reply(delay_s=1.0))
    sink = make_sink(server.url("/hook"))
    started = time.monotonic()
    for n in range(20):
        sink.send(_alert(n))
    assert time.monotonic() - started < 0.2
    wait_for(lambda: server.hits("/hook") == 1)
    sink.close(timeout=0.1)
    assert sink.dropped == 19  # the one in flight finishes on its own


def test_close_flushes_what_is_queued(
    server: ScriptedServer, make_sink: Callable[..., WebhookSink]
) -> None:
    server.script("/hook", Reply(delay_s=0.05))
    sink = make_sink(server.url("/hook"))
    alerts = [_alert(n) for n in range(4)]
    for alert in alerts:
        sink.send(alert)
    sink.close(timeout=5)
    assert [json.loads(r.body)["id"] for r in server.requests] == [a.id for a in alerts]
    assert sink.sent == 4
    assert sink.stats()["queued"] == 0


def test_close_gives_up_after_its_timeout_and_counts_the_rest(
    server: ScriptedServer, make_sink: Callable[..., WebhookSink]
) -> None:
    server.script("/hook", Reply(delay_s=0.5))
    sink = make_sink(server.url("/hook"), timeout=2.0)
    for n in range(5):
        sink.send(_alert(n))
    wait_for(lambda: server.hits("/hook") == 1)
    started = time.monotonic()
    sink.close(timeout=0.2)
    assert time.monotonic() - started < 0.5
    assert sink.dropped == 4  # the one in flight finishes on its own


def test_send_after_close_is_dropped_not_raised(make_sink: Callable[..., WebhookSink]) -> None:
    sink = make_sink("http://127.0.0.1:9/hook")
    sink.close()
    sink.send(_alert())
    sink.close()  # twice is fine
    assert sink.dropped == 1
    assert sink.stats()["queued"] == 0


def test_a_failing_on_result_hook_does_not_stop_the_sink(
    server: ScriptedServer, make_sink: Callable[..., WebhookSink]
) -> None:
    server.script("/hook", Reply())
    results: list[tuple[str, bool]] = []

    def hook(name: str, ok: bool) -> None:
        results.append((name, ok))
        raise RuntimeError("metrics backend down")

    sink = make_sink(server.url("/hook"), on_result=hook, name="pager")
    sink.send(_alert(0))
    sink.send(_alert(1))
    sink.close(timeout=5)
    assert results == [("pager", True), ("pager", True)]
    assert sink.sent == 2


# -- sinks_from_settings -----------------------------------------------------------------


def test_sinks_from_settings_always_has_the_log(tmp_path: object) -> None:
    sinks = sinks_from_settings(Settings(home=tmp_path))
    assert [type(s) for s in sinks] == [LogSink]


def test_sinks_from_settings_adds_the_webhook_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("NEXUS_ALERT_WEBHOOK_URL", "https://hooks.example.com/nexus?token=t0k")
    monkeypatch.setenv("NEXUS_ALERT_WEBHOOK_TIMEOUT", "1.5")
    monkeypatch.setenv("NEXUS_ALERT_WEBHOOK_RETRIES", "7")
    settings = Settings(home=tmp_path)
    assert "t0k" not in repr(settings)
    log, webhook = sinks_from_settings(settings)
    assert isinstance(log, LogSink)
    assert isinstance(webhook, WebhookSink)
    assert (webhook.url, webhook.timeout, webhook.retries) == (
        "https://hooks.example.com/nexus?token=t0k",
        1.5,
        7,
    )
    webhook.close()


def test_settings_refuse_a_webhook_url_that_is_not_http(tmp_path: object) -> None:
    with pytest.raises(ValueError, match="NEXUS_ALERT_WEBHOOK_URL 'mailto:ops@x' is not"):
        Settings(home=tmp_path, alert_webhook_url="mailto:ops@x")
