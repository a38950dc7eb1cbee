"""An ingest killed midway and run again ends with exactly the rows of one clean run."""

from __future__ import annotations

import signal
from pathlib import Path

import pandas as pd

from nexus.store import DuckDBStore

from .conftest import Nexus

ARGS = ("ingest", "sim", "--symbols", "8", "--sessions", "40", "--resample", "5m,1d")


def contents(home: Path) -> dict[str, pd.DataFrame]:
    """Everything an ingest writes, without the columns that record when it was written."""
    with DuckDBStore(home / "nexus.duckdb") as store:
        symbols = sorted(store.series()["symbol"].unique())
        bars = pd.concat(
            [store.read_bars(symbols, i) for i in ("1m", "5m", "1d")], ignore_index=True
        )
        quarantine = store.read_quarantine().drop(columns=["run_id", "ingested_at"])
        return {
            "bars": bars,
            "series": store.series(),
            "quarantine": quarantine.sort_values("key").reset_index(drop=True),
            "actions": store.read_corporate_actions(),
            "news": store.read_news(),
            "symbols": store.symbols(),
        }


def test_kill_and_resume_equals_one_clean_run(tmp_path: Path) -> None:
    clean = Nexus(tmp_path / "clean")
    first = clean(*ARGS, "--json")
    assert first.code == 0, first.stderr
    clean_total = first.json()["totals"]["stored"]

    resumed = Nexus(tmp_path / "resumed")
    seen = []
    with resumed.popen(*ARGS) as proc:
        for line in proc.stderr:  # one log line per stored batch (stderr is not a terminal)
            seen.append(line)
            if line.startswith("[2/8]"):
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "".join(seen)
    partial = contents(resumed.home)
    assert 0 < partial["series"]["symbol"].nunique() < 8  # really killed midway

    again = resumed(*ARGS, "--json")
    assert again.code == 0, again.stderr
    # it resumed after the last stored bar of each symbol instead of starting over
    assert again.json()["totals"]["stored"] == clean_total - len(partial["bars"])

    expected, actual = contents(clean.home), contents(resumed.home)
    for name in expected:
        pd.testing.assert_frame_equal(actual[name], expected[name], obj=name)
