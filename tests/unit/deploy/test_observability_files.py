"""deploy/: the Prometheus config and rules parse, and every metric they and the Grafana
dashboard name is one Nexus exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry, generate_latest

from nexus.api._metrics import ApiMetrics
from nexus.ingest import IngestMetrics
from nexus.live import LiveMetrics
from nexus.monitoring import MonitorMetrics

DEPLOY = Path(__file__).parents[3] / "deploy"

_SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}
_NAME = re.compile(r"\bnexus_[a-z0-9_]+\b")


def _expand(name: str, kind: str) -> set[str]:
    return {name} | {name + s for s in _SUFFIXES.get(kind, ())}


@pytest.fixture(scope="module")
def exported_names() -> set[str]:
    """Every series name Nexus's metrics expose, read from the exposition text."""
    registry = CollectorRegistry()
    LiveMetrics(registry)
    IngestMetrics(registry)
    ApiMetrics(registry, lambda: {"clients": 0, "sent": 0, "dropped": 0})
    MonitorMetrics(registry)
    names: set[str] = set()
    for line in generate_latest(registry).decode().splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            names |= _expand(name, kind)
    return names


def _yaml(name: str) -> dict:
    return yaml.safe_load((DEPLOY / name).read_text())


def _rules() -> list[dict]:
    return [rule for group in _yaml("prometheus-rules.yml")["groups"] for rule in group["rules"]]


def _dashboard() -> dict:
    return json.loads((DEPLOY / "grafana" / "nexus-dashboard.json").read_text())


def _panels(dashboard: dict) -> list[dict]:
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def test_prometheus_scrapes_the_api_and_the_monitor_every_15s() -> None:
    config = _yaml("prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"nexus", "nexus-monitor"}
    assert config["global"]["scrape_interval"] == "15s"
    for job in jobs.values():
        assert job["metrics_path"] == "/metrics"
        assert job["scrape_interval"] == "15s"
    assert jobs["nexus"]["static_configs"][0]["targets"] == ["nexus:8000"]
    assert jobs["nexus-monitor"]["static_configs"][0]["targets"] == ["nexus-monitor:9101"]
    assert config["rule_files"] == ["prometheus-rules.yml"]


def test_rules_cover_lag_silence_drift_rollbacks_and_dropped_messages() -> None:
    rules = {rule["alert"]: rule for rule in _rules()}
    assert {
        "NexusIngestLagHigh",
        "NexusNoBarsProcessed",
        "NexusDataDrift",
        "NexusRollback",
        "NexusWebSocketDrops",
    } <= set(rules)
    assert "nexus_ingest_lag_seconds" in rules["NexusIngestLagHigh"]["expr"]
    assert "> 120" in rules["NexusIngestLagHigh"]["expr"]
    assert rules["NexusIngestLagHigh"]["for"] == "5m"
    assert "[10m]" in rules["NexusNoBarsProcessed"]["expr"]
    assert ">= 2" in rules["NexusDataDrift"]["expr"]
    assert "nexus_monitor_rollbacks_total" in rules["NexusRollback"]["expr"]
    assert "nexus_ws_messages_dropped_total" in rules["NexusWebSocketDrops"]["expr"]
    for rule in rules.values():
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]


def test_every_metric_the_rules_name_is_exported(exported_names: set[str]) -> None:
    used = {name for rule in _rules() for name in _NAME.findall(rule["expr"])}
    assert used
    assert used <= exported_names, sorted(used - exported_names)


def test_every_metric_the_dashboard_names_is_exported(exported_names: set[str]) -> None:
    exprs = [t["expr"] for p in _panels(_dashboard()) for t in p["targets"]]
    used = {name for expr in exprs for name in _NAME.findall(expr)}
    assert used <= exported_names, sorted(used - exported_names)
    assert {
        "nexus_ingest_lag_seconds",
        "nexus_ingest_bars_total",
        "nexus_live_bars_total",
        "nexus_live_stage_seconds_bucket",
        "nexus_http_request_duration_seconds_bucket",
        "nexus_ws_clients",
        "nexus_ws_messages_dropped_total",
        "nexus_drift_psi",
        "nexus_monitor_accuracy",
        "nexus_monitor_champion",
        "nexus_alerts_total",
        "nexus_monitor_rollbacks_total",
    } <= used


def test_dashboard_is_a_grafana_model_whose_panels_all_query_the_prometheus_input() -> None:
    dashboard = _dashboard()
    assert 36 <= dashboard["schemaVersion"] <= 41
    assert dashboard["uid"]
    assert dashboard["title"]
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    panels = _panels(dashboard)
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    for panel in panels:
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
            assert target["refId"], panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
    stage = next(p for p in panels if p["title"].startswith("Stage latency"))
    quantiles = {re.search(r"histogram_quantile\((0\.\d+)", t["expr"])[1] for t in stage["targets"]}
    assert quantiles == {"0.5", "0.95", "0.99"}
    assert all("by (le, stage)" in t["expr"] for t in stage["targets"])


def test_grafana_provisioning_points_at_the_dashboard_and_prometheus() -> None:
    datasources = _yaml("grafana/provisioning/datasources/prometheus.yml")["datasources"]
    assert datasources[0]["type"] == "prometheus"
    providers = _yaml("grafana/provisioning/dashboards/nexus.yml")["providers"]
    compose = _yaml("compose.observability.yml")
    grafana_mounts = compose["services"]["grafana"]["volumes"]
    path = providers[0]["options"]["path"]
    assert f"./grafana/nexus-dashboard.json:{path}/nexus-dashboard.json:ro" in grafana_mounts
    prometheus_mounts = compose["services"]["prometheus"]["volumes"]
    assert "./prometheus-rules.yml:/etc/prometheus/prometheus-rules.yml:ro" in prometheus_mounts
