"""The data commands as a user runs them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from .conftest import Nexus


def test_sim_ingest_status_and_export(nexus: Nexus, tmp_path: Path) -> None:
    report = nexus(
        "ingest", "sim", "--symbols", "3", "--sessions", "3", "--resample", "5m,1d", "--json"
    )
    assert report.code == 0, report.stderr
    totals = report.json()["totals"]
    assert totals["stored"] == 3 * 3 * (390 + 78 + 1)
    assert totals["rejected"] == 0

    status = nexus("data", "status", "--json").json()
    assert {(s["interval"], s["n_bars"]) for s in status["series"]} == {
        ("1m", 1170),
        ("5m", 234),
        ("1d", 3),
    }
    assert {s["source"] for s in status["series"]} == {"simulator"}
    assert all(s["missing"] == 0 for s in status["series"])

    human = nexus("data", "status")
    assert "SIMULATED DATA" in human.stdout

    out = tmp_path / "export"
    exported = nexus(
        "data",
        "export",
        "--format",
        "parquet",
        "--interval",
        "1d",
        "--adjust",
        "all",
        "--out",
        str(out),
        "--json",
    )
    assert exported.code == 0, exported.stderr
    bars = pd.read_parquet(out / "bars_1d_all.parquet")
    assert len(bars) == 9
    assert sorted(bars["symbol"].unique()) == ["SIM00", "SIM01", "SIM02"]


def test_version_and_help(nexus: Nexus) -> None:
    assert nexus("version").stdout.strip() == "0.1.0"
    assert "ingest" in nexus("--help").stdout


def test_sim_config_file_with_command_line_override(nexus: Nexus) -> None:
    config = Path(__file__).parents[2] / "configs" / "simulator" / "default.yaml"
    result = nexus(
        "ingest", "sim", "--config", str(config), "--symbols", "2", "--sessions", "1", "--json"
    )
    assert result.code == 0, result.stderr
    assert result.json()["totals"]["stored"] == 2 * 390


def test_sim_config_file_errors_are_one_line(nexus: Nexus, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("alpha: 0.1\nbogus: 1\n")
    result = nexus("ingest", "sim", "--config", str(bad))
    assert result.code == 1
    assert (
        result.stderr.strip()
        == "nexus: error: invalid SimulatorConfig: bogus: Extra inputs are not permitted"
    )


def test_catalog_lists_each_file_with_its_checksum(nexus: Nexus, tmp_path: Path) -> None:
    csv = tmp_path / "acme.csv"
    csv.write_text("Date,Open,High,Low,Close,Volume\n2025-01-02,10,11,9,10.5,1000\n")
    assert nexus("ingest", "files", str(csv)).code == 0
    entries = nexus("data", "catalog", "--json").json()
    assert len(entries) == 1
    entry = entries[0]
    assert entry["source"] == "files"
    assert entry["path"] == str(csv)
    assert entry["sha256"] == hashlib.sha256(csv.read_bytes()).hexdigest()
    assert (entry["symbols"], entry["interval"], entry["rows"]) == (["ACME"], "1d", 1)
