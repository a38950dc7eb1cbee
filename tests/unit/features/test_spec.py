"""The declarative feature spec: YAML, defaults, warm-ups and readable errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from nexus.errors import ConfigError, SourceNotFoundError
from nexus.features import SEED_DECAY, FeaturePipeline, FeatureSpec, RsiParams
from nexus.features._warmup import decay_bars, ema_rho, ema_warmup, wilder_rho, wilder_warmup

DEFAULT_YAML = Path(__file__).parents[3] / "configs" / "features" / "default.yaml"

# every feature the issue asks for, by column name
REQUIRED = [
    *("ret_1", "ret_5", "ret_15", "ret_60", "hl_range", "close_pos", "rsi_14"),
    *("macd", "macd_signal", "macd_hist", "ema_dist_12", "ema_dist_26", "bb_pctb", "bb_width"),
    *("atr_14", "rvol_15", "rvol_60", "rvol_15_z", "rvol_60_z", "volume_z", "volume_imbalance"),
    *("minute_sin", "minute_cos", "hour_sin", "hour_cos", "dow_sin", "dow_cos"),
    *("month_sin", "month_cos", "mkt_ret", "beta_60", "corr_60"),
    *("ret_1_lag1", "ret_1_lag2", "ret_1_lag5"),
]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return path


def test_default_yaml_is_the_default_spec() -> None:
    spec = FeatureSpec.from_yaml(DEFAULT_YAML)
    assert spec == FeatureSpec.default()
    assert spec.config_id == FeatureSpec.default().config_id
    names = spec.names()
    assert len(names) == len(set(names))
    assert set(REQUIRED) <= set(names)


def test_yaml_round_trip(tmp_path: Path) -> None:
    spec = FeatureSpec.default()
    assert FeatureSpec.from_yaml(_write(tmp_path, spec.to_yaml())) == spec


def test_defaults_fill_in_and_order_is_canonical(tmp_path: Path) -> None:
    text = "features:\n  rsi:\n  log_return: {periods: [3, 1]}\nlags: {rsi_14: [2]}\n"
    spec = FeatureSpec.from_yaml(_write(tmp_path, text))
    assert spec.features.rsi == RsiParams()
    assert spec.names() == ("ret_3", "ret_1", "rsi_14", "rsi_14_lag2")
    assert spec.warmups() == {"ret_3": 3, "ret_1": 1, "rsi_14": 418, "rsi_14_lag2": 420}


def test_unknown_feature_names_it_and_lists_the_known(tmp_path: Path) -> None:
    path = _write(tmp_path, "features:\n  rsii: {}\n")
    with pytest.raises(ConfigError) as err:
        FeatureSpec.from_yaml(path)
    text = str(err.value)
    assert "did you mean 'rsi'" in text
    assert "log_return, hl_range, close_position, rsi, macd" in text
    assert str(path) in text
    with pytest.raises(ValidationError, match="unknown feature 'rsii'"):
        FeatureSpec(features={"rsii": {}})


def test_unknown_parameter_names_it_and_lists_the_known() -> None:
    with pytest.raises(ConfigError, match=r"feature 'macd': 'fats'.*fast, slow, signal"):
        FeatureSpec.parse({"features": {"macd": {"fats": 3}}})
    with pytest.raises(ConfigError, match=r"'x'.*takes no parameters"):
        FeatureSpec.parse({"features": {"hl_range": {"x": 1}}})
    with pytest.raises(ConfigError, match="unknown feature spec section 'lag'"):
        FeatureSpec.parse({"features": {"rsi": {}}, "lag": {}})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"features": {"rsi": {}}, "lags": {"rsi_41": [1]}}, "unknown feature column 'rsi_41'"),
        ({"features": {"rsi": {}}, "lags": {"rsi_14": [0]}}, "greater than or equal to 1"),
        ({"features": {"rsi": {}}, "lags": {"rsi_14": [1, 1]}}, "repeats a value"),
        ({"features": {"rsi": {"periods": [1]}}}, "greater than or equal to 2"),
        ({"features": {"log_return": {"periods": [5, 5]}}}, "repeats a value"),
        ({"features": {"macd": {"fast": 26, "slow": 12}}}, "fast=26 is not below slow=12"),
        ({"features": {"calendar": {"timezone": "Mars/Base"}}}, "not an IANA time zone"),
        ({"features": {"calendar": {"fields": ["minute_of_day"]}}}, "fields.0"),
        ({"features": {"bollinger": {"width": -1}}}, "greater than 0"),
        ({"features": {}}, "enables no feature"),
        ({"features": {"rsi": "on"}}, "rsi"),
    ],
)
def test_bad_values_raise_one_readable_line(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        FeatureSpec.parse(data)
    assert "\n" not in str(err.value)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFoundError, match="does not exist"):
        FeatureSpec.from_yaml(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        FeatureSpec.from_yaml(_write(tmp_path, "features: [rsi: {\n"))


def test_smoothed_warmups_follow_the_seed_decay() -> None:
    for p in (2, 3, 12, 26, 50):
        assert ema_rho(p) ** (ema_warmup(p) - (p - 1)) <= SEED_DECAY
        assert ema_rho(p) ** (ema_warmup(p) - p) > SEED_DECAY  # and not longer than needed
        assert wilder_rho(p) ** (wilder_warmup(p) - p) <= SEED_DECAY
    assert decay_bars(0.0) == 0


def test_timezone_is_configurable() -> None:
    spec = FeatureSpec.parse({"features": {"calendar": {"timezone": "Asia/Tokyo"}}})
    assert spec.features.calendar.timezone == "Asia/Tokyo"
    assert spec.names() == tuple(
        f"{f}_{p}" for f in ("minute", "hour", "dow", "month") for p in ("sin", "cos")
    )


def test_pipeline_stores_the_spec_unchanged_and_reports_warmups() -> None:
    spec = FeatureSpec.default()
    pipe = FeaturePipeline(spec)
    assert pipe.spec is spec
    assert FeaturePipeline().spec is None
    assert FeaturePipeline().names == spec.names()
    assert pipe.names == spec.names()
    assert pipe.warmup == max(spec.warmups().values()) == 449
    assert pipe.warmups["rvol_60_z"] == 60 + 390 - 1
    assert pipe.warmups["rsi_14_lag1"] == pipe.warmups["rsi_14"] + 1


def test_pipeline_rejects_what_is_not_a_spec() -> None:
    with pytest.raises(ConfigError, match="not a FeatureSpec"):
        FeaturePipeline({"features": {}}).names  # noqa: B018
