"""Drift monitoring: data and concept drift, alerts and their sinks, rollback, metrics.

Every model version carries a drift reference (``reference.json``): its
features' training quantiles and its out-of-sample confidence, accuracy and
macro-F1. :class:`DriftMonitor` scores the live window of each champion
against it on every new bar (PSI and KS per feature; mean calibrated
confidence; realised accuracy and macro-F1 once labels resolve), raises alarms
with hysteresis and persistence, rolls back on severe persistent drift
through the registry, and sends alerts to the bus, the store and the sinks
(:class:`LogSink`, :class:`WebhookSink`). See ``docs/monitoring.md``.

>>> from nexus.monitoring import DriftMonitor, MonitorConfig
"""

from nexus.monitoring._alarm import Alarm
from nexus.monitoring._config import MonitorConfig
from nexus.monitoring._metrics import MonitorMetrics
from nexus.monitoring._monitor import DriftMonitor
from nexus.monitoring._notify import Notifier, alerts_rows
from nexus.monitoring._reference import (
    REFERENCE_FILE,
    ConceptReference,
    DriftReference,
    FeatureReference,
    build_reference,
    concept_reference,
    feature_references,
    read_reference,
)
from nexus.monitoring._sinks import AlertSink, LogSink, WebhookSink, sinks_from_settings
from nexus.monitoring._stats import ks_statistic, psi
from nexus.monitoring._watch import STATUS_LEVELS, FeatureDrift, SlotCheck, Watch

__all__ = [
    "REFERENCE_FILE",
    "STATUS_LEVELS",
    "Alarm",
    "AlertSink",
    "ConceptReference",
    "DriftMonitor",
    "DriftReference",
    "FeatureDrift",
    "FeatureReference",
    "LogSink",
    "MonitorConfig",
    "MonitorMetrics",
    "Notifier",
    "SlotCheck",
    "Watch",
    "WebhookSink",
    "alerts_rows",
    "build_reference",
    "concept_reference",
    "feature_references",
    "ks_statistic",
    "psi",
    "read_reference",
    "sinks_from_settings",
]
