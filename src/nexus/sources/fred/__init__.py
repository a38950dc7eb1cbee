"""Macro series from FRED (St. Louis Fed), with every vintage, for point-in-time features.

Each observation comes once per vintage: the value a period had from the day
it was published until the next revision. Nexus stores them all, with
``realtime_start`` the moment each vintage became public (the end of FRED's
day in New York, or the configured ``release_time``), so a read "as of" a time
sees only what was known then. See :mod:`nexus.sources.fred._parse` for the
payload and the rules, and ``REASONS`` for the reject reasons.
"""

from nexus.sources.fred._config import FredConfig, resolve_api_key
from nexus.sources.fred._parse import REASONS, parse_observations, public_at
from nexus.sources.fred._source import FredSource

__all__ = [
    "REASONS",
    "FredConfig",
    "FredSource",
    "parse_observations",
    "public_at",
    "resolve_api_key",
]
