"""A LightGBM multiclass booster as an ONNX ``TreeEnsembleRegressor`` (ai.onnx.ml opset 3).

Built from ``Booster.dump_model()`` with ``onnx.helper``; no converter package.
The features are cast to float64 and thresholds and leaf values are stored as
float64 tensors, so each split compares exactly as LightGBM does (float32
input widened to double, ``x <= threshold`` goes left) and ONNX Runtime sums
the leaves in double. Tree ``t`` adds to class ``t % num_class``, which is
LightGBM's layout; the first iteration's trees already hold the
``boost_from_average`` bias. Inputs are checked finite before prediction, so
missing-value routing is not encoded; categorical splits are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from nexus.errors import DataError

__all__ = ["booster_nodes"]


@dataclass(slots=True)
class _Ensemble:
    """Flattened node and leaf attributes of every tree."""

    tree: list[int] = field(default_factory=list)
    node: list[int] = field(default_factory=list)
    feature: list[int] = field(default_factory=list)
    mode: list[str] = field(default_factory=list)
    threshold: list[float] = field(default_factory=list)
    true_id: list[int] = field(default_factory=list)
    false_id: list[int] = field(default_factory=list)
    leaf_tree: list[int] = field(default_factory=list)
    leaf_node: list[int] = field(default_factory=list)
    leaf_class: list[int] = field(default_factory=list)
    leaf_value: list[float] = field(default_factory=list)

    def add_tree(self, tree_id: int, n_classes: int, root: dict[str, Any]) -> None:
        """Append one tree, numbering its nodes depth-first from 0."""
        stack = [(root, 0)]
        next_id = 1
        while stack:
            item, node_id = stack.pop()
            if "leaf_value" in item:
                self._add_leaf(tree_id, node_id, tree_id % n_classes, float(item["leaf_value"]))
                continue
            left, right = next_id, next_id + 1
            next_id += 2
            self._add_split(tree_id, node_id, item, left, right)
            stack += [(item["right_child"], right), (item["left_child"], left)]

    def _add_split(
        self, tree_id: int, node_id: int, item: dict[str, Any], left: int, right: int
    ) -> None:
        if item.get("decision_type") != "<=":
            raise DataError(
                f"LightGBM split type {item.get('decision_type')!r} cannot be exported to ONNX",
                fix="train without categorical features",
            )
        self._add_node(tree_id, node_id, int(item["split_feature"]), "BRANCH_LEQ")
        self.threshold.append(float(item["threshold"]))
        self.true_id.append(left)
        self.false_id.append(right)

    def _add_leaf(self, tree_id: int, node_id: int, klass: int, value: float) -> None:
        self._add_node(tree_id, node_id, 0, "LEAF")
        self.threshold.append(0.0)
        self.true_id.append(0)
        self.false_id.append(0)
        self.leaf_tree.append(tree_id)
        self.leaf_node.append(node_id)
        self.leaf_class.append(klass)
        self.leaf_value.append(value)

    def _add_node(self, tree_id: int, node_id: int, feature: int, mode: str) -> None:
        self.tree.append(tree_id)
        self.node.append(node_id)
        self.feature.append(feature)
        self.mode.append(mode)


def booster_nodes(
    dump: dict[str, Any], features: str, output: str
) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto]]:
    """ONNX nodes computing a booster's raw scores.

    Parameters
    ----------
    dump : dict
        ``Booster.dump_model()`` of a multiclass booster.
    features : str
        Name of a float32 tensor (batch, F).
    output : str
        Name of the float32 raw-score tensor (batch, num_class) to produce.
    """
    n_classes = int(dump["num_class"])
    ensemble = _Ensemble()
    for tree in dump["tree_info"]:
        ensemble.add_tree(int(tree["tree_index"]), n_classes, tree["tree_structure"])
    cast = helper.make_node("Cast", [features], ["gbm_x"], to=TensorProto.DOUBLE)
    trees = helper.make_node(
        "TreeEnsembleRegressor",
        ["gbm_x"],
        [output],
        domain="ai.onnx.ml",
        n_targets=n_classes,
        aggregate_function="SUM",
        post_transform="NONE",
        nodes_treeids=ensemble.tree,
        nodes_nodeids=ensemble.node,
        nodes_featureids=ensemble.feature,
        nodes_modes=ensemble.mode,
        nodes_values_as_tensor=_doubles(ensemble.threshold),
        nodes_truenodeids=ensemble.true_id,
        nodes_falsenodeids=ensemble.false_id,
        nodes_missing_value_tracks_true=[0] * len(ensemble.node),
        target_treeids=ensemble.leaf_tree,
        target_nodeids=ensemble.leaf_node,
        target_ids=ensemble.leaf_class,
        target_weights_as_tensor=_doubles(ensemble.leaf_value),
        base_values_as_tensor=_doubles([0.0] * n_classes),
    )
    return [cast, trees], []


def _doubles(values: list[float]) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(values, dtype=np.float64))
