"""Query parameters shared by the routes: symbol lists, time ranges, known symbols."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from datetime import UTC, datetime

import pandas as pd

from nexus.api._errors import HTTPError
from nexus.api._state import AppState
from nexus.errors import ConfigError, UnknownSymbolError

__all__ = [
    "MAX_SYMBOLS",
    "as_utc",
    "known_symbols",
    "point_in_time",
    "require_symbols",
    "split_symbols",
    "time_range",
]

MAX_SYMBOLS = 1000
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def split_symbols(text: str | None) -> list[str] | None:
    """``"A, B,,C"`` -> ``["A", "B", "C"]``; None or blank -> None (every symbol).

    Raises
    ------
    ConfigError
        If more than :data:`MAX_SYMBOLS` symbols are named.

    Examples
    --------
    >>> split_symbols(" SIM00, SIM01,,"), split_symbols("")
    (['SIM00', 'SIM01'], None)
    """
    if text is None:
        return None
    symbols = list(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    if len(symbols) > MAX_SYMBOLS:
        raise ConfigError(
            f"symbols names {len(symbols)} symbols, more than {MAX_SYMBOLS}",
            fix="ask for fewer symbols at a time, or leave symbols out for every symbol",
        )
    return symbols or None


def known_symbols(state: AppState) -> set[str]:
    """Every symbol of the store's instrument table and stored series."""
    store = state.store
    return set(store.symbols()["symbol"].astype(str)) | set(store.series()["symbol"].astype(str))


def require_symbols(state: AppState, symbols: Iterable[str]) -> None:
    """Answer 404 naming the unknown ones unless every symbol is known.

    The stream hub's symbols are checked first; the store is read only on a miss.
    """
    missing = [s for s in symbols if not state.hub.knows(s)]
    if not missing:
        return
    stored = known_symbols(state)
    missing = [s for s in missing if s not in stored]
    if missing:
        names = ", ".join(repr(s) for s in missing[:10])
        close = difflib.get_close_matches(missing[0], sorted(stored), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise HTTPError(
            404,
            UnknownSymbolError(
                f"unknown symbol {names}" if len(missing) == 1 else f"unknown symbols {names}",
                fix=f"{hint}GET /api/symbols lists the symbols this server knows",
            ),
        )


def _utc(value: datetime | None, name: str) -> pd.Timestamp | None:
    if value is None:
        return None
    stamp = value if value.tzinfo else value.replace(tzinfo=UTC)
    if not _EARLIEST <= stamp <= _LATEST:
        raise ConfigError(
            f"{name}={value.isoformat()} is out of range",
            fix="use an ISO 8601 time between 1970 and 2200, e.g. 2025-01-02T14:30:00Z",
        )
    return pd.Timestamp(stamp).tz_convert("UTC")


def as_utc(value: datetime | None, name: str) -> pd.Timestamp | None:
    """``value`` as a UTC timestamp (naive means UTC); None stays None.

    Raises
    ------
    ConfigError
        If ``value`` is out of range (before 1970 or after 2200); ``name`` names it.
    """
    return _utc(value, name)


def time_range(
    start: datetime | None, end: datetime | None
) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """``start`` and ``end`` as UTC timestamps (naive means UTC); ``start < end``.

    Raises
    ------
    ConfigError
        If either is out of range or ``start`` is not before ``end``.
    """
    lo, hi = _utc(start, "start"), _utc(end, "end")
    if lo is not None and hi is not None and lo >= hi:
        raise ConfigError(
            f"start={lo.isoformat()} is not before end={hi.isoformat()}",
            fix="give a start earlier than the end (the range is start <= ts < end)",
        )
    return lo, hi


def point_in_time(value: datetime | None, name: str) -> pd.Timestamp:
    """``value`` as a UTC timestamp (naive means UTC), or now when it is None.

    Raises
    ------
    ConfigError
        If ``value`` is out of range (before 1970 or after 2200); ``name`` names it.

    Examples
    --------
    >>> point_in_time(datetime(2025, 1, 2, 14, 30), "as_of").isoformat()
    '2025-01-02T14:30:00+00:00'
    """
    stamp = as_utc(value, name)
    return pd.Timestamp.now(tz="UTC") if stamp is None else stamp
