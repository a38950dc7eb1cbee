"""A loaded model version: the native model, its ONNX file, scaler, spec and records."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from nexus.errors import ArtifactError, NexusError

if TYPE_CHECKING:  # loaded on first use: listing and promoting need no torch
    from nexus.features import FeatureScaler, FeatureSpec
    from nexus.models import ModelBase

__all__ = ["Artifact", "read_artifact"]


@dataclass(frozen=True, slots=True)
class Artifact:
    """One model version, checksum-verified and loaded.

    Attributes
    ----------
    slot, version : str
        Where it is kept: ``NEXUS_HOME/models/<slot>/<version>/``.
    path : Path
        That folder.
    model : ModelBase
        The native model (:func:`nexus.models.load_model`); it expects scaled windows.
    scaler : FeatureScaler
        The scaler fitted on the training window only.
    features : FeatureSpec
        The feature spec the model was trained on.
    metrics : dict
        ``metrics.json``: ``summary`` (out-of-sample scores averaged over folds) and ``folds``.
    fingerprint : dict
        ``fingerprint.json``: SHA-256 of the training bars, symbols, interval, range.
    experiment : dict
        ``experiment.yaml``: the experiment config it was trained with.
    manifest : dict
        ``manifest.json``: relative file name -> SHA-256.
    """

    slot: str
    version: str
    path: Path
    model: ModelBase
    scaler: FeatureScaler
    features: FeatureSpec
    metrics: dict[str, Any]
    fingerprint: dict[str, Any]
    experiment: dict[str, Any]
    manifest: dict[str, str]

    @property
    def onnx_path(self) -> Path:
        """``model.onnx``: raw features (batch, L, F) -> calibrated probabilities (batch, 3)."""
        return self.path / "model.onnx"


def read_artifact(folder: Path, slot: str, version: str) -> Artifact:
    """Load the version in ``folder`` (its checksums already verified).

    Raises
    ------
    ArtifactError
        If a file verified but cannot be read (for example a model format this
        Nexus does not know).
    """
    from nexus.features import FeatureScaler, FeatureSpec
    from nexus.models import load_model

    try:
        return Artifact(
            slot=slot,
            version=version,
            path=folder,
            model=load_model(folder / "model"),
            scaler=FeatureScaler.load(folder / "scaler.json"),
            features=FeatureSpec.from_yaml(folder / "features.yaml"),
            metrics=json.loads((folder / "metrics.json").read_text()),
            fingerprint=json.loads((folder / "fingerprint.json").read_text()),
            experiment=yaml.safe_load((folder / "experiment.yaml").read_text()),
            manifest=json.loads((folder / "manifest.json").read_text()),
        )
    except (NexusError, OSError, ValueError, yaml.YAMLError) as exc:
        raise ArtifactError(
            f"model {slot}/{version} passed its checksums but cannot be loaded ({exc})",
            fix="retrain it with this Nexus version, or promote another version",
        ) from exc
