"""The built-in market simulator: a deterministic multi-asset market with a planted edge.

A sector factor model with Student-t shocks and GARCH volatility, intraday U-shapes,
overnight gaps, calm and turbulent regimes, news that moves prices, splits and
dividends, and a documented predictable component of strength ``alpha``
(``alpha = 0`` is a martingale); a :class:`RegimeShift` changes the edge or the
volatility from a given session on. See ``docs/simulator.md`` and
:mod:`nexus.sources.simulator._market` for the model.

>>> from nexus.sources.simulator import SimulatorConfig, simulate
>>> market = simulate(SimulatorConfig(symbols=4, sectors=2, sessions=5, interval="1d"))
>>> len(market.bars), list(market.truth.columns)
(20, ['symbol', 'ts', 'drift', 'vol', 'signal', 'jump', 'gap', 'ret'])
"""

from nexus.sources.simulator._config import MarketParams, RegimeShift, SimulatorConfig
from nexus.sources.simulator._market import SimulatedMarket, simulate
from nexus.sources.simulator._source import SimulatorSource

__all__ = [
    "MarketParams",
    "RegimeShift",
    "SimulatedMarket",
    "SimulatorConfig",
    "SimulatorSource",
    "simulate",
]
