"""Prometheus metrics of the live engine, on a registry passed in (never the global one)."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["LiveMetrics"]

_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class LiveMetrics:
    """Stage latencies, bars and recommendations counted, and the champions served.

    Parameters
    ----------
    registry : CollectorRegistry, optional
        Where the metrics live; the API's ``/metrics`` exposes the same registry.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.stage_seconds = Histogram(
            "nexus_live_stage_seconds",
            "Seconds per bar time spent in each live stage",
            ["stage"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.bars = Counter("nexus_live_bars", "Bars processed by the live engine", registry=r)
        self.bar_times = Counter(
            "nexus_live_bar_times", "Bar times processed by the live engine", registry=r
        )
        self.recommendations = Counter(
            "nexus_live_recommendations",
            "Recommendations made, by action",
            ["action"],
            registry=r,
        )
        self.vetoes = Counter(
            "nexus_live_vetoes", "BUY/SELL turned HOLD by the risk gate", registry=r
        )
        self.rewarms = Counter(
            "nexus_live_rewarms", "Rebuilds of the in-memory windows from the store", registry=r
        )
        self.champion = Gauge(
            "nexus_live_champion", "1 for each champion version served", ["slot", "version"],
            registry=r,
        )  # fmt: skip
        self.last_bar = Gauge(
            "nexus_live_last_bar_timestamp_seconds", "Open time of the newest bar processed",
            registry=r,
        )  # fmt: skip

    def observe(self, timings: Mapping[str, float]) -> None:
        """Record one bar time's stage timings (seconds)."""
        for stage, seconds in timings.items():
            self.stage_seconds.labels(stage=stage).observe(seconds)

    def serve(self, champions: Mapping[str, str]) -> None:
        """Mark ``slot -> version`` as the champions served (and only those)."""
        self.champion.clear()
        for slot, version in champions.items():
            self.champion.labels(slot=slot, version=version).set(1)
