"""Calibrators lower the NLL of miscalibrated logits, round-trip through JSON and ONNX."""

from __future__ import annotations

import dataclasses

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper
from scipy.special import softmax

from nexus.models import IsotonicCalibration, LogisticModel, NoCalibration, TemperatureScaling
from nexus.models._calibration import load_calibrator, weighted_log_loss
from tests.unit.models.conftest import make_dataset


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


def test_bcts_undoes_a_prior_shift() -> None:
    """Class weighting adds log-weights to the logits; the fitted bias takes them out again."""
    logits, y = _sample(8000, seed=6)
    shift = np.array([0.0, -1.2, 0.8])
    shifted = 2.0 * (logits + shift)
    train, held_out = slice(0, 4000), slice(4000, None)
    bcts = TemperatureScaling(bias=True).fit(shifted[train], y[train])
    plain = TemperatureScaling().fit(shifted[train], y[train])
    assert bcts.temperature_ == pytest.approx(2.0, rel=0.1)
    np.testing.assert_allclose(bcts.bias_, -shift, atol=0.15)
    nll_bcts = weighted_log_loss(bcts.transform(shifted[held_out]), y[held_out])
    assert nll_bcts < weighted_log_loss(plain.transform(shifted[held_out]), y[held_out]) - 0.05
    frequencies = np.bincount(y[held_out], minlength=3) / len(y[held_out])
    np.testing.assert_allclose(
        bcts.transform(shifted[held_out]).mean(axis=0), frequencies, atol=0.02
    )


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


CALIBRATORS = {
    "none": NoCalibration,
    "temperature": TemperatureScaling,
    "bcts": lambda: TemperatureScaling(bias=True),
    "isotonic": IsotonicCalibration,
}


@pytest.mark.parametrize("kind", list(CALIBRATORS))
def test_json_and_onnx_agree_with_transform(kind: str) -> None:
    logits, y = _sample(3000, seed=4)
    calibrator = CALIBRATORS[kind]().fit(2.0 * logits + np.array([0.0, 0.5, -0.5]), y)
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


@pytest.mark.parametrize("calibration", [None, "temperature", "bcts", "isotonic"])
def test_class_weighted_model_reports_true_frequencies(calibration: str | None) -> None:
    """Balanced class weights inflate rare classes; the model takes that shift out again."""
    data = make_dataset(4000, seed=5)
    rng = np.random.default_rng(0)
    score = (data.X[:, -1, 0] - 3.0) / 2.0 * 0.8 + 0.6 * rng.standard_normal(len(data))
    y = np.where(score > 1.0, 2, np.where(score < -1.0, 0, 1))  # about 16% / 68% / 16%
    data = dataclasses.replace(data, y=y)
    train, valid, test = (
        data.take(np.arange(a, b)) for a, b in ((0, 2000), (2000, 3000), (3000, 4000))
    )
    frequencies = np.bincount(test.y, minlength=3) / len(test)
    model = LogisticModel(calibration=calibration).fit(train, valid)
    shifted = softmax(model.predict_logits(test.X) - model.class_offset_, axis=1)
    assert shifted.mean(axis=0)[1] < frequencies[1] - 0.15  # weighted logits: NEUTRAL too rare
    calibrated = model.predict_proba(test.X)
    np.testing.assert_allclose(calibrated.mean(axis=0), frequencies, atol=0.03)
    assert weighted_log_loss(calibrated, test.y) < weighted_log_loss(shifted, test.y) - 0.1
