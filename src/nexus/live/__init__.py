"""The live engine: new bar -> features -> ONNX inference x2 -> decision -> risk gate -> publish.

:class:`LiveEngine` serves each slot's champion (ONNX Runtime, batched across
symbols) and turns every new bar time into stored predictions and dual-confirmed
recommendations (:func:`decide`), published on the bus for the API. See
``docs/live.md``.

>>> from nexus.live import LiveEngine, decide
"""

from nexus.live._champions import Champion, ConfigWatcher, load_champions, threshold_of
from nexus.live._decision import decide, warming_up
from nexus.live._engine import LiveEngine
from nexus.live._metrics import LiveMetrics
from nexus.live._windows import FeatureWindows

__all__ = [
    "Champion",
    "ConfigWatcher",
    "FeatureWindows",
    "LiveEngine",
    "LiveMetrics",
    "decide",
    "load_champions",
    "threshold_of",
    "warming_up",
]
