"""Bad input through the real CLI: one readable line, non-zero exit, the store as it was."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from .conftest import Nexus, Result


def assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.code != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("nexus: error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def snapshot(nexus: Nexus) -> dict:
    status = nexus("data", "status", "--json").json()
    return {
        "series": status["series"],
        "quarantine": status["quarantine"],
        "actions": status["corporate_actions"],
    }


@pytest.fixture
def seeded(nexus: Nexus) -> dict:
    """A store that already holds a little simulated data."""
    assert nexus("ingest", "sim", "--symbols", "2", "--sessions", "2", "--json").code == 0
    return snapshot(nexus)


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("Date,Open,High,Low,Close,Volume\n" + "\n".join(rows) + "\n")
    return path


GOOD_ROWS = [
    "2025-01-02,10,11,9,10.5,1000",
    "2025-01-03,10.5,11.5,10,11,1200",
    "2025-01-06,11,12,10.5,11.5,900",
]


def test_missing_file(nexus: Nexus, seeded: dict, tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    assert_one_line_error(nexus("ingest", "files", str(missing)), str(missing))
    assert snapshot(nexus) == seeded


def test_unreadable_zip(nexus: Nexus, seeded: dict, tmp_path: Path) -> None:
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    assert_one_line_error(nexus("ingest", "files", str(archive)), "broken.zip")
    assert snapshot(nexus) == seeded


def test_checksum_mismatch(nexus: Nexus, seeded: dict, tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "acme.csv", GOOD_ROWS)
    archive = tmp_path / "acme.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(csv, "acme.csv")
    wrong = hashlib.sha256(b"something else").hexdigest()
    assert_one_line_error(
        nexus("ingest", "files", str(archive), "--sha256", wrong), "acme.zip", wrong[:12]
    )
    assert snapshot(nexus) == seeded


def test_csv_with_no_usable_rows(nexus: Nexus, seeded: dict, tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "bad.csv", ["2025-01-02,-1,-1,-1,-1,5", "2025-01-03,0,0,0,0,5"])
    assert_one_line_error(nexus("ingest", "files", str(csv)), "bad", "none of its 2 rows")
    assert snapshot(nexus) == seeded


def test_unknown_sample_symbol(nexus: Nexus, seeded: dict) -> None:
    assert_one_line_error(nexus("ingest", "samples", "NOPE"), "NOPE", "GOOG")
    assert snapshot(nexus) == seeded


def test_unknown_symbol_on_export(nexus: Nexus, seeded: dict, tmp_path: Path) -> None:
    result = nexus(
        "data", "export", "--interval", "1m", "--symbols", "NOPE", "--out", str(tmp_path / "x")
    )
    assert_one_line_error(result, "NOPE", "SIM00")
    assert snapshot(nexus) == seeded


@pytest.mark.parametrize(
    "args",
    [
        ("ingest", "sim", "--interval", "7m"),
        ("data", "export", "--interval", "7m"),
        ("ingest", "files", "x.csv", "--interval", "7m"),
    ],
)
def test_unknown_interval(nexus: Nexus, seeded: dict, args: tuple[str, ...]) -> None:
    assert_one_line_error(nexus(*args), "'7m'", "1m, 5m")
    assert snapshot(nexus) == seeded


def test_bad_date_option(nexus: Nexus, seeded: dict) -> None:
    assert_one_line_error(nexus("ingest", "sim", "--start", "02/01/2025"), "02/01/2025")
    assert snapshot(nexus) == seeded


def test_csv_with_some_bad_rows_stores_the_good_ones(nexus: Nexus, tmp_path: Path) -> None:
    csv = write_csv(
        tmp_path / "acme.csv",
        [
            *GOOD_ROWS,
            "2025-01-07,12,11,13,12,100",
            "2025-01-08,12,13,11,12,-5",
            "not-a-date,1,1,1,1,1",
        ],
    )
    result = nexus("ingest", "files", str(csv), "--symbol", "ACME")
    assert result.code == 0, result.stderr
    assert "3 new bars stored" in result.stdout
    assert "3 rows quarantined" in result.stdout
    report = nexus("ingest", "files", str(csv), "--symbol", "ACME", "--json").json()
    assert report["totals"]["already_stored"] == 3
    quarantine = nexus("data", "quarantine", "--json").json()
    assert sorted(q["reason"] for q in quarantine) == [
        "bad_timestamp",
        "negative_volume",
        "ohlc_inconsistent",
    ]
    assert len(quarantine) == 3  # the repeat recorded nothing twice
