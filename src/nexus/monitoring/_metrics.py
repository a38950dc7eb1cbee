"""Prometheus metrics of the drift monitor, on a registry passed in (never the global one)."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge

__all__ = ["MonitorMetrics"]


class MonitorMetrics:
    """Drift scores, realised quality, checks, rollbacks, alerts and the versions watched.

    Parameters
    ----------
    registry : CollectorRegistry, optional
        Where the metrics live; ``nexus up`` shares the API's, so ``/metrics`` shows them.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.psi = Gauge(
            "nexus_drift_psi", "PSI of each feature's live window against training",
            ["slot", "feature"], registry=r,
        )  # fmt: skip
        self.ks = Gauge(
            "nexus_drift_ks", "KS statistic of each feature's live window against training",
            ["slot", "feature"], registry=r,
        )  # fmt: skip
        self.share = Gauge(
            "nexus_drift_share", "Share of scored features drifting", ["slot"], registry=r
        )
        self.status = Gauge(
            "nexus_drift_status", "Drift status: 0 ok, 1 warning, 2 drift, 3 severe",
            ["slot"], registry=r,
        )  # fmt: skip
        self.confidence = Gauge(
            "nexus_monitor_confidence", "Mean calibrated confidence, live and reference",
            ["slot", "which"], registry=r,
        )  # fmt: skip
        self.accuracy = Gauge(
            "nexus_monitor_accuracy", "Realised accuracy, live and validation reference",
            ["slot", "which"], registry=r,
        )  # fmt: skip
        self.macro_f1 = Gauge(
            "nexus_monitor_macro_f1", "Realised macro-F1, live and validation reference",
            ["slot", "which"], registry=r,
        )  # fmt: skip
        self.checks = Counter(
            "nexus_monitor_checks", "Drift checks by slot and status", ["slot", "status"],
            registry=r,
        )  # fmt: skip
        self.rollbacks = Counter(
            "nexus_monitor_rollbacks", "Rollbacks made by the monitor", ["slot"], registry=r
        )
        self.errors = Counter(
            "nexus_monitor_errors", "Checks that failed (store unreachable, ...)", registry=r
        )
        self.alerts = Counter(
            "nexus_alerts", "Alerts raised, by level and kind", ["level", "kind"], registry=r
        )
        self.sink_failures = Counter(
            "nexus_alert_sink_failures", "Alerts a sink failed to deliver", ["sink"], registry=r
        )
        self.champion = Gauge(
            "nexus_monitor_champion", "1 for each champion version watched",
            ["slot", "version"], registry=r,
        )  # fmt: skip

    def watch(self, champions: Mapping[str, str]) -> None:
        """Mark ``slot -> version`` as the versions watched (and only those)."""
        self.champion.clear()
        for slot, version in champions.items():
            self.champion.labels(slot=slot, version=version).set(1)

    def observe(self, check) -> None:
        """Record one :class:`~nexus.monitoring.SlotCheck`."""
        slot = check.slot
        self.checks.labels(slot=slot, status=check.status).inc()
        if check.severity is None:
            return
        self.status.labels(slot=slot).set(check.severity)
        self.share.labels(slot=slot).set(check.drifted)
        for f in check.features:
            self.psi.labels(slot=slot, feature=f.name).set(f.psi)
            self.ks.labels(slot=slot, feature=f.name).set(f.ks)
        for gauge, live, ref in (
            (self.confidence, check.confidence, check.confidence_ref),
            (self.accuracy, check.accuracy, check.accuracy_ref),
            (self.macro_f1, check.macro_f1, check.macro_f1_ref),
        ):
            gauge.labels(slot=slot, which="live").set(live)
            gauge.labels(slot=slot, which="reference").set(ref)
