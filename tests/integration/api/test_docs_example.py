"""The runnable example of ``docs/api.md`` runs and prints what it says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_client_example_in_the_docs_runs() -> None:
    text = (ROOT / "docs" / "api.md").read_text()
    found = re.search(r"<!-- runnable example -->\n```python\n(.*?)```", text, re.S)
    assert found, "docs/api.md lost its runnable example"
    run = subprocess.run(
        [sys.executable, "-W", "error", "-c", found.group(1)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "['SIM00', 'SIM01', 'SIM02']"
    assert "ok" in lines
    assert lines[-1].startswith("snapshot ")
