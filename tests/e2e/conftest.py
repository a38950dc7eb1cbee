"""Run the real ``nexus`` command in a subprocess, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


class Nexus:
    """Runs ``python -m nexus`` with its own NEXUS_HOME."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {**os.environ, "NEXUS_HOME": str(home), "COLUMNS": "200"}
        self.env.pop("NEXUS_STORE_URL", None)

    def __call__(self, *args: str, timeout: float = 300) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "nexus", *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "nexus", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
            stdin=subprocess.DEVNULL,
        )


@pytest.fixture
def nexus(tmp_path: Path) -> Nexus:
    return Nexus(tmp_path / "home")
