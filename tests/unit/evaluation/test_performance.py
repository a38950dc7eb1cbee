"""Return metrics, drawdowns and periods per year."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nexus.domain import Interval
from nexus.errors import ConfigError
from nexus.evaluation import drawdown, infer_interval, performance_metrics, periods_per_year


def test_metrics_by_hand() -> None:
    r = np.array([0.1, -0.2, 0.05, 0.1, -0.05])
    m = performance_metrics(r, 4)
    wealth = 1.1 * 0.8 * 1.05 * 1.1 * 0.95
    assert m["total_return"] == pytest.approx(wealth - 1)
    assert m["cagr"] == pytest.approx(wealth ** (4 / 5) - 1)
    assert m["sharpe"] == pytest.approx(r.mean() / r.std(ddof=1) * 2)
    downside = np.sqrt((0.2**2 + 0.05**2) / 5)
    assert m["sortino"] == pytest.approx(r.mean() * 4 / (downside * 2))
    assert m["max_drawdown"] == pytest.approx(-0.2)  # 1.1 -> 0.88
    assert m["calmar"] == pytest.approx(m["cagr"] / 0.2)


def test_drawdown_and_its_longest_duration() -> None:
    # wealth 1.0 -> 0.9, 0.95, 1.01 (recovered), 0.99, 1.0, 0.98, 1.02
    wealth = np.array([0.9, 0.95, 1.01, 0.99, 1.0, 0.98, 1.02])
    r = wealth / np.r_[1.0, wealth[:-1]] - 1
    dd = drawdown(r)
    assert dd[0] == pytest.approx(-0.1)
    assert dd[2] == 0.0
    assert dd[4] == pytest.approx(1.0 / 1.01 - 1)
    assert performance_metrics(r, 252)["max_drawdown_bars"] == 3  # bars 3, 4 and 5 below 1.01


def test_no_drawdown_gives_nan_calmar() -> None:
    m = performance_metrics(np.array([0.01, 0.02, 0.0]), 252)
    assert m["max_drawdown"] == 0.0
    assert np.isnan(m["calmar"])
    assert m["max_drawdown_bars"] == 0


def test_periods_per_year_from_the_calendar() -> None:
    days = pd.date_range("2023-01-03", "2024-12-31", freq="B", tz="UTC")
    assert periods_per_year(days) == (250 + 252) / 2  # XNYS sessions in 2023 and 2024
    assert periods_per_year(days, calendar="24/7") == 365.5
    five = pd.date_range("2024-03-04 14:30", periods=10, freq="5min", tz="UTC")
    assert infer_interval(five) is Interval.M5
    assert periods_per_year(five) == 252 * 78 - 3 * (78 - 42)  # three 13:00 early closes


def test_an_unknown_spacing_is_refused() -> None:
    with pytest.raises(ConfigError, match="no Nexus interval"):
        infer_interval(pd.date_range("2024-01-01", periods=5, freq="7min", tz="UTC"))
    with pytest.raises(ConfigError, match="fewer than 2"):
        infer_interval(pd.DatetimeIndex(["2024-01-01"], tz="UTC"))
