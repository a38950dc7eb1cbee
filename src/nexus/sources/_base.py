"""The interface every data source implements.

A source yields :class:`SourceBatch` values: bars and whatever else it knows
(corporate actions, news, macro observations, instrument metadata) in the
column layouts of :mod:`nexus.domain`, plus the raw rows it could not parse
(``rejects``), which the ingest stage quarantines. Sources never write to a
store and never drop a row silently.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import pandas as pd

__all__ = ["REJECT_COLUMNS", "LiveSource", "Source", "SourceBatch", "rejects_frame"]

REJECT_COLUMNS = ("symbol", "interval", "ts", "reason", "detail", "payload")
"""A row a source could not turn into a domain value. ``payload`` is the raw
row as JSON; ``symbol``, ``interval`` and ``ts`` are filled where known."""


def rejects_frame(rows: list[dict] | pd.DataFrame) -> pd.DataFrame:
    """Return ``rows`` as a frame with exactly :data:`REJECT_COLUMNS`."""
    frame = pd.DataFrame(rows)
    for col in REJECT_COLUMNS:
        if col not in frame.columns:
            frame[col] = None
    frame = frame.loc[:, list(REJECT_COLUMNS)]
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame


@dataclass(frozen=True, slots=True)
class SourceBatch:
    """One unit of work from a source, stored in one transaction.

    Parameters
    ----------
    label : str
        What the batch holds, for progress reports (a symbol, a file name).
    bars : DataFrame, optional
        ``BAR_COLUMNS`` (see :func:`nexus.domain.bars_frame`).
    corporate_actions, news, macro : DataFrame, optional
        ``ACTION_COLUMNS``, ``NEWS_COLUMNS``, ``MACRO_COLUMNS``.
    symbols : DataFrame, optional
        ``symbol, calendar, kind, description, source``.
    rejects : DataFrame, optional
        ``REJECT_COLUMNS``: rows that could not be parsed.
    """

    label: str
    bars: pd.DataFrame | None = None
    corporate_actions: pd.DataFrame | None = None
    news: pd.DataFrame | None = None
    macro: pd.DataFrame | None = None
    symbols: pd.DataFrame | None = None
    rejects: pd.DataFrame | None = None


@runtime_checkable
class Source(Protocol):
    """A finite source of history.

    ``name`` is what is recorded as ``source`` in the store. ``describe()``
    returns the parameters recorded in the ingest log. ``total()`` is the
    number of batches :meth:`fetch` will yield, when known, for progress bars.
    ``since`` maps symbols to their newest stored bar time; a source may use it
    to skip what is already stored (the ingest stage filters regardless).
    """

    name: str

    def describe(self) -> dict: ...

    def total(self) -> int | None: ...

    def fetch(
        self, *, since: Mapping[str, pd.Timestamp] | None = None
    ) -> Iterator[SourceBatch]: ...


@runtime_checkable
class LiveSource(Protocol):
    """A source that also streams new bars as they close."""

    name: str

    def stream(
        self, *, since: Mapping[str, pd.Timestamp] | None = None
    ) -> AsyncIterator[SourceBatch]: ...
