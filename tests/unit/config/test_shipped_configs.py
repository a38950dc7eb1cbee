"""Every config file the repository ships parses, and the examples the docs point at agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from nexus.config import read_yaml
from nexus.features import FeatureSpec
from nexus.sources.simulator import SimulatorConfig
from nexus.training import ExperimentConfig

CONFIGS = Path(__file__).parents[3] / "configs"


@pytest.mark.parametrize("path", sorted((CONFIGS / "features").glob("*.yaml")), ids=str)
def test_feature_specs_parse(path: Path) -> None:
    spec = FeatureSpec.from_yaml(path)
    assert spec.names()


@pytest.mark.parametrize("path", sorted((CONFIGS / "simulator").glob("*.yaml")), ids=str)
def test_simulator_configs_parse(path: Path) -> None:
    SimulatorConfig.model_validate(read_yaml(path))


@pytest.mark.parametrize("path", sorted((CONFIGS / "experiments").glob("*.yaml")), ids=str)
def test_experiments_parse_and_name_a_shipped_spec(path: Path) -> None:
    experiment = ExperimentConfig.from_yaml(path)
    if experiment.features != "default":
        assert (CONFIGS.parent / experiment.features).is_file()


def test_the_news_example_reads_news_and_the_simulated_cpi() -> None:
    spec = FeatureSpec.from_yaml(CONFIGS / "features" / "news.yaml")
    bars_only = FeatureSpec.from_yaml(CONFIGS / "features" / "default.yaml")
    assert spec.names()[: len(bars_only.names())] == bars_only.names()
    assert spec.news is not None
    assert spec.macro is not None
    assert spec.macro.series == ("SIM_CPI",)
    market = SimulatorConfig.model_validate(read_yaml(CONFIGS / "simulator" / "news-drift.yaml"))
    assert market.params.news_drift > 0
    assert market.alpha == 0


def test_the_shipped_monitor_config_states_the_defaults() -> None:
    from nexus.monitoring import MonitorConfig

    assert MonitorConfig.from_yaml(CONFIGS / "monitor" / "default.yaml") == MonitorConfig()
