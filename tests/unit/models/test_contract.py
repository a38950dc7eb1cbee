"""Every model meets the contract (``check_model``) and learns a planted signal."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

import nexus.models
from nexus.datasets import Dataset
from nexus.models import MODELS, Model, check_model
from nexus.models._calibration import weighted_log_loss
from tests.unit.models.conftest import TINY_MODELS, clone


@pytest.mark.parametrize("name", list(TINY_MODELS))
def test_contract_and_skill(
    name: str, splits: tuple[Dataset, Dataset, Dataset], tmp_path: Path
) -> None:
    train, valid, test = splits
    fitted = check_model(clone(TINY_MODELS[name]), train, valid, test.X, tmp_path)
    proba = fitted.predict_proba(test.X)
    accuracy = float(np.mean(proba.argmax(axis=1) == test.y))
    majority = float(np.bincount(test.y).max() / len(test))
    assert accuracy > majority + 0.15, (accuracy, majority)
    assert weighted_log_loss(proba, test.y) < np.log(3) - 0.1


@pytest.mark.parametrize("name", list(TINY_MODELS))
def test_a_class_absent_from_train_gets_probability_zero(
    name: str, splits: tuple[Dataset, Dataset, Dataset], tmp_path: Path
) -> None:
    """Fixed-horizon labels with threshold 0 never give NEUTRAL; the models still fit."""
    train, valid, test = splits
    no_neutral = train.take(train.y != 1)
    fitted = check_model(clone(TINY_MODELS[name]), no_neutral, valid, test.X, tmp_path)
    proba = fitted.predict_proba(test.X)
    assert proba[:, 1].max() < 1e-12
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert fitted.class_offset_[1] == -1e4


@pytest.mark.parametrize("cls", list(MODELS.values()))
def test_every_model_satisfies_the_protocol(cls: type) -> None:
    model = cls()
    assert isinstance(model, Model)
    assert MODELS[model.name] is cls
    assert model.params == model.get_params()


def test_registry_covers_the_tiny_models() -> None:
    assert set(TINY_MODELS) == set(MODELS)


def test_all_is_sorted_and_complete() -> None:
    module = importlib.import_module("nexus.models")
    exported = nexus.models.__all__
    assert exported == sorted(exported, key=_isort_key)
    public = {
        n
        for n, v in vars(module).items()
        if not n.startswith("_") and not isinstance(v, type(importlib)) and n != "annotations"
    }
    assert public == set(exported)


def _isort_key(name: str) -> tuple[int, str]:
    bare = name.strip("_")
    if bare.isupper():
        return (0, name)
    return (1, name) if bare[:1].isupper() else (2, name)
