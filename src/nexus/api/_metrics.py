"""Prometheus metrics of the API: WebSocket clients and messages, HTTP latency.

Everything is registered in one :class:`~prometheus_client.CollectorRegistry`
that the app is given (so the live engine's metrics can share it) or makes;
never the process-global default registry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ApiMetrics", "TimingMiddleware"]

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _HubCollector(Collector):
    """Reads the hub's counters at scrape time, so they are never counted twice."""

    def __init__(self, stats: Callable[[], Mapping[str, int]]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        stats = self._stats()
        yield GaugeMetricFamily(
            "nexus_ws_clients", "WebSocket clients connected to /ws/stream.", stats["clients"]
        )
        yield CounterMetricFamily(
            "nexus_ws_messages_sent",
            "Messages sent to WebSocket clients.",
            stats["sent"],
        )
        yield CounterMetricFamily(
            "nexus_ws_messages_dropped",
            "Messages dropped (oldest first) because a WebSocket client fell behind.",
            stats["dropped"],
        )


class ApiMetrics:
    """The API's metrics in ``registry``.

    Parameters
    ----------
    registry : CollectorRegistry
        Where the metrics are registered.
    hub_stats : callable
        Returns the stream hub's ``clients``, ``sent`` and ``dropped`` counts.
    """

    def __init__(
        self, registry: CollectorRegistry, hub_stats: Callable[[], Mapping[str, int]]
    ) -> None:
        self.registry = registry
        registry.register(_HubCollector(hub_stats))
        self.http_latency = Histogram(
            "nexus_http_request_duration_seconds",
            "HTTP request latency by method, route template and status.",
            ("method", "route", "status"),
            registry=registry,
            buckets=_BUCKETS,
        )


class TimingMiddleware:
    """ASGI middleware that observes every HTTP request in ``metrics.http_latency``.

    The route label is the matched route's template (``/api/bars/{symbol}``),
    or ``unmatched``, so the label set stays small.
    """

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or _mounted(scope["path"])
            self.metrics.http_latency.labels(scope["method"], route, str(status)).observe(
                time.perf_counter() - start
            )


def _mounted(path: str) -> str:
    """The label of a request no route template names: its mount, or ``unmatched``."""
    return "/static" if path.startswith("/static/") else "unmatched"
