"""``nexus ingest sim --live``: bars stream in as they close, and a restart resumes."""

from __future__ import annotations

import signal
import time

from nexus.store import DuckDBStore

from .conftest import Nexus

BASE = ("ingest", "sim", "--symbols", "3", "--sessions", "2", "--live")


def minute_bars(nexus: Nexus) -> list:
    with DuckDBStore(nexus.home / "nexus.duckdb") as store:
        return store.read_bars(["SIM00"], "1m")["ts"].tolist()


def test_live_bars_continue_history_and_resume(nexus: Nexus) -> None:
    first = nexus(*BASE, "--speed", "100000", "--max-bars", "3")
    assert first.code == 0, first.stderr
    assert first.stderr.count(" 1m: SIM00 ") == 3  # one line per streamed bar time
    ts = minute_bars(nexus)
    assert len(ts) == 2 * 390 + 3

    second = nexus(*BASE, "--speed", "100000", "--max-bars", "2")
    assert second.code == 0, second.stderr
    ts2 = minute_bars(nexus)
    assert ts2[: len(ts)] == ts
    assert len(ts2) == len(ts) + 2
    step = {(b - a).total_seconds() for a, b in zip(ts2[-5:], ts2[-4:], strict=False)}
    assert step == {60.0}  # resumed right after the last stored bar, no gap, no repeat


def test_ctrl_c_stops_cleanly(nexus: Nexus) -> None:
    with nexus.popen(*BASE, "--speed", "60") as proc:
        for line in proc.stderr:
            if " 1m: SIM00 " in line:  # the first live bar was stored and published
                break
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert len(minute_bars(nexus)) > 2 * 390
    assert nexus("data", "status", "--json").code == 0  # the store opens: released and consistent
