"""Bad parameters, bad data and misuse raise one readable Nexus error."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from nexus.datasets import Dataset
from nexus.errors import ConfigError, DataError, NotFittedError
from nexus.models import (
    LightGBMModel,
    LogisticModel,
    LSTMModel,
    TransformerModel,
    load_model,
    make_model,
)
from tests.unit.models.conftest import TINY_MODELS, clone, make_dataset

BAD_PARAMS = [
    (LSTMModel, "hidden_size", 0),
    (LSTMModel, "dropout", 1.0),
    (LSTMModel, "learning_rate", "fast"),
    (LSTMModel, "loss", "hinge"),
    (LSTMModel, "grad_clip", -1.0),
    (TransformerModel, "positional", "rotary"),
    (TransformerModel, "pooling", "max"),
    (TransformerModel, "n_threads", 0),
    (LightGBMModel, "num_leaves", 1),
    (LightGBMModel, "n_threads", True),
    (LightGBMModel, "early_stopping_rounds", 0),
    (LogisticModel, "C", -1.0),
    (LogisticModel, "class_weight", "auto"),
    (LogisticModel, "calibration", "platt"),
]


@pytest.mark.parametrize(("cls", "param", "value"), BAD_PARAMS)
def test_bad_parameter_is_stored_then_rejected_by_fit(
    cls: type, param: str, value: object, splits: tuple[Dataset, Dataset, Dataset]
) -> None:
    model = cls(**{param: value})  # __init__ never validates
    assert getattr(model, param) is value
    train, valid, _ = splits
    with pytest.raises(ConfigError, match=f"{model.name} parameter {param}=") as info:
        model.fit(train, valid)
    assert info.value.fix is not None
    assert f"set {param}" in info.value.fix
    assert not hasattr(model, "calibrator_")


def test_transformer_heads_must_divide_width(splits: tuple[Dataset, Dataset, Dataset]) -> None:
    with pytest.raises(ConfigError, match="d_model=30 is not divisible by n_heads=4"):
        TransformerModel(d_model=30, n_heads=4).fit(*splits[:2])


def test_unknown_names_suggest_the_closest() -> None:
    with pytest.raises(ConfigError, match="did you mean 'hidden_size'"):
        LSTMModel().set_params(hiden_size=3)
    with pytest.raises(ConfigError, match="model 'lgbm' is unknown"):
        make_model("lgbm")
    with pytest.raises(ConfigError, match="did you mean 'num_leaves'"):
        make_model("lightgbm", num_leafs=3)
    assert make_model("lstm", hidden_size=3).get_params()["hidden_size"] == 3


def _replace(data: Dataset, **changes: object) -> Dataset:
    return dataclasses.replace(data, **changes)


def test_bad_training_data_is_named(splits: tuple[Dataset, Dataset, Dataset]) -> None:
    train, valid, _ = splits
    model = clone(TINY_MODELS["logistic"])
    only_up = train.take(train.y == 2)
    with pytest.raises(DataError, match="train holds only UP samples; at least two classes"):
        model.fit(only_up, valid)
    X = train.X.copy()
    X[3, 2, 1] = np.nan
    with pytest.raises(DataError, match=r"train\.X has 1 NaN or infinite values"):
        model.fit(_replace(train, X=X), valid)
    with pytest.raises(DataError, match=r"valid\.y holds values other than 0, 1, 2"):
        model.fit(train, _replace(valid, y=valid.y + 1))
    with pytest.raises(DataError, match=r"train\.weight must be finite, non-negative"):
        model.fit(_replace(train, weight=-train.weight), valid)
    with pytest.raises(DataError, match="valid has no samples"):
        model.fit(train, valid.take(np.zeros(len(valid), dtype=bool)))
    with pytest.raises(DataError, match=r"must be a nexus\.datasets\.Dataset, got tuple"):
        model.fit((train.X, train.y), valid)  # type: ignore[arg-type]
    shorter = make_dataset(100, seed=1, lookback=8)
    with pytest.raises(DataError, match="disagree"):
        model.fit(train, shorter)


def test_bad_prediction_input_is_named(splits: tuple[Dataset, Dataset, Dataset]) -> None:
    train, valid, test = splits
    model = clone(TINY_MODELS["lightgbm"]).fit(train, valid)
    with pytest.raises(DataError, match=r"X has shape \(200, 6\); the model was fitted on"):
        model.predict_proba(test.tabular)
    with pytest.raises(DataError, match=r"\(n, 16, 6\)"):
        model.predict_proba(test.X[:, :8])
    X = test.X.copy()
    X[0, -1, 0] = np.inf
    with pytest.raises(DataError, match="X has 1 NaN or infinite"):
        model.predict_proba(X)


def test_unfitted_use_says_what_to_do() -> None:
    with pytest.raises(NotFittedError, match="unfitted LSTMModel; call fit") as info:
        LSTMModel().predict_proba(np.zeros((1, 2, 3), dtype=np.float32))
    assert isinstance(info.value, ValueError | AttributeError)


def test_save_never_overwrites_and_load_checks_kind(
    splits: tuple[Dataset, Dataset, Dataset], tmp_path: Path
) -> None:
    model = clone(TINY_MODELS["logistic"]).fit(*splits[:2])
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("x")
    with pytest.raises(ConfigError, match="exists and is not an empty directory"):
        model.save(busy)
    assert [p.name for p in busy.iterdir()] == ["keep.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    model.save(empty)  # an empty directory is fine
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy", "empty"]  # no temporaries left
    with pytest.raises(DataError, match="holds a 'logistic' model, not 'lstm'"):
        LSTMModel.load(empty)
    with pytest.raises(DataError, match="is not a saved Nexus model"):
        load_model(busy)
