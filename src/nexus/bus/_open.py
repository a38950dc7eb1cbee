"""Build the bus a URL names."""

from __future__ import annotations

from nexus.bus._inprocess import InProcessBus
from nexus.bus._protocol import Bus
from nexus.bus._redis import RedisBus
from nexus.errors import ConfigError

__all__ = ["open_bus"]


def open_bus(url: str | None, *, prefix: str = "nexus") -> Bus:
    """Return the bus ``url`` names (``Settings.bus_url``, ``NEXUS_BUS_URL``), not yet started.

    Parameters
    ----------
    url : str or None
        None, ``""`` or ``memory://``: an :class:`~nexus.bus.InProcessBus`
        (one process). ``redis://host:6379/0``, ``rediss://...`` or
        ``unix:///path.sock``: a :class:`~nexus.bus.RedisBus`.
    prefix : str
        The Redis channel prefix (ignored by the in-process bus).

    Raises
    ------
    ConfigError
        If ``url`` has another scheme.

    Examples
    --------
    >>> type(open_bus(None)).__name__, type(open_bus("redis://127.0.0.1:6379/0")).__name__
    ('InProcessBus', 'RedisBus')
    """
    if url is None or url.strip() == "" or url.strip().startswith("memory://"):
        return InProcessBus()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBus(url, prefix=prefix)
    raise ConfigError(
        f"bus URL {url!r} has an unknown scheme",
        fix="use redis://127.0.0.1:6379/0 (NEXUS_BUS_URL), or leave it unset for the "
        "in-process bus",
    )
