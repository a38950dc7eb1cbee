"""The one interface every store implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

import pandas as pd

from nexus.domain import Action, Interval

__all__ = ["Adjust", "IngestRecord", "Store", "WriteBatch", "WriteResult"]

Adjust = Literal["none", "splits", "all"]
"""How bars are adjusted at read time: not at all, for splits, or for splits and dividends."""


@dataclass(frozen=True, slots=True)
class WriteBatch:
    """Frames written together, in one transaction.

    Each frame is optional and uses the columns of :mod:`nexus.domain`
    (``bars_frame``, ``actions_frame``, ``news_frame``, ``macro_frame``,
    ``quarantine_frame``, ``predictions_frame``, ``recommendations_frame``,
    ``alerts_frame``, ``drift_frame``).
    ``symbols`` has columns ``symbol, calendar, kind, description, source``.
    """

    bars: pd.DataFrame | None = None
    corporate_actions: pd.DataFrame | None = None
    news: pd.DataFrame | None = None
    macro: pd.DataFrame | None = None
    quarantine: pd.DataFrame | None = None
    symbols: pd.DataFrame | None = None
    predictions: pd.DataFrame | None = None
    recommendations: pd.DataFrame | None = None
    alerts: pd.DataFrame | None = None
    drift: pd.DataFrame | None = None


@dataclass(frozen=True, slots=True)
class WriteResult:
    """How many rows of each kind were new.

    Rows whose key was already stored are left as they were and not counted.
    """

    bars: int = 0
    corporate_actions: int = 0
    news: int = 0
    macro: int = 0
    quarantine: int = 0
    symbols: int = 0
    predictions: int = 0
    recommendations: int = 0
    alerts: int = 0
    drift: int = 0

    def __add__(self, other: WriteResult) -> WriteResult:
        return WriteResult(
            *(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestRecord:
    """One row of the ingest log: what was loaded, from where, and how it went."""

    run_id: str
    source: str
    target: str
    started_at: datetime
    finished_at: datetime | None = None
    status: Literal["running", "ok", "failed"] = "running"
    checksum: str = ""
    params: dict = field(default_factory=dict)
    n_bars: int = 0
    n_rejected: int = 0
    n_flagged: int = 0
    message: str = ""


@runtime_checkable
class Store(Protocol):
    """Where Nexus keeps market data.

    Raw bars are never rewritten: writing a bar whose (symbol, interval, ts)
    is already stored leaves the stored one unchanged, so every write is
    idempotent; so are predictions, keyed (symbol, interval, ts, model), and
    recommendations, keyed (symbol, interval, ts), alerts, keyed id, and drift
    checks, keyed (slot, at). Adjusted prices are computed at read time from the
    stored corporate actions. All timestamps are UTC.

    A store may be used from several threads at once: reads run beside a write
    and see either none or all of it.
    """

    backend: str

    def close(self) -> None:
        """Release the connection."""

    def write(self, batch: WriteBatch) -> WriteResult:
        """Write every frame of ``batch`` in one transaction; return the new-row counts."""

    def record_ingest(self, record: IngestRecord) -> None:
        """Insert or update the ingest-log row ``record.run_id``."""

    def read_bars(
        self,
        symbols: Sequence[str],
        interval: Interval | str,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        adjust: Adjust = "none",
    ) -> pd.DataFrame:
        """Bars with ``start <= ts < end``, sorted by symbol then ts, columns ``BAR_COLUMNS``."""

    def last_bars(self, symbols: Sequence[str], interval: Interval | str, n: int) -> pd.DataFrame:
        """The last ``n`` raw bars of each symbol, sorted by symbol then ts."""

    def last_timestamps(
        self, interval: Interval | str, symbols: Sequence[str] | None = None
    ) -> dict[str, pd.Timestamp]:
        """The newest stored bar time per symbol (symbols with no bars are absent)."""

    def series(self) -> pd.DataFrame:
        """One row per stored (symbol, interval): ``source, first_ts, last_ts, n_bars``."""

    def symbols(self) -> pd.DataFrame:
        """The instrument table: ``symbol, calendar, kind, description, source``."""

    def read_corporate_actions(self, symbols: Sequence[str] | None = None) -> pd.DataFrame:
        """Corporate actions, columns ``ACTION_COLUMNS``, sorted by symbol then ex_date."""

    def read_news(
        self,
        symbols: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame:
        """News available in ``[start, end)`` mentioning any of ``symbols``."""

    def read_macro(
        self, series_ids: Sequence[str] | None = None, *, start: datetime | None = None
    ) -> pd.DataFrame:
        """Every stored vintage of the given macro series, or those with ``realtime_start``
        at or after ``start``."""

    def read_quarantine(
        self, *, limit: int | None = None, disposition: str | None = None
    ) -> pd.DataFrame:
        """Quarantined rows, newest first, with ``ingested_at``."""

    def quarantine_counts(self) -> pd.DataFrame:
        """Counts by ``kind, source, reason, disposition``."""

    def ingest_log(self, *, limit: int | None = None) -> pd.DataFrame:
        """The ingest log, newest first."""

    def latest_bars(
        self, symbols: Sequence[str] | None = None, interval: Interval | str = Interval.M1
    ) -> pd.DataFrame:
        """Each symbol's newest raw bar (every stored symbol when ``symbols`` is None),
        columns ``BAR_COLUMNS``, sorted by symbol."""

    def read_predictions(
        self,
        symbols: Sequence[str] | None = None,
        interval: Interval | str | None = None,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Predictions with ``start <= ts < end``, columns ``PREDICTION_COLUMNS``, sorted by
        ts, symbol, interval, model; ``limit`` keeps the newest ``limit`` rows."""

    def latest_predictions(
        self, symbols: Sequence[str] | None = None, interval: Interval | str | None = None
    ) -> pd.DataFrame:
        """Each (symbol, model)'s newest prediction, sorted by symbol then model."""

    def read_recommendations(
        self,
        symbols: Sequence[str] | None = None,
        interval: Interval | str | None = None,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        action: Action | str | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Recommendations with ``start <= ts < end``, columns ``RECOMMENDATION_COLUMNS``,
        sorted by ts, symbol, interval; ``limit`` keeps the newest ``limit`` rows."""

    def latest_recommendations(
        self, symbols: Sequence[str] | None = None, interval: Interval | str | None = None
    ) -> pd.DataFrame:
        """Each symbol's newest recommendation, sorted by symbol."""

    def read_alerts(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        level: str | None = None,
        source: str | None = None,
        slot: str | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Alerts with ``start <= at < end``, columns ``ALERT_COLUMNS``, sorted by at then
        id; ``limit`` keeps the newest ``limit`` rows."""

    def read_drift(
        self,
        slots: Sequence[str] | str | None = None,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Drift checks with ``start <= at < end``, columns ``DRIFT_COLUMNS``, sorted by at
        then slot; ``limit`` keeps the newest ``limit`` rows."""

    def latest_drift(self, slots: Sequence[str] | str | None = None) -> pd.DataFrame:
        """Each slot's newest drift check, sorted by slot."""

    def asof_bars(self, left: pd.DataFrame, interval: Interval | str) -> pd.DataFrame:
        """For each ``(symbol, ts)`` row of ``left``, the last bar that had closed by ``ts``."""

    def asof_macro(
        self, times: Sequence[datetime] | pd.Series, series_ids: Sequence[str]
    ) -> pd.DataFrame:
        """For each time and series, the newest value that had been published by then."""
