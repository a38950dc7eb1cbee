"""The event bus between stages: in-process asyncio by default.

The ingest stage publishes :class:`BarsClosed` on :data:`TOPIC_BARS` after it
has stored the bars; the live engine subscribes.
"""

from nexus.bus._events import TOPIC_BARS, BarsClosed
from nexus.bus._inprocess import InProcessBus, Subscription

__all__ = ["TOPIC_BARS", "BarsClosed", "InProcessBus", "Subscription"]
