"""The champions the live engine serves: ONNX sessions, feature specs, thresholds."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from nexus.errors import RegistryError
from nexus.features import FeatureSpec
from nexus.registry import Artifact, Registry

__all__ = ["Champion", "ConfigWatcher", "load_champions", "threshold_of"]

log = logging.getLogger(__name__)

_FALLBACK = 1.0 / 3.0


@dataclass(frozen=True, slots=True, eq=False)
class Champion:
    """One slot's champion, ready to run.

    ``threshold`` is the probability its UP/DOWN calls need; ``threshold_source``
    says where it was chosen (the validation that promoted it, or the walk-forward
    out-of-sample folds of its training run).
    """

    slot: str
    version: str
    interval: str
    lookback: int
    spec: FeatureSpec
    threshold: float
    threshold_source: str
    session: ort.InferenceSession

    def predict(self, windows: np.ndarray) -> np.ndarray:
        """Calibrated probabilities (n, 3) for raw feature windows (n, >= lookback, F)."""
        x = np.ascontiguousarray(windows[:, -self.lookback :, :], dtype=np.float32)
        return self.session.run(None, {"x": x})[0].astype(np.float64)

    def describe(self) -> dict:
        """JSON-able summary (no session)."""
        return {
            "slot": self.slot,
            "version": self.version,
            "interval": self.interval,
            "lookback": self.lookback,
            "threshold": self.threshold,
            "threshold_source": self.threshold_source,
        }


def threshold_of(registry: Registry, artifact: Artifact) -> tuple[float, str]:
    """The validated call threshold of ``artifact`` and where it comes from.

    The newest registry decision about this version that carries a threshold
    (validation on the newest unseen window) wins; otherwise the threshold chosen
    on the training run's out-of-sample folds (``metrics.json``); a model from
    before thresholds were recorded falls back to plain arg-max calls (1/3).
    """
    for decision in reversed(registry.history(artifact.slot)):
        chosen = decision.figures.get("threshold")
        if decision.version == artifact.version and isinstance(chosen, dict):
            return float(chosen["value"]), f"validation {decision.time:%Y-%m-%d %H:%M}"
    chosen = artifact.metrics.get("threshold")
    if isinstance(chosen, dict):
        return float(chosen["value"]), "walk-forward out-of-sample folds"
    log.warning("%s/%s records no threshold; using arg-max calls", artifact.slot, artifact.version)
    return _FALLBACK, "none recorded (arg-max)"


def _session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, min(4, os.cpu_count() or 1))
    options.inter_op_num_threads = 1
    # idle ONNX threads sleep instead of spinning: a spinning pool would take the cores
    # the event loop needs to fan the result out to WebSocket clients
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def load_champions(registry: Registry, slots: Sequence[str]) -> tuple[Champion, ...]:
    """Verify and load each slot's champion.

    Raises
    ------
    RegistryError
        If a slot has no champion, or the champions disagree on the bar interval.
    ArtifactError
        If a champion is missing or corrupt (the registry raises an alert).
    """
    out = []
    for slot in slots:
        artifact = registry.load(slot)  # raises when there is none or it is corrupt
        data = artifact.experiment.get("data", {})
        threshold, source = threshold_of(registry, artifact)
        out.append(
            Champion(
                slot=slot,
                version=artifact.version,
                interval=str(data.get("interval", "1m")),
                lookback=int(artifact.experiment.get("dataset", {}).get("lookback", 60)),
                spec=artifact.features,
                threshold=threshold,
                threshold_source=source,
                session=_session(artifact.onnx_path),
            )
        )
    intervals = {c.interval for c in out}
    if len(intervals) > 1:
        raise RegistryError(
            f"the champions of {list(slots)} trade different intervals {sorted(intervals)}",
            fix="promote champions trained on one interval (data.interval in the experiment)",
        )
    return tuple(out)


class ConfigWatcher:
    """Tells when ``model_config.json`` changed since the last look (mtime and size)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen = self._stamp()

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return st.st_mtime_ns, st.st_size

    def changed(self) -> bool:
        """True once after each change."""
        now = self._stamp()
        if now == self._seen:
            return False
        self._seen = now
        return True
