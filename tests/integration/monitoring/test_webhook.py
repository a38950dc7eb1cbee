"""The webhook sink against a real loopback HTTP server that fails, times out, then recovers."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from nexus import __version__
from nexus.bus import AlertRaised
from nexus.monitoring._sinks import WebhookSink
from tests._alert_sinks import sink_factory, wait_for
from tests._http_server import Reply, ScriptedServer, scripted_server

PATH = "/alerts"


def _alert(n: int = 0) -> AlertRaised:
    return AlertRaised(
        level="critical",
        source="monitor",
        message=f"PSI 0.31 on rsi_14 for 5 checks (#{n})",
        at=datetime(2026, 3, 2, 14, 30, tzinfo=UTC),
        details={"feature": "rsi_14", "psi": 0.31, "checks": 5},
        kind="data_drift",
        slot="lstm",
    )


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as running:
        yield running


@pytest.fixture
def make_sink() -> Iterator[Callable[..., WebhookSink]]:
    """WebhookSinks with small timeouts and backoff, closed after the test."""
    with sink_factory(close_timeout=2.0, timeout=0.3, backoff=0.02, max_backoff=2.0) as make:
        yield make


def _settled(sink: WebhookSink, n: int = 1) -> Callable[[], bool]:
    """True once ``n`` alerts have been delivered or given up."""
    return lambda: sink.sent + sink.failed >= n


def test_server_errors_are_retried_and_the_alert_arrives_once(
    server: ScriptedServer, make_sink: Callable[..., WebhookSink]
) -> None:
    server.script(PATH, Reply(status=500), Reply(status=500), Reply(status=200))
    results: list[tuple[str, bool]] = []
    sink = make_sink(server.url(PATH), on_result=lambda name, ok: results.append((name, ok)))
    alert = _alert()
    sink.send(alert)
    wait_for(_settled(sink))

    assert sink.stats() == {"sent": 1, "failed": 0, "dropped": 0, "retried": 2, "queued": 0}
    assert results == [("webhook", True)]
    assert len(server.requests) == 3  # two failures, one delivery
    for request in server.requests:
        assert request.method == "POST"
        assert json.loads(request.body) == alert.to_dict()
        assert request.headers["idempotency-key"] == alert.id
        assert request.headers["content-type"] == "application/json"
        assert request.headers["user-agent"] == f"nexus/{__version__}"


def test_timeouts_are_retried_until_the_server_recovers(
    server: ScriptedServer, make_sink: Callable[..., WebhookSink]
) -> None:
    server.script(PATH, Reply(delay_s=1.0), Reply(delay_s=1.0), Reply(status=204))
    sink = make_sink(server.url(PATH), timeout=0.3)
    alert = _alert()
    started = time.monotonic()
    sink.send(alert)
    wait_for(_settled(sink))

    assert (sink.sent, sink.failed, sink.retried) == (1, 0, 2)
    assert server.hits(PATH) == 3
    assert json.loads(server.requests[-1].body)["id"] == alert.id
    assert time.monotonic() - started < 1.9  # two 0.3 s timeouts, not two 1 s waits


def test_a_failed_alert_is_logged_and_the_sink_keeps_working(
    server: ScriptedServer,
    make_sink: Callable[..., WebhookSink],
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.script(PATH, Reply(b"upstream down", status=503))
    results: list[bool] = []
    sink = make_sink(server.url(PATH), retries=2, on_result=lambda _, ok: results.append(ok))
    lost = _alert(1)
    with caplog.at_level(logging.ERROR, logger="nexus.monitoring"):
        sink.send(lost)
        wait_for(_settled(sink))

    assert (sink.sent, sink.failed, sink.retried) == (0, 1, 2)
    assert server.hits(PATH) == 3
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    message = record.getMessage()
    assert server.url(PATH) in message
    assert lost.id in message
    assert "after 3 attempt(s)" in message
    assert "HTTP 503: upstream down" in message

    server.script(PATH, Reply(status=200))  # the receiver recovers
    later = _alert(2)
    sink.send(later)
    wait_for(_settled(sink, 2))
    assert (sink.sent, sink.failed) == (1, 1)
    assert json.loads(server.requests[-1].body)["id"] == later.id
    assert results == [False, True]


def test_a_client_error_is_not_retried(
    server: ScriptedServer,
    make_sink: Callable[..., WebhookSink],
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.script(PATH, Reply(b'{"error": "bad token"}', status=400), Reply(status=200))
    sink = make_sink(server.url(PATH))
    with caplog.at_level(logging.ERROR, logger="nexus.monitoring"):
        sink.send(_alert())
        wait_for(_settled(sink))

    assert (sink.sent, sink.failed, sink.retried) == (0, 1, 0)
    assert server.hits(PATH) == 1
    assert "HTTP 400" in caplog.text
    assert "not retried" in caplog.text


def test_too_many_requests_waits_what_retry_after_asks(
    server: ScriptedServer, make_sink: Callable[..., WebhookSink]
) -> None:
    server.script(PATH, Reply(status=429, headers={"Retry-After": "1"}), Reply(status=200))
    sink = make_sink(server.url(PATH))
    sink.send(_alert())
    wait_for(_settled(sink))

    assert (sink.sent, sink.retried) == (1, 1)
    first, second = server.requests
    assert 0.95 <= second.at - first.at < 1.5


def test_retry_after_is_capped_at_max_backoff(
    server: ScriptedServer, make_sink: Callable[..., WebhookSink]
) -> None:
    server.script(PATH, Reply(status=503, headers={"Retry-After": "3600"}), Reply(status=200))
    sink = make_sink(server.url(PATH), max_backoff=0.2)
    sink.send(_alert())
    wait_for(_settled(sink))

    assert sink.sent == 1
    first, second = server.requests
    assert 0.15 <= second.at - first.at < 0.6


def test_connection_refused_is_retried_then_failed_without_raising(
    make_sink: Callable[..., WebhookSink], caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = make_sink(f"http://127.0.0.1:{port}/alerts", retries=2)
    alert = _alert()
    with caplog.at_level(logging.ERROR, logger="nexus.monitoring"):
        sink.send(alert)  # no exception here, nor later on the worker
        wait_for(_settled(sink))

    assert (sink.sent, sink.failed, sink.retried) == (0, 1, 2)
    assert alert.id in caplog.text
    assert "could not connect" in caplog.text
