"""Helpers of the alert sink tests: waiting on a condition, and webhook sinks closed after use."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from nexus.monitoring import WebhookSink


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.01)


@contextmanager
def sink_factory(*, close_timeout: float = 2.0, **defaults: object) -> Iterator[Callable]:
    """``make(url, **options)`` builds WebhookSinks (``defaults`` first); all closed at the end."""
    sinks: list[WebhookSink] = []

    def make(url: str, **options: object) -> WebhookSink:
        sink = WebhookSink(url, **{**defaults, **options})
        sinks.append(sink)
        return sink

    try:
        yield make
    finally:
        for sink in sinks:
            sink.close(timeout=close_timeout)
