"""The event bus between stages: in-process asyncio by default, Redis between processes.

The ingest stage publishes :class:`BarsClosed` on :data:`TOPIC_BARS` after it
has stored the bars; the live engine subscribes, and publishes
:class:`SignalsReady` and :class:`ModelsChanged`, which the API streams.
:func:`open_bus` builds the bus ``NEXUS_BUS_URL`` names: an
:class:`InProcessBus` when it is unset, a :class:`RedisBus` for ``redis://``.
Events cross processes as :func:`encode` JSON.
"""

from nexus.bus._codec import EVENT_TYPES, decode, encode
from nexus.bus._events import (
    TOPIC_ALERTS,
    TOPIC_BARS,
    TOPIC_MODELS,
    TOPIC_SIGNALS,
    AlertRaised,
    BarsClosed,
    ModelsChanged,
    SignalsReady,
)
from nexus.bus._inprocess import InProcessBus, Subscription
from nexus.bus._open import open_bus
from nexus.bus._protocol import Bus
from nexus.bus._redis import RedisBus
from nexus.errors import BusError, BusUnavailableError

__all__ = [
    "EVENT_TYPES",
    "TOPIC_ALERTS",
    "TOPIC_BARS",
    "TOPIC_MODELS",
    "TOPIC_SIGNALS",
    "AlertRaised",
    "BarsClosed",
    "Bus",
    "BusError",
    "BusUnavailableError",
    "InProcessBus",
    "ModelsChanged",
    "RedisBus",
    "SignalsReady",
    "Subscription",
    "decode",
    "encode",
    "open_bus",
]
