"""``nexus.api`` and ``nexus.client`` export sorted, complete ``__all__``; the client needs no
FastAPI."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from tests.unit.test_public_api import _isort_key


@pytest.mark.parametrize("name", ["nexus.api", "nexus.client"])
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported == sorted(exported, key=_isort_key)
    public = {
        n
        for n, v in vars(module).items()
        if not n.startswith("_") and not isinstance(v, type(importlib)) and n != "annotations"
    }
    assert public == set(exported)


def test_the_client_does_not_import_the_server() -> None:
    code = "import sys, nexus.client; print(sorted({'fastapi', 'uvicorn'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
