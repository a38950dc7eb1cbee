"""``check_model``: the contract every model must meet, as one reusable check.

Like scikit-learn's ``check_estimator``: the tests run it on every model, and a
new model (PatchTST, the token LM) passes it before it is wired in.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from nexus.datasets import Dataset
from nexus.errors import NotFittedError
from nexus.models._base import ModelBase
from nexus.models._onnx import INPUT, OUTPUT
from nexus.models._protocol import Model
from nexus.models._registry import load_model

__all__ = ["check_model", "onnx_predict"]


class _Failed(AssertionError):
    pass


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise _Failed(message)


def check_model(
    model: ModelBase,
    train: Dataset,
    valid: Dataset,
    X: np.ndarray,
    folder: Path,
    *,
    onnx_atol: float = 1e-5,
) -> ModelBase:
    """Check the model contract; return a model fitted on ``train``.

    Checks, in order: ``__init__`` stores its keyword parameters unchanged and
    every parameter has a constraint; ``predict_proba``, ``save`` and
    ``export_onnx`` raise :class:`NotFittedError` before ``fit``; ``fit``
    returns ``self``, adds only attributes ending in ``_`` and leaves the
    parameters alone; probabilities have shape (n, 3), lie in [0, 1] and rows
    sum to 1; a second model with the same parameters, and a second ``fit`` of
    the same model, give identical probabilities; ``save`` then ``load`` (and
    ``load_model``) give identical probabilities; the ONNX export, run by ONNX
    Runtime for batches of 1, 20 and all of ``X``, matches ``predict_proba``
    within ``onnx_atol``.

    Parameters
    ----------
    model : ModelBase
        An unfitted model with the parameters to check (small, for speed).
    train : Dataset
        Training split (small, with a learnable signal).
    valid : Dataset
        Validation split.
    X : ndarray, shape (n, L, F)
        Windows to predict, n >= 20.
    folder : Path
        An empty scratch directory.
    onnx_atol : float
        Largest allowed absolute difference between ONNX Runtime and ``predict_proba``.

    Raises
    ------
    AssertionError
        Naming the first broken rule.
    """
    _check_params(model)
    _check_unfitted(_clone(model), folder)
    fitted = _check_fit(_clone(model), train, valid)
    proba = fitted.predict_proba(X)
    _check_proba(proba, len(X))
    again = _clone(model).fit(train, valid).predict_proba(X)
    _expect(np.array_equal(again, proba), "two fits with the same seed differ")
    refit = fitted.fit(train, valid).predict_proba(X)
    _expect(np.array_equal(refit, proba), "a second fit did not start from scratch")
    _check_save_load(fitted, X, proba, folder / "saved")
    _check_onnx(fitted, X, proba, folder / "model.onnx", onnx_atol)
    return fitted


def _clone(model: ModelBase) -> ModelBase:
    return type(model)(**model.get_params())


def _check_params(model: ModelBase) -> None:
    _expect(isinstance(model, Model), f"{type(model).__name__} does not satisfy the Model protocol")
    signature = inspect.signature(type(model).__init__)
    for name, parameter in signature.parameters.items():
        if name == "self":
            continue
        _expect(parameter.kind is parameter.KEYWORD_ONLY, f"parameter {name} is not keyword-only")
        _expect(hasattr(model, name), f"__init__ does not store {name}")
    params = model.get_params()
    clone = _clone(model)
    for name, value in params.items():
        _expect(getattr(clone, name) is value, f"__init__ changed parameter {name}")
    constrained = set(type(model)._parameter_constraints)
    _expect(set(params) == constrained, f"params without constraint: {set(params) ^ constrained}")
    _expect(not [k for k in vars(model) if k.endswith("_")], "__init__ set learned attributes")


def _check_unfitted(model: ModelBase, folder: Path) -> None:
    calls = {
        "predict_proba": lambda: model.predict_proba(np.zeros((1, 1, 1), dtype=np.float32)),
        "save": lambda: model.save(folder / "unfitted"),
        "export_onnx": lambda: model.export_onnx(folder / "unfitted.onnx"),
    }
    for name, call in calls.items():
        try:
            call()
        except NotFittedError:
            continue
        raise _Failed(f"{name} before fit did not raise NotFittedError")
    _expect(not (folder / "unfitted").exists(), "save before fit wrote files")


def _check_fit(model: ModelBase, train: Dataset, valid: Dataset) -> ModelBase:
    before = set(vars(model))
    params = dict(model.get_params())
    out = model.fit(train, valid)
    _expect(out is model, "fit did not return self")
    added = set(vars(model)) - before
    _expect(all(k.endswith("_") for k in added), f"fit set attributes without '_': {added}")
    _expect(model.get_params() == params, "fit changed the parameters")
    return model


def _check_proba(proba: np.ndarray, n: int) -> None:
    _expect(proba.shape == (n, 3), f"predict_proba shape {proba.shape}, expected ({n}, 3)")
    _expect(bool(np.isfinite(proba).all()), "predict_proba has non-finite values")
    _expect(bool(((proba >= 0) & (proba <= 1)).all()), "predict_proba outside [0, 1]")
    _expect(bool(np.allclose(proba.sum(axis=1), 1.0, atol=1e-6)), "rows do not sum to 1")


def _check_save_load(model: ModelBase, X: np.ndarray, proba: np.ndarray, path: Path) -> None:
    model.save(path)
    for loaded in (type(model).load(path), load_model(path)):
        _expect(type(loaded) is type(model), f"load gave a {type(loaded).__name__}")
        _expect(loaded.get_params() == model.get_params(), "load changed the parameters")
        _expect(np.array_equal(loaded.predict_proba(X), proba), "loaded model predicts otherwise")


def _check_onnx(
    model: ModelBase, X: np.ndarray, proba: np.ndarray, path: Path, atol: float
) -> None:
    model.export_onnx(path)
    for rows in (slice(0, 1), slice(0, 20), slice(None)):
        got = onnx_predict(path, X[rows])
        error = float(np.max(np.abs(got - proba[rows])))
        _expect(error <= atol, f"ONNX differs from predict_proba by {error:.2e} > {atol:.0e}")


def onnx_predict(path: Path, X: np.ndarray, **session_options: Any) -> np.ndarray:
    """Run an exported model with ONNX Runtime: probabilities (n, 3) of windows ``X`` (n, L, F).

    ``session_options`` set attributes of ``onnxruntime.SessionOptions``
    (e.g. ``intra_op_num_threads=1``).
    """
    options = ort.SessionOptions()
    for key, value in session_options.items():
        setattr(options, key, value)
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = ([i.name for i in session.get_inputs()], [o.name for o in session.get_outputs()])
    _expect(names == ([INPUT], [OUTPUT]), f"ONNX inputs/outputs are {names}")
    return session.run([OUTPUT], {INPUT: np.ascontiguousarray(X, dtype=np.float32)})[0]
