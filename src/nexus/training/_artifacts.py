"""What a trained model's version folder holds; the registry writes the folder.

``NEXUS_HOME/models/<slot>/<version>/`` holds::

    model/            the native model (model.json + its files)
    model.onnx        raw features (batch, L, F) -> calibrated probabilities (batch, 3);
                      the train-only scaler is part of the graph
    scaler.json       the scaler, fitted on the training window only
    features.yaml     the feature spec the model was trained on
    metrics.json      per-fold and summary scores, with the baselines
    fingerprint.json  what data it learned from (SHA-256 of the bars, symbols, range)
    experiment.yaml   the experiment config
    reference.json    the drift reference: each feature's training quantiles and the
                      model's out-of-sample confidence, accuracy and macro-F1
    manifest.json     SHA-256 of every file above

:meth:`nexus.registry.Registry.add` builds the folder under a temporary name,
writes the manifest and renames it into place, so a failure never leaves a
half-written version behind.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import onnx
import yaml
from onnx import compose, helper, numpy_helper

from nexus.features import FeatureScaler
from nexus.monitoring import REFERENCE_FILE, DriftReference, build_reference
from nexus.registry import Registry
from nexus.training._config import ExperimentConfig
from nexus.training._prepare import Prepared
from nexus.training._trainer import ModelResult

__all__ = ["save_artifact", "scaled_onnx"]


def scaled_onnx(core: onnx.ModelProto, scaler: FeatureScaler) -> onnx.ModelProto:
    """``core`` with the scaler in front: input ``x`` is raw features (batch, L, F)."""
    center = numpy_helper.from_array(scaler.center_.astype(np.float32), "scaler_center")
    scale = numpy_helper.from_array(scaler.scale_.astype(np.float32), "scaler_scale")
    x = core.graph.input[0]
    pre = helper.make_graph(
        [
            helper.make_node("Sub", ["x", "scaler_center"], ["x_centered"]),
            helper.make_node("Div", ["x_centered", "scaler_scale"], ["x_scaled"]),
        ],
        "scaler",
        [helper.make_value_info("x", x.type)],
        [helper.make_value_info("x_scaled", x.type)],
        initializer=[center, scale],
    )
    pre_model = helper.make_model(pre, opset_imports=list(core.opset_import))
    pre_model.ir_version = core.ir_version
    core = compose.add_prefix(core, "m_")
    merged = compose.merge_models(pre_model, core, io_map=[("x_scaled", "m_x")])
    out = merged.graph.output[0]
    merged.graph.output.remove(out)
    renamed = onnx.ValueInfoProto()
    renamed.CopyFrom(out)
    renamed.name = "probabilities"
    merged.graph.node.append(helper.make_node("Identity", [out.name], ["probabilities"]))
    merged.graph.output.append(renamed)
    onnx.checker.check_model(merged)
    return merged


def _write_json(path: Path, payload: object) -> None:
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")


def _fingerprint(prepared: Prepared, config: ExperimentConfig) -> dict:
    bars = prepared.bars
    return {
        "sha256": prepared.fingerprint,
        "interval": config.data.interval,
        "symbols": sorted(bars["symbol"].unique().tolist()),
        "first_ts": str(bars["ts"].min()),
        "last_ts": str(bars["ts"].max()),
        "n_bars": len(bars),
        "n_samples": len(prepared.dataset),
    }


def _fill(folder: Path, result: ModelResult, prepared: Prepared, config: ExperimentConfig) -> None:
    result.model.save(folder / "model")
    result.model.export_onnx(folder / "core.onnx")
    onnx.save(scaled_onnx(onnx.load(folder / "core.onnx"), result.scaler), folder / "model.onnx")
    (folder / "core.onnx").unlink()
    result.scaler.save(folder / "scaler.json")
    # to_yaml leaves switched-off kinds out: in a spec, a bare ``kind:`` means "on"
    (folder / "features.yaml").write_text(prepared.pipeline.spec.to_yaml())
    _write_json(
        folder / "metrics.json",
        {
            "summary": result.summary(),
            "folds": [asdict(f) for f in result.folds],
            "threshold": result.threshold().to_dict(),
        },
    )
    _write_json(folder / "fingerprint.json", _fingerprint(prepared, config))
    (folder / "experiment.yaml").write_text(
        yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
    )
    _reference(result, prepared).save(folder / REFERENCE_FILE)


def _reference(result: ModelResult, prepared: Prepared) -> DriftReference:
    """The drift reference: the features of every bar of the last fold's training window,
    and the model's scores on that fold's test window (the newest data it never saw)."""
    data, fold = prepared.dataset, prepared.folds[-1]
    train_ts = data.index["ts"].iloc[fold.train]
    first, last = train_ts.min(), train_ts.max()
    bars = prepared.bars.loc[prepared.bars["ts"] <= last]
    context = prepared.context
    features = prepared.pipeline.transform(bars, news=context.news, macro=context.macro)
    features = features.loc[features["ts"] >= first]
    return build_reference(
        features,
        data.feature_names,
        result.oos_y[-1],
        result.oos_proba[-1],
        data.index["ts"].iloc[fold.test],
        window={"first_ts": str(first), "last_ts": str(last)},
    )


def save_artifact(
    home: Path | Registry, result: ModelResult, prepared: Prepared, config: ExperimentConfig
) -> Path:
    """Write ``result``'s last-fold model as a new version of its slot; return its folder.

    ``home`` is ``NEXUS_HOME`` or a :class:`~nexus.registry.Registry`. The version is
    not promoted: ``nexus validate`` decides that.
    """
    registry = home if isinstance(home, Registry) else Registry(home)
    slot = result.config.slot_name
    version = registry.add(
        slot, lambda folder: _fill(folder, result, prepared, config), tag=prepared.fingerprint[:8]
    )
    return registry.path(slot, version)
