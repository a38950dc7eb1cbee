"""ONNX building blocks shared by the models.

Every model first produces an ONNX graph from input ``x`` float32
(batch, L, F) to ``logits`` float32 (batch, 3); :func:`finish_onnx` then
appends the fitted calibrator, which yields ``probabilities`` (batch, 3), adds
metadata and checks the model.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from nexus.datasets import CLASSES
from nexus.models._calibration import NoCalibration

__all__ = [
    "BATCH",
    "INPUT",
    "LOGITS",
    "OPSET",
    "OUTPUT",
    "finish_onnx",
    "last_row_nodes",
    "onnx_logits_model",
    "torch_logits_model",
    "write_onnx",
]

INPUT = "x"
LOGITS = "logits"
OUTPUT = "probabilities"
BATCH = "batch"
OPSET = 20
"""Default-domain opset of every exported graph (the torch exporter's default)."""
ML_OPSET = 3
_REGISTRY_LOGGER = "torch.onnx._internal.exporter._registration"
"""Logs "torchvision is not installed" for each torchvision op on the first export."""


def last_row_nodes(output: str) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto]]:
    """``x[:, -1, :]`` as ONNX: (batch, L, F) -> ``output`` (batch, F)."""
    index = numpy_helper.from_array(np.array(-1, dtype=np.int64), "last_row_index")
    return [helper.make_node("Gather", [INPUT, "last_row_index"], [output], axis=1)], [index]


def onnx_logits_model(
    nodes: list[onnx.NodeProto],
    initializers: list[onnx.TensorProto],
    lookback: int,
    n_features: int,
    *,
    ml_domain: bool = False,
) -> onnx.ModelProto:
    """Wrap hand-built nodes into a model from ``x`` (batch, L, F) to ``logits`` (batch, 3)."""
    graph = helper.make_graph(
        nodes,
        "nexus_model",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [BATCH, lookback, n_features])],
        [helper.make_tensor_value_info(LOGITS, TensorProto.FLOAT, [BATCH, len(CLASSES)])],
        initializer=initializers,
    )
    opsets = [helper.make_opsetid("", OPSET)]
    if ml_domain:
        opsets.append(helper.make_opsetid("ai.onnx.ml", ML_OPSET))
    return helper.make_model(graph, opset_imports=opsets, ir_version=10, producer_name="nexus")


def torch_logits_model(network: torch.nn.Module, lookback: int, n_features: int) -> onnx.ModelProto:
    """Export a network mapping (batch, L, F) to logits (batch, 3) with ``torch.onnx`` (dynamo).

    The TorchScript exporter is deprecated in torch 2.9+; the dynamo exporter
    (``torch.export`` + onnxscript) works offline and is the supported path.
    """
    network.eval()
    example = torch.zeros(2, lookback, n_features)
    batch = torch.export.Dim(BATCH)
    with warnings.catch_warnings(), _quiet(_REGISTRY_LOGGER):
        # torch.export and the exporter warn about their own internals (FutureWarning on
        # deprecated pytree helpers, UserWarning on LSTM flat weights); nothing a caller
        # can act on, and pytest runs with warnings as errors.
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            network,
            (example,),
            input_names=[INPUT],
            output_names=[LOGITS],
            dynamic_shapes=({0: batch},),
            opset_version=OPSET,
            dynamo=True,
            verbose=False,
        )
    return program.model_proto


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Silence one logger below ERROR inside the block, restoring its level after."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def finish_onnx(
    model: onnx.ModelProto,
    class_offset: np.ndarray,
    calibrator: NoCalibration,
    metadata: dict[str, object],
) -> onnx.ModelProto:
    """Add ``class_offset`` to ``logits``, append ``calibrator``, declare ``probabilities``.

    Parameters
    ----------
    model : ModelProto
        A graph from ``x`` to ``logits``.
    class_offset : ndarray, shape (3,)
        The model's ``class_offset_``.
    calibrator : NoCalibration
        A fitted calibrator; its ``onnx_part`` maps logits to probabilities.
    metadata : dict
        Written as JSON strings to the model's ``metadata_props`` (key ``nexus.<name>``).
    """
    graph = model.graph
    offset = numpy_helper.from_array(np.asarray(class_offset, np.float32), "class_offset")
    graph.node.append(helper.make_node("Add", [LOGITS, "class_offset"], ["prior_logits"]))
    nodes, initializers = calibrator.onnx_part("prior_logits", OUTPUT)
    graph.node.extend(nodes)
    graph.initializer.extend([offset, *initializers])
    batch_dim = graph.input[0].type.tensor_type.shape.dim[0]
    batch = batch_dim.dim_param or BATCH
    del graph.output[:]
    graph.output.append(
        helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [batch, len(CLASSES)])
    )
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = f"nexus.{key}", json.dumps(value)
    onnx.checker.check_model(model, full_check=True)
    return model


def write_onnx(model: onnx.ModelProto, path: Path) -> None:
    """Write ``model`` to ``path`` as one file, atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        onnx.save_model(model, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
