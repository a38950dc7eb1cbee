"""Calling yfinance, and telling its failures apart.

yfinance 1.7 logs most errors and returns an empty frame unless told to
raise: ``Ticker.history(raise_errors=True)`` still works but is deprecated
(it emits a ``DeprecationWarning``); the replacement is the global
``yfinance.config.debug.hide_exceptions = False``, which also makes the time
zone look-up raise network errors instead of reporting the symbol as
"possibly delisted; no timezone found". :func:`yfinance_raising` sets it for
the duration of one call.

Failures are sorted into:

``unknown``
    Yahoo does not know the symbol: ``YFTzMissingError`` ("possibly
    delisted; no timezone found") or Yahoo's own "No data found, symbol may be
    delisted" / "Not Found".
``no_data``
    The symbol exists but Yahoo has no bars in the requested range
    ("possibly delisted; no price data found (1d 2024-06-01 -> ...)").
``invalid``
    The request cannot succeed: a bad period, or an intraday range older than
    Yahoo keeps ("... data not available for startTime=...").
``transient``
    Anything else (network errors, rate limits, Yahoo down): worth retrying.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Literal

import pandas as pd

__all__ = ["Failure", "classify", "looks_failed", "yfinance_history", "yfinance_raising"]

Failure = Literal["unknown", "no_data", "invalid", "transient"]

_UNKNOWN = ("no timezone found", "symbol may be delisted", "not found", "no data found")
_NO_DATA = ("no price data found",)
_INVALID = ("is invalid, must be one of", "data not available for starttime", "requested range")


@contextlib.contextmanager
def yfinance_raising() -> Iterator[None]:
    """Make yfinance raise its errors (instead of logging them) inside the block."""
    import yfinance

    debug = yfinance.config.debug
    hidden = debug.hide_exceptions
    debug.hide_exceptions = False
    try:
        yield
    finally:
        debug.hide_exceptions = hidden


def yfinance_history(symbol: str, **kwargs: object) -> pd.DataFrame:
    """``yfinance.Ticker(symbol).history(**kwargs)``, raising yfinance's errors.

    Parameters
    ----------
    symbol : str
        A Yahoo ticker.
    **kwargs
        Passed to ``Ticker.history`` (``interval``, ``start``, ``end``,
        ``period``, ``auto_adjust``, ``actions``).

    Returns
    -------
    DataFrame
        yfinance's frame (see :mod:`nexus.sources.yahoo._parse`).
    """
    import yfinance

    with yfinance_raising():
        return yfinance.Ticker(symbol).history(**kwargs)


def classify(exc: BaseException) -> Failure:
    """Which kind of failure ``exc`` is (see the module docstring)."""
    text = str(exc).lower()
    if type(exc).__name__ == "YFTzMissingError" or any(s in text for s in _UNKNOWN):
        return "unknown"
    if any(s in text for s in _NO_DATA):
        return "no_data"
    if type(exc).__name__ == "YFInvalidPeriodError" or any(s in text for s in _INVALID):
        return "invalid"
    return "transient"


def looks_failed(frame: object) -> bool:
    """True for what yfinance returns after swallowing an error.

    That is ``None``, a non-frame, or its ``utils.empty_df()``: no rows and no
    ``Dividends`` column (a successful ``actions=True`` call always has one).
    """
    if not isinstance(frame, pd.DataFrame):
        return True
    return frame.empty and "Dividends" not in frame.columns
