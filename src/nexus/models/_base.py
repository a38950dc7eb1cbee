"""The skeleton every model shares: parameters, the fit flow, calibration, save/load and ONNX.

A concrete model sets ``name`` and ``_parameter_constraints``, stores its
keyword hyper-parameters in ``__init__`` (one of them ``calibration``) and
implements five hooks:

- ``_fit(train, valid, on_epoch)`` learns the logits model (state ending in ``_``);
- ``_logits(X)`` maps checked float32 windows (n, L, F) to logits (n, 3);
- ``_save_state(folder) -> dict`` and ``_load_state(folder, state)`` persist it;
- ``_onnx_logits() -> ModelProto`` builds the ONNX graph from ``x`` to ``logits``.

Everything else (validation, the class-prior correction, calibration on
``valid``, the saved layout, the calibrated ONNX graph) happens here, once.

Class weighting (``class_weight="balanced"``) makes a model learn probabilities
proportional to ``c_k p_k``: its logits are shifted by ``log c_k``. The shift is
known exactly from the training class masses, so :meth:`ModelBase.fit` takes it
out again (``class_offset_ = -log c``) before calibration, and a class that
never occurs in ``train`` gets a logit offset of ``-1e4`` (probability 0).
"""

from __future__ import annotations

import inspect
import json
import shutil
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import onnx

from nexus.datasets import CLASSES, Dataset
from nexus.errors import ConfigError, DataError, NotFittedError
from nexus.models._calibration import load_calibrator, make_calibrator
from nexus.models._data import check_fit_data, check_windows, class_weights
from nexus.models._onnx import finish_onnx, write_onnx
from nexus.models._params import Constraint, check_param_names, validate_params
from nexus.models._protocol import EpochCallback

__all__ = ["FORMAT", "ModelBase", "read_metadata"]

FORMAT = "nexus-model/1"
"""The ``format`` field of every saved ``model.json``."""
_META = "model.json"


class ModelBase(ABC):
    """Base class of the Nexus models; see the module docstring for the hooks.

    Attributes
    ----------
    n_features_in_ : int
        ``F`` seen in ``fit``.
    lookback_ : int
        ``L`` seen in ``fit``.
    feature_names_in_ : tuple of str
    class_offset_ : ndarray, shape (3,)
        Added to the network's logits: ``-log`` of the class weights used in
        training (zeros without class weighting), ``-1e4`` for a class absent
        from ``train``.
    calibrator_ : TemperatureScaling, IsotonicCalibration or NoCalibration
        Fitted on the validation split.
    """

    name: ClassVar[str]
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]]

    # -- hyper-parameters (scikit-learn's BaseEstimator) ------------------------------

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return sorted(p for p in signature.parameters if p != "self")

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The hyper-parameters by name, exactly as given to ``__init__``."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Self:
        """Set hyper-parameters (not validated until ``fit``); returns self.

        Raises
        ------
        ConfigError
            For a name the model does not have.
        """
        check_param_names(self.name, list(params), self._param_names())
        for key, value in params.items():
            setattr(self, key, value)
        return self

    @property
    def params(self) -> dict[str, Any]:
        """The hyper-parameters, as :meth:`get_params` returns them."""
        return self.get_params()

    def __repr__(self) -> str:
        defaults = {
            n: p.default for n, p in inspect.signature(type(self).__init__).parameters.items()
        }
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if v != defaults.get(k)]
        return f"{type(self).__name__}({', '.join(changed)})"

    # -- fitting and prediction --------------------------------------------------------

    def fit(self, train: Dataset, valid: Dataset, *, on_epoch: EpochCallback | None = None) -> Self:
        """Validate the parameters and data, learn on ``train``, calibrate on ``valid``.

        Parameters
        ----------
        train : Dataset
            Windows (n, L, F), labels and sample weights to learn from.
        valid : Dataset
            Later samples, same (L, F): early stopping and calibration.
        on_epoch : callable, optional
            ``on_epoch(epoch, train_loss, valid_loss)`` after each epoch or boosting round.

        Returns
        -------
        self

        Raises
        ------
        ConfigError
            For an invalid hyper-parameter.
        DataError
            For unusable data (see :func:`check_fit_data`).
        """
        validate_params(self.name, self.get_params(), self._parameter_constraints)
        self._check_params()
        check_fit_data(train, valid)
        self._reset()
        self.n_features_in_ = int(train.X.shape[2])
        self.lookback_ = int(train.X.shape[1])
        self.feature_names_in_ = tuple(train.feature_names)
        self._fit(train, valid, on_epoch)
        self.class_offset_ = class_offset(
            train.y, train.weight, self.get_params().get("class_weight")
        )
        windows = check_windows(valid.X, self.lookback_, self.n_features_in_)
        valid_logits = self._logits(windows) + self.class_offset_
        calibrator = make_calibrator(self.get_params()["calibration"])
        self.calibrator_ = calibrator.fit(valid_logits, np.asarray(valid.y), valid.weight)
        return self

    def _check_params(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Checks that involve several parameters; raise ConfigError. None by default."""

    def _reset(self) -> None:
        for key in [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]:
            delattr(self, key)

    def predict_logits(self, X: np.ndarray) -> np.ndarray:
        """Uncalibrated logits, shape (n, 3), from windows ``X`` (n, L, F).

        The class-weighting shift is already removed (``class_offset_`` added).

        Raises
        ------
        NotFittedError
            Before ``fit`` or ``load``.
        DataError
            If ``X`` does not have the training window shape or is not finite.
        """
        self._check_fitted("predict")
        logits = self._logits(check_windows(X, self.lookback_, self.n_features_in_))
        return logits + self.class_offset_

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities, shape (n, 3), columns DOWN, NEUTRAL, UP.

        Parameters
        ----------
        X : ndarray, shape (n, L, F)
            Windows with the training ``L`` and ``F``.

        Raises
        ------
        NotFittedError
            Before ``fit`` or ``load``.
        DataError
            If ``X`` does not have the training window shape or is not finite.
        """
        logits = self.predict_logits(X)
        return self.calibrator_.transform(logits)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class per window, shape (n,), 0 DOWN, 1 NEUTRAL, 2 UP."""
        return np.argmax(self.predict_proba(X), axis=1)

    def _check_fitted(self, action: str) -> None:
        if not hasattr(self, "calibrator_"):
            raise NotFittedError(
                f"cannot {action} with an unfitted {type(self).__name__}",
                fix="call fit(train, valid) or load a saved model first",
            )

    # -- persistence -------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the fitted model to the directory ``path`` (new, or empty).

        The directory holds ``model.json`` (format, name, parameters, window
        shape, feature names, calibrator, model state) and the model's own
        files. It appears complete or not at all: it is written beside
        ``path`` and renamed into place.

        Raises
        ------
        NotFittedError
            Before ``fit`` or ``load``.
        ConfigError
            If ``path`` exists and is not an empty directory.
        """
        self._check_fitted("save")
        path = Path(path)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise ConfigError(
                f"cannot save the model to {path}: it exists and is not an empty directory",
                fix="choose a new directory (model artifacts are never overwritten)",
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
        try:
            state = self._save_state(tmp)
            meta = json.dumps(self._metadata(state), indent=1, default=_plain)
            (tmp / _META).write_text(meta)
            if path.exists():
                path.rmdir()
            tmp.rename(path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _metadata(self, state: dict[str, Any]) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "model": self.name,
            "class": type(self).__name__,
            "params": self.get_params(),
            "classes": list(CLASSES),
            "lookback": self.lookback_,
            "n_features": self.n_features_in_,
            "feature_names": list(self.feature_names_in_),
            "class_offset": self.class_offset_.tolist(),
            "calibrator": self.calibrator_.to_json(),
            "state": state,
        }

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read a model that :meth:`save` wrote.

        Raises
        ------
        DataError
            If ``path`` holds no saved model, or one of another kind.
        """
        meta = read_metadata(path)
        if meta["model"] != cls.name:
            raise DataError(
                f"{path} holds a {meta['model']!r} model, not {cls.name!r}",
                fix="load it with nexus.models.load_model(path)",
            )
        try:
            model = cls(**meta["params"])
        except TypeError as exc:
            raise DataError(
                f"{path} was saved with parameters this {cls.__name__} does not take ({exc})",
                fix="load it with the Nexus version that saved it, or retrain",
            ) from exc
        model.n_features_in_ = int(meta["n_features"])
        model.lookback_ = int(meta["lookback"])
        model.feature_names_in_ = tuple(meta["feature_names"])
        model._load_state(Path(path), meta["state"])
        model.class_offset_ = np.asarray(meta.get("class_offset", [0.0] * len(CLASSES)))
        model.calibrator_ = load_calibrator(meta["calibrator"])
        return model

    # -- ONNX --------------------------------------------------------------------------

    def export_onnx(self, path: Path) -> None:
        """Write the calibrated model as one ONNX file.

        Input ``x``: float32 (batch, L, F), dynamic batch. Output
        ``probabilities``: float32 (batch, 3), columns DOWN, NEUTRAL, UP. The
        file's metadata (``nexus.model``, ``nexus.classes``,
        ``nexus.feature_names``, ...) describes the model. ONNX Runtime output
        equals :meth:`predict_proba` within 1e-5.

        Raises
        ------
        NotFittedError
            Before ``fit`` or ``load``.
        """
        self._check_fitted("export_onnx")
        model = finish_onnx(
            self._onnx_logits(), self.class_offset_, self.calibrator_, self._onnx_metadata()
        )
        write_onnx(model, Path(path))

    def _onnx_metadata(self) -> dict[str, object]:
        return {
            "model": self.name,
            "classes": list(CLASSES),
            "lookback": self.lookback_,
            "feature_names": list(self.feature_names_in_),
            "calibration": self.get_params()["calibration"],
            "params": self.get_params(),
        }

    # -- hooks -------------------------------------------------------------------------

    @abstractmethod
    def _fit(self, train: Dataset, valid: Dataset, on_epoch: EpochCallback | None) -> None:
        """Learn the logits model; set learned attributes ending in ``_``."""

    @abstractmethod
    def _logits(self, X: np.ndarray) -> np.ndarray:
        """Logits (n, 3) float64 from checked float32 windows (n, L, F)."""

    @abstractmethod
    def _save_state(self, folder: Path) -> dict[str, Any]:
        """Write model files into ``folder``; return JSON-ready state for ``model.json``."""

    @abstractmethod
    def _load_state(self, folder: Path, state: dict[str, Any]) -> None:
        """Restore what :meth:`_save_state` wrote."""

    @abstractmethod
    def _onnx_logits(self) -> onnx.ModelProto:
        """An ONNX model from ``x`` (batch, L, F) to ``logits`` (batch, 3)."""


ABSENT_CLASS_OFFSET = -1e4
"""Logit offset of a class that never occurs in ``train``: probability 0 after softmax."""


def class_offset(y: np.ndarray, weight: np.ndarray, mode: str | None) -> np.ndarray:
    """The logit offset, shape (3,), that removes class weighting's prior shift.

    Parameters
    ----------
    y, weight : ndarray, shape (n,)
        Training labels (0 DOWN, 1 NEUTRAL, 2 UP) and sample weights.
    mode : {"balanced", None}
        The model's ``class_weight``.

    Examples
    --------
    >>> y = np.array([0, 0, 0, 2])
    >>> class_offset(y, np.ones(4), "balanced").round(3).tolist()
    [0.811, -10000.0, -0.288]
    >>> class_offset(y, np.ones(4), None).tolist()
    [0.0, -10000.0, 0.0]
    """
    y = np.asarray(y, dtype=np.int64)
    weight = np.asarray(weight, dtype=np.float64)
    present = np.bincount(y, minlength=len(CLASSES)) > 0
    weights = class_weights(y, weight, mode)
    offset = 0.0 - np.log(np.where(present, weights, 1.0))  # 0.0 - 0.0 is +0.0
    return np.where(present, offset, ABSENT_CLASS_OFFSET)


def _plain(value: Any) -> Any:
    """JSON fallback: numpy scalars and arrays as Python numbers and lists."""
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def read_metadata(path: Path) -> dict[str, Any]:
    """The ``model.json`` of a saved model directory.

    Raises
    ------
    DataError
        If the directory or its ``model.json`` is missing or not a Nexus model.
    """
    meta_path = Path(path) / _META
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(
            f"{path} is not a saved Nexus model ({meta_path.name} unreadable: {exc})",
            fix="pass a directory written by Model.save",
        ) from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DataError(
            f"{meta_path} has format {meta.get('format') if isinstance(meta, dict) else None!r}, "
            f"expected {FORMAT!r}",
            fix="re-save the model with this version of Nexus",
        )
    return meta
