"""Macro series as they were known at a time: point-in-time views of the stored vintages.

The store keeps every vintage of every period (``series_id, period, realtime_start,
value, source``). What was known at ``as_of`` is the vintages with
``realtime_start <= as_of``; a period's value then is its newest such vintage. A
vintage released later is never shown, so a revision appears only once it was public.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from nexus.api._rows import iso, maybe_number

__all__ = ["known_at", "macro_points", "macro_summaries"]

_ORDER = ["series_id", "period", "realtime_start"]


def known_at(frame: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The vintages of ``frame`` (``MACRO_COLUMNS``) released by ``as_of``, in ``_ORDER``.

    Examples
    --------
    >>> frame = pd.DataFrame({
    ...     "series_id": ["X", "X"], "period": [pd.Timestamp("2025-01-01").date()] * 2,
    ...     "realtime_start": pd.to_datetime(["2025-02-10", "2025-03-10"], utc=True),
    ...     "value": [1.0, 1.5], "source": ["sim", "sim"]})
    >>> known_at(frame, pd.Timestamp("2025-03-01", tz="UTC"))["value"].tolist()
    [1.0]
    """
    frame = frame.assign(realtime_start=pd.to_datetime(frame["realtime_start"], utc=True))
    known = frame.loc[frame["realtime_start"] <= as_of]
    return known.sort_values(_ORDER, kind="stable").reset_index(drop=True)


def _vintage(row: Any) -> dict[str, Any]:
    return {
        "value": maybe_number(row.value),
        "released_at": iso(row.realtime_start),
        "source": str(row.source),
    }


def macro_points(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """One series' known vintages (from :func:`known_at`) as points, oldest period first.

    Each point is the period's newest vintage (``period, value, released_at,
    source``) with ``vintages``, every vintage of the period, oldest first.
    """
    points: list[dict[str, Any]] = []
    for row in frame.itertuples(index=False):
        vintage = _vintage(row)
        if points and points[-1]["period"] == row.period:
            points[-1]["vintages"].append(vintage)
            points[-1].update(vintage)
        else:
            points.append({"period": row.period, **vintage, "vintages": [vintage]})
    return points


def _change(value: float | None, previous: float | None) -> float | None:
    """``value - previous`` to 12 significant digits (``316.2 - 315.4`` is 0.8), or None."""
    if value is None or previous is None:
        return None
    return float(f"{value - previous:.12g}")


def _summary(series_id: str, group: pd.DataFrame) -> dict[str, Any]:
    latest = group.drop_duplicates("period", keep="last")  # each period's newest vintage
    last = latest.iloc[-1]
    before = latest.iloc[-2] if len(latest) > 1 else None
    value = maybe_number(last["value"])
    previous = None if before is None else maybe_number(before["value"])
    return {
        "series_id": series_id,
        "period": last["period"],
        "value": value,
        "released_at": iso(last["realtime_start"]),
        "previous_period": None if before is None else before["period"],
        "previous": previous,
        "change": _change(value, previous),
        "periods": len(latest),
        "vintages": len(group),
        "source": str(last["source"]),
    }


def macro_summaries(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Each series of ``frame`` (from :func:`known_at`): its newest point and the change.

    A series' entry holds its newest period with that period's newest value and
    release time, the period before with its value and the change, and how many
    periods and vintages are known; series are sorted by id.
    """
    return [
        _summary(str(series_id), group)
        for series_id, group in frame.groupby("series_id", sort=True)
    ]
