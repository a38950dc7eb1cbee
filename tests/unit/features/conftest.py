"""Shared bars for the feature tests: a small simulated market with realistic gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nexus.sources.simulator import SimulatorConfig, simulate

# 4 symbols x 3 sessions of 1-minute bars: 1170 bars a symbol, more than the default
# spec's longest warm-up (449), with two overnight gaps.
MARKET = SimulatorConfig(symbols=4, sectors=2, sessions=3, interval="1m", seed=5)


def with_holes(bars: pd.DataFrame) -> pd.DataFrame:
    """``bars`` with SIM02 missing every 7th bar and a 30-bar stretch, SIM03 missing 3 bars."""
    pos = bars.groupby("symbol").cumcount().to_numpy()
    sym = bars["symbol"].to_numpy()
    holes = ((sym == "SIM02") & ((pos % 7 == 3) | ((pos >= 600) & (pos < 630)))) | (
        (sym == "SIM03") & np.isin(pos, [100, 500, 900])
    )
    return bars[~holes].reset_index(drop=True)


@pytest.fixture(scope="session")
def market_bars() -> pd.DataFrame:
    """The simulated bars, complete, sorted by symbol then ts."""
    return simulate(MARKET).bars


@pytest.fixture(scope="session")
def holey_bars(market_bars: pd.DataFrame) -> pd.DataFrame:
    """The simulated bars with some symbols missing at some timestamps."""
    return with_holes(market_bars)
