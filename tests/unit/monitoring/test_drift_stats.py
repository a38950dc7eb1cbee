"""PSI, KS, the reference and the alarm: the arithmetic the monitor's decisions rest on."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nexus.errors import ArtifactError, ConfigError
from nexus.monitoring import (
    REFERENCE_FILE,
    Alarm,
    DriftReference,
    FeatureReference,
    MonitorConfig,
    build_reference,
    concept_reference,
    feature_references,
    ks_statistic,
    psi,
    read_reference,
)

RNG = np.random.default_rng(7)
TRAIN = RNG.normal(size=50_000)


def test_psi_is_near_zero_for_the_same_distribution_and_grows_with_a_shift() -> None:
    ref = FeatureReference.of(TRAIN)
    same = [psi(RNG.normal(size=2_000), ref) for _ in range(20)]
    assert max(same) < 0.03  # sampling noise of 10 bins on 2,000 values: about 9 / 2,000
    shifted = [psi(RNG.normal(mu, 1, 2_000), ref) for mu in (0.25, 0.5, 1.0)]
    assert shifted == sorted(shifted)
    assert shifted[0] > 0.05
    assert shifted[-1] > 0.8


def test_psi_of_tripled_volatility_is_far_over_the_alarm_level() -> None:
    ref = FeatureReference.of(TRAIN)
    assert psi(RNG.normal(0, 3, 500), ref) > 1.0


def test_psi_matches_the_textbook_formula_on_hand_made_bins() -> None:
    ref = FeatureReference.of(np.arange(1, 101, dtype=float))  # deciles 10.9, 20.8, ...
    assert len(ref.edges) == 9
    assert np.allclose(ref.proportions, 0.1)
    live = np.array([5.0] * 50 + [95.0] * 50)  # half in the first bin, half in the last
    expected = 2 * (0.5 - 0.1) * np.log(0.5 / 0.1) + 8 * (1e-4 - 0.1) * np.log(1e-4 / 0.1)
    assert psi(live, ref) == pytest.approx(expected)


def test_ks_agrees_with_scipy_two_sample_within_the_quantile_grid() -> None:
    ref = FeatureReference.of(TRAIN)
    for mu, sd in ((0.0, 1.0), (0.3, 1.0), (0.0, 2.0), (1.0, 0.5)):
        live = RNG.normal(mu, sd, 3_000)
        exact = stats.ks_2samp(live, TRAIN).statistic
        assert ks_statistic(live, ref) == pytest.approx(exact, abs=0.006)


def test_discrete_features_get_merged_bins_with_their_real_shares() -> None:
    values = RNG.choice([0.0, 1.0, 2.0], p=[0.7, 0.2, 0.1], size=10_000)
    ref = FeatureReference.of(values)
    assert ref.edges == (0.0, 1.0)
    assert np.allclose(ref.proportions, [0.7, 0.2, 0.1], atol=0.02)
    assert psi(RNG.choice([0.0, 1.0, 2.0], p=[0.7, 0.2, 0.1], size=2_000), ref) < 0.01
    assert ks_statistic(np.zeros(100), ref) == pytest.approx(0.3, abs=0.02)


def test_a_feature_never_finite_in_training_has_an_empty_reference() -> None:
    ref = FeatureReference.of(np.full(10, np.nan))
    assert ref.n == 0
    assert ref.missing == 1.0
    assert ref.quantiles == ()


def _frame(values: np.ndarray, minutes: int = 1) -> pd.DataFrame:
    ts = pd.date_range("2025-01-02 14:30", periods=len(values), freq=f"{minutes}min", tz="UTC")
    return pd.DataFrame(
        {"symbol": "A", "ts": ts, "a": values, "b": np.where(values > 0, np.nan, values)}
    )


def test_the_reference_round_trips_through_json(tmp_path) -> None:
    features = _frame(TRAIN[:3000])
    y = RNG.integers(0, 3, 600)
    proba = RNG.dirichlet(np.ones(3), 600)
    ts = features["ts"].iloc[-600:]
    ref = build_reference(features, ("a", "b"), y, proba, ts, window={"first_ts": "2025-01-02"})
    assert ref.features["b"].missing == pytest.approx(np.mean(TRAIN[:3000] > 0))
    assert ref.concept.confidence == pytest.approx(proba.max(axis=1).mean())
    assert ref.concept.accuracy == pytest.approx(np.mean(proba.argmax(axis=1) == y))
    assert sum(ref.concept.classes) == pytest.approx(1.0)
    ref.save(tmp_path / REFERENCE_FILE)
    assert json.dumps(read_reference(tmp_path).to_dict()) == json.dumps(ref.to_dict())


def test_null_levels_measure_how_far_normal_windows_stray() -> None:
    # iid values: 60-value windows stray by chance only; a persistent series strays far more
    iid = feature_references(_frame(TRAIN[:6000]), ("a",))["a"]
    walk = np.cumsum(RNG.normal(size=6000)) * 0.05
    persistent = feature_references(_frame(np.tanh(walk)), ("a",))["a"]
    assert len(iid.psi_null) == 3
    assert iid.psi_null == tuple(sorted(iid.psi_null))
    assert 0.05 < iid.psi_null[0] < 0.3  # about 9 / 60 for 10 bins
    assert persistent.psi_null[2] > 3 * iid.psi_null[2]
    assert persistent.ks_null[1] > iid.ks_null[1]


def test_concept_reference_measures_the_chance_spread_of_sub_windows() -> None:
    n = 4000
    ts = pd.date_range("2025-01-02 14:30", periods=n, freq="1min", tz="UTC")
    y = RNG.integers(0, 3, n)
    proba = np.where(np.eye(3)[y] == 1, 0.6, 0.2)  # always right
    ref = concept_reference(y, proba, ts, window_minutes=60, outcome_minutes=240)
    assert ref.accuracy == 1.0
    assert ref.accuracy_sd == 0.0
    assert ref.confidence == pytest.approx(0.6)
    noisy = concept_reference(RNG.integers(0, 3, n), proba, ts)
    assert 0.02 < noisy.accuracy_sd < 0.05  # sqrt(2/9 / 240) = 0.030


def test_a_model_without_a_reference_reads_as_none_and_a_broken_one_is_named(tmp_path) -> None:
    assert read_reference(tmp_path) is None
    (tmp_path / REFERENCE_FILE).write_text(json.dumps({"format": 99}))
    with pytest.raises(ArtifactError, match=r"reference\.json cannot be read"):
        read_reference(tmp_path)


def test_build_reference_names_the_missing_feature_columns() -> None:
    with pytest.raises(ValueError, match=r"lacks columns \['c'\]"):
        build_reference(_frame(TRAIN[:100]), ("a", "c"), np.zeros(0, int), np.zeros((0, 3)), [])


def test_from_dict_refuses_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="format"):
        DriftReference.from_dict({"format": 2})


def test_an_alarm_needs_persistence_to_rise_and_to_clear() -> None:
    alarm = Alarm(enter=0.5, exit=0.2, persistence=3)
    assert [alarm.update(v) for v in (0.9, 0.9, 0.1, 0.9, 0.9)] == [None] * 5
    assert alarm.update(0.9) == "raised"
    assert alarm.on
    # a value between exit and enter holds the alarm and resets both streaks
    assert [alarm.update(v) for v in (0.1, 0.1, 0.3, 0.1, 0.1)] == [None] * 5
    assert alarm.update(0.1) == "cleared"
    assert not alarm.on


def test_an_alarm_ignores_checks_without_a_value() -> None:
    alarm = Alarm(enter=0.5, exit=0.2, persistence=2)
    assert [alarm.update(v) for v in (0.9, None, float("nan"), 0.9)] == [None, None, None, "raised"]


def test_an_alarm_with_a_hold_needs_its_streak_to_span_that_much_bar_time() -> None:
    alarm = Alarm(enter=0.5, exit=0.2, persistence=2, hold=3600)
    t0 = pd.Timestamp("2025-01-02 14:30", tz="UTC")
    at = [t0 + pd.Timedelta(minutes=m) for m in range(0, 75, 5)]
    changes = [alarm.update(0.9, t) for t in at]
    assert changes.index("raised") == 12  # 60 minutes after the streak began, not 2 checks
    alarm.update(0.3, at[-1])  # between the levels: the streak starts again
    assert alarm.on
    late = at[-1] + pd.Timedelta(hours=1)
    assert [alarm.update(0.1, late), alarm.update(0.1, late + pd.Timedelta(hours=1))] == [
        None,
        "cleared",
    ]


def test_an_alarm_state_survives_a_restart() -> None:
    alarm = Alarm(enter=0.5, exit=0.2, persistence=3)
    alarm.update(0.9), alarm.update(0.9)
    again = Alarm(enter=0.5, exit=0.2, persistence=3)
    again.restore(alarm.state())
    assert again.update(0.9) == "raised"
    t0 = pd.Timestamp("2025-01-02 14:30", tz="UTC")
    held = Alarm(enter=0.5, exit=0.2, persistence=1, hold=600)
    held.update(0.9, t0)
    restarted = Alarm(enter=0.5, exit=0.2, persistence=1, hold=600)
    restarted.restore(json.loads(json.dumps(held.state())))  # as stored with a check
    assert restarted.update(0.9, t0 + pd.Timedelta(minutes=10)) == "raised"


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"psi_enter": 0.1, "psi_exit": 0.2}, "psi_exit=0.2 is above psi_enter=0.1"),
        ({"ks_enter": 0.1, "ks_exit": 0.3}, "ks_exit=0.3 is above ks_enter=0.1"),
        ({"drift_share": 0.8, "severe_share": 0.5}, "drift_share=0.8 is above severe_share"),
    ],
)
def test_monitor_config_refuses_inverted_thresholds(fields, match) -> None:
    with pytest.raises((ConfigError, ValueError), match=match):
        MonitorConfig(**fields)


def test_monitor_config_rejects_unknown_fields_and_reads_yaml(tmp_path) -> None:
    with pytest.raises(ValueError, match="window_minute"):
        MonitorConfig(window_minute=30)
    path = tmp_path / "monitor.yaml"
    path.write_text("monitor:\n  window_minutes: 30\n  persistence: 4\n")
    assert MonitorConfig.from_yaml(path) == MonitorConfig(window_minutes=30, persistence=4)
