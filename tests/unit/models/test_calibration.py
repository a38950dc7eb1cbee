"""Calibrators lower the NLL of miscalibrated logits, round-trip through JSON and ONNX."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper
from scipy.special import softmax

from nexus.models import IsotonicCalibration, NoCalibration, TemperatureScaling
from nexus.models._calibration import load_calibrator, weighted_log_loss


def _sample(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """True logits and labels drawn from their softmax."""
    rng = np.random.default_rng(seed)
    logits = 1.5 * rng.standard_normal((n, 3))
    cum = softmax(logits, axis=1).cumsum(axis=1)
    y = np.minimum((rng.uniform(size=(n, 1)) > cum).sum(axis=1), 2)
    return logits, y


@pytest.mark.parametrize(("distortion", "temperature"), [(4.0, 4.0), (0.25, 0.25)])
def test_temperature_recovers_the_distortion(distortion: float, temperature: float) -> None:
    logits, y = _sample(6000, seed=1)
    calibrator = TemperatureScaling().fit(distortion * logits[:3000], y[:3000])
    assert calibrator.temperature_ == pytest.approx(temperature, rel=0.1)
    held_out = distortion * logits[3000:]
    raw = weighted_log_loss(softmax(held_out, axis=1), y[3000:])
    calibrated = weighted_log_loss(calibrator.transform(held_out), y[3000:])
    assert calibrated < raw - 0.05


def test_isotonic_lowers_the_nll_of_an_overconfident_model() -> None:
    logits, y = _sample(6000, seed=2)
    calibrator = IsotonicCalibration().fit(3.0 * logits[:3000], y[:3000])
    held_out = 3.0 * logits[3000:]
    raw = weighted_log_loss(softmax(held_out, axis=1), y[3000:])
    calibrated = calibrator.transform(held_out)
    np.testing.assert_allclose(calibrated.sum(axis=1), 1.0)
    assert weighted_log_loss(calibrated, y[3000:]) < raw - 0.1


def test_sample_weights_count() -> None:
    logits, y = _sample(2000, seed=3)
    sharp = 4.0 * logits
    weight = np.where(np.arange(2000) < 1000, 1.0, 0.0)
    mixed = np.vstack([sharp[:1000], logits[1000:]])
    weighted = TemperatureScaling().fit(mixed, y, weight).temperature_
    assert weighted == pytest.approx(TemperatureScaling().fit(sharp[:1000], y[:1000]).temperature_)


CALIBRATORS = [NoCalibration, TemperatureScaling, IsotonicCalibration]


@pytest.mark.parametrize("cls", CALIBRATORS)
def test_json_and_onnx_agree_with_transform(cls: type[NoCalibration]) -> None:
    logits, y = _sample(3000, seed=4)
    calibrator = cls().fit(2.0 * logits, y)
    test = (2.0 * _sample(500, seed=5)[0]).astype(np.float32)
    expected = calibrator.transform(test)
    restored = load_calibrator(calibrator.to_json())
    np.testing.assert_array_equal(restored.transform(test), expected)
    nodes, initializers = calibrator.onnx_part("logits", "probabilities")
    graph = helper.make_graph(
        nodes,
        "calibration",
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", 3])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["n", 3])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)], ir_version=10)
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    got = session.run(None, {"logits": test})[0]
    np.testing.assert_allclose(got, expected, atol=2e-6)
