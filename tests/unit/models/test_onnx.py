"""ONNX exports: one self-contained file, the declared interface, parity for every variant.

``check_model`` (test_contract) already checks parity of each model's default
variant for batches of 1 and 20; here the other calibrations and architectures.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from nexus.datasets import Dataset
from nexus.models import (
    LightGBMModel,
    LogisticModel,
    LSTMModel,
    ModelBase,
    TransformerModel,
    onnx_predict,
)
from tests.unit.models.conftest import LOOKBACK, N_FEATURES, TINY_DEEP

VARIANTS = {
    "logistic-isotonic": LogisticModel(calibration="isotonic"),
    "lightgbm-isotonic": LightGBMModel(n_estimators=40, num_leaves=5, calibration="isotonic"),
    "lightgbm-uncalibrated": LightGBMModel(n_estimators=40, max_depth=2, calibration=None),
    "lightgbm-single-leaf-trees": LightGBMModel(n_estimators=5, min_child_samples=1000),
    "lightgbm-bcts-bagged": LightGBMModel(
        n_estimators=30, subsample=0.5, subsample_freq=1, colsample_bytree=0.5,
        calibration="bcts",
    ),
    "lstm-2-layers": LSTMModel(hidden_size=8, num_layers=2, **{**TINY_DEEP, "max_epochs": 2}),
    "transformer-learned-last": TransformerModel(
        d_model=8, n_heads=2, num_layers=2, dim_feedforward=16, positional="learned",
        pooling="last", calibration="isotonic", **{**TINY_DEEP, "max_epochs": 2},
    ),
    "transformer-per-bar": TransformerModel(
        patch_size=1, d_model=8, n_heads=2, num_layers=1, dim_feedforward=16,
        **{**TINY_DEEP, "max_epochs": 2},
    ),
    "transformer-patches-divide": TransformerModel(
        patch_size=4, d_model=8, n_heads=2, num_layers=1, dim_feedforward=16,
        **{**TINY_DEEP, "max_epochs": 2},
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(VARIANTS))
def test_variant_parity(
    name: str, splits: tuple[Dataset, Dataset, Dataset], tmp_path: Path
) -> None:
    train, valid, test = splits
    model: ModelBase = type(VARIANTS[name])(**VARIANTS[name].get_params()).fit(train, valid)
    path = tmp_path / "model.onnx"
    model.export_onnx(path)
    expected = model.predict_proba(test.X)
    for rows in (slice(0, 1), slice(0, 20), slice(None)):
        got = onnx_predict(path, test.X[rows])
        np.testing.assert_allclose(got, expected[rows], atol=1e-5, rtol=0)


def test_exported_file_declares_its_interface(
    splits: tuple[Dataset, Dataset, Dataset], tmp_path: Path
) -> None:
    train, valid, _ = splits
    model = LightGBMModel(n_estimators=20).fit(train, valid)
    path = tmp_path / "models" / "lightgbm.onnx"
    model.export_onnx(path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["lightgbm.onnx"]  # one file
    proto = onnx.load(path)
    (x,) = proto.graph.input
    (out,) = proto.graph.output
    assert (x.name, out.name) == ("x", "probabilities")
    dims = [d.dim_param or d.dim_value for d in x.type.tensor_type.shape.dim]
    assert dims == ["batch", LOOKBACK, N_FEATURES]
    assert [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim] == ["batch", 3]
    meta = {p.key: json.loads(p.value) for p in proto.metadata_props}
    assert meta["nexus.model"] == "lightgbm"
    assert meta["nexus.classes"] == ["DOWN", "NEUTRAL", "UP"]
    assert meta["nexus.lookback"] == LOOKBACK
    assert meta["nexus.feature_names"] == list(train.feature_names)
    assert meta["nexus.calibration"] == "temperature"


def test_lightgbm_splits_compare_like_lightgbm(
    splits: tuple[Dataset, Dataset, Dataset], tmp_path: Path
) -> None:
    """Inputs placed exactly on and one float32 step around every threshold route alike."""
    train, valid, _ = splits
    model = LightGBMModel(n_estimators=30, num_leaves=7, calibration=None).fit(train, valid)
    dump = model.booster_.dump_model()
    edges: list[tuple[int, float]] = []
    stack = [t["tree_structure"] for t in dump["tree_info"]]
    while stack:
        node = stack.pop()
        if "split_feature" in node:
            edges.append((node["split_feature"], node["threshold"]))
            stack += [node["left_child"], node["right_child"]]
    rows = []
    for feature, threshold in edges[:60]:
        near = np.float32(threshold)
        for value in (
            near,
            np.nextafter(near, np.float32(-np.inf)),
            np.nextafter(near, np.float32(np.inf)),
        ):
            window = np.tile(train.X[0], (1, 1))
            window[-1, feature] = value
            rows.append(window)
    X = np.stack(rows).astype(np.float32)
    path = tmp_path / "model.onnx"
    model.export_onnx(path)
    np.testing.assert_allclose(onnx_predict(path, X), model.predict_proba(X), atol=1e-6, rtol=0)
