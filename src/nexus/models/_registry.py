"""Models by name: build one from a config, load any saved one."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from nexus.errors import ConfigError, DataError
from nexus.models._base import ModelBase, read_metadata
from nexus.models._lightgbm import LightGBMModel
from nexus.models._logistic import LogisticModel
from nexus.models._lstm import LSTMModel
from nexus.models._params import check_param_names
from nexus.models._transformer import TransformerModel

__all__ = ["MODELS", "load_model", "make_model"]

MODELS: dict[str, type[ModelBase]] = {
    cls.name: cls for cls in (LightGBMModel, LogisticModel, LSTMModel, TransformerModel)
}
"""Model name (``Model.name``, the ``model`` key of configs) -> class."""


def make_model(name: str, **params: Any) -> ModelBase:
    """A new model by name with hyper-parameters (validated when it is fitted).

    Raises
    ------
    ConfigError
        For an unknown model name or parameter name, with the closest match.

    Examples
    --------
    >>> make_model("lightgbm", num_leaves=15)
    LightGBMModel(num_leaves=15)
    >>> make_model("lstn")
    Traceback (most recent call last):
    ...
    nexus.errors.ConfigError: model 'lstn' is unknown; did you mean 'lstm'?
    """
    if name not in MODELS:
        close = difflib.get_close_matches(name, list(MODELS), n=1)
        hint = f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(sorted(MODELS))
        raise ConfigError(f"model {name!r} is unknown", fix=hint)
    cls = MODELS[name]
    check_param_names(name, list(params), cls._param_names())
    return cls(**params)


def load_model(path: Path) -> ModelBase:
    """Load any saved model, choosing the class from its ``model.json``.

    Raises
    ------
    DataError
        If ``path`` holds no saved model or one of an unknown kind.
    """
    name = read_metadata(path).get("model")
    if name not in MODELS:
        raise DataError(
            f"{path} holds a model of unknown kind {name!r}",
            fix="upgrade Nexus to the version that saved it",
        )
    return MODELS[name].load(path)
