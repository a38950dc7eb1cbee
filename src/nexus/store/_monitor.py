"""Alerts and drift checks, the monitor's records: what both stores share.

Each table is described once (:data:`ALERTS`, :data:`DRIFT`); a store supplies
the two dialect-specific queries of :class:`MonitorReads`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import NamedTuple

import pandas as pd

from nexus.domain import (
    ALERT_COLUMNS,
    ALERT_LEVELS,
    DRIFT_COLUMNS,
    alerts_frame,
    drift_frame,
)
from nexus.errors import ConfigError
from nexus.store._common import as_utc_timestamp, check_limit, symbol_list

__all__ = [
    "ALERTS",
    "DRIFT",
    "MONITOR_TABLES",
    "MonitorReads",
    "MonitorTable",
    "alert_filters",
    "drift_filters",
    "quoted",
]


class MonitorTable(NamedTuple):
    """A table of the monitor's records, unique on ``key``, read in ``order``."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    order: tuple[str, ...]
    frame: Callable[[pd.DataFrame], pd.DataFrame]
    dtypes: dict[str, str]

    def cast(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Rows read back from the table, in the dtypes of :attr:`frame` (already checked
        when written, so not checked again)."""
        out = rows.loc[:, list(self.columns)].reset_index(drop=True)
        for col, dtype in self.dtypes.items():
            out[col] = out[col].astype(str) if dtype == "str" else out[col].astype(dtype)
        return out


_TS = "datetime64[us, UTC]"
ALERTS = MonitorTable(
    "alerts",
    ALERT_COLUMNS,
    ("id",),
    ("at", "id"),
    alerts_frame,
    {c: _TS if c == "at" else "str" for c in ALERT_COLUMNS},
)
DRIFT = MonitorTable(
    "drift",
    DRIFT_COLUMNS,
    ("slot", "at"),
    ("at", "slot"),
    drift_frame,
    {
        "at": _TS,
        "slot": "str",
        "version": "str",
        "bar_ts": _TS,
        "status": "str",
        **{c: "float64" for c in DRIFT_COLUMNS[5:13]},
        "n_window": "int64",
        "n_resolved": "int64",
        "details": "str",
    },
)
MONITOR_TABLES = {"alerts": ALERTS, "drift": DRIFT}
"""The monitor's tables by :class:`~nexus.store.WriteBatch` field name."""


def quoted(columns: Sequence[str]) -> str:
    """``columns`` as a quoted SQL list (``at`` is a keyword of DuckDB's grammar)."""
    return ", ".join(f'"{c}"' for c in columns)


def alert_filters(
    start: datetime | None = None,
    end: datetime | None = None,
    level: str | None = None,
    source: str | None = None,
    slot: str | None = None,
) -> dict[str, object]:
    """The filters of an alert read, by name, as query parameters (only those given).

    Raises
    ------
    ConfigError
        If ``level`` is not one of :data:`~nexus.domain.ALERT_LEVELS`.

    Examples
    --------
    >>> alert_filters(level="Warning", slot="lstm")
    {'level': 'warning', 'slot': 'lstm'}
    """
    if level is not None:
        level = str(level).strip().lower()
        if level not in ALERT_LEVELS:
            raise ConfigError(
                f"alert level {level!r} is not known",
                fix=f"use one of {', '.join(ALERT_LEVELS)}",
            )
    given = {
        "start": as_utc_timestamp(start),
        "end": as_utc_timestamp(end),
        "level": level,
        "source": None if source is None else str(source),
        "slot": None if slot is None else str(slot),
    }
    return {name: value for name, value in given.items() if value is not None}


def drift_filters(
    slots: Sequence[str] | str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[str, object]:
    """The filters of a drift read, by name, as query parameters (only those given).

    Examples
    --------
    >>> drift_filters("lstm")
    {'slots': ['lstm']}
    """
    given = {
        "slots": symbol_list(slots),
        "start": as_utc_timestamp(start),
        "end": as_utc_timestamp(end),
    }
    return {name: value for name, value in given.items() if value is not None}


class MonitorReads:
    """The public reads of alerts and drift checks, shared by both stores.

    A store supplies the two dialect-specific queries: ``_read_records(table,
    filters, limit)`` and ``_latest_drift(filters)``.
    """

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
        """Stored alerts with ``start <= at < end``, sorted by ``at`` then ``id``.

        Parameters
        ----------
        start, end : datetime, optional
            The half-open time range (naive times are taken as UTC).
        level : str, optional
            Keep one level: ``"info"``, ``"warning"`` or ``"critical"``.
        source, slot : str, optional
            Keep the alerts of one source, of one model slot.
        limit : int, optional
            Keep the newest ``limit`` rows (still in ascending order).

        Returns
        -------
        DataFrame
            Columns :data:`~nexus.domain.ALERT_COLUMNS`, ``at`` as ``datetime64[us, UTC]``.

        Raises
        ------
        ConfigError
            If ``level`` is unknown or ``limit`` negative.
        """
        filters = alert_filters(start, end, level, source, slot)
        return self._read_records(ALERTS, filters, check_limit(limit))

    def read_drift(
        self,
        slots: Sequence[str] | str | None = None,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Stored drift checks with ``start <= at < end``, sorted by ``at`` then ``slot``.

        Parameters
        ----------
        slots : str or sequence of str, optional
            Keep these model slots (default: every slot).
        start, end : datetime, optional
            The half-open time range (naive times are taken as UTC).
        limit : int, optional
            Keep the newest ``limit`` rows (still in ascending order).

        Returns
        -------
        DataFrame
            Columns :data:`~nexus.domain.DRIFT_COLUMNS` in the dtypes of ``drift_frame``.

        Raises
        ------
        ConfigError
            If ``limit`` is negative.
        """
        return self._read_records(DRIFT, drift_filters(slots, start, end), check_limit(limit))

    def latest_drift(self, slots: Sequence[str] | str | None = None) -> pd.DataFrame:
        """Each slot's newest drift check (every stored slot by default), sorted by slot."""
        return self._latest_drift(drift_filters(slots))
