"""Real market data that installed packages ship, loaded without network.

``GOOG`` and ``EURUSD`` come from ``backtesting.test``; ``SPX`` and ``NASDAQ``
from ``arch.data``. What each holds and what its timestamps mean is documented
in :mod:`nexus.sources.samples._registry`.
"""

from nexus.sources.samples._config import SamplesConfig
from nexus.sources.samples._source import SampleInfo, SamplesSource, available_samples

__all__ = ["SampleInfo", "SamplesConfig", "SamplesSource", "available_samples"]
