"""nexus.labels and nexus.datasets export a sorted __all__ that matches their public names."""

from __future__ import annotations

import importlib

import pytest

from tests.unit.test_public_api import _isort_key


@pytest.mark.parametrize("name", ["nexus.labels", "nexus.datasets"])
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__all__ == sorted(module.__all__, key=_isort_key)
    public = {
        n
        for n, v in vars(module).items()
        if not n.startswith("_") and not isinstance(v, type(importlib)) and n != "annotations"
    }
    assert public == set(module.__all__)
