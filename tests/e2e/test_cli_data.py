"""The data commands as a user runs them."""

from __future__ import annotations

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
