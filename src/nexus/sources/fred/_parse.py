"""Turning FRED's ``series/observations`` JSON into macro vintages and rejects.

The payload (``file_type=json``) of
``/fred/series/observations?series_id=GDP&realtime_start=1776-07-04&realtime_end=9999-12-31``::

    {"realtime_start": "1776-07-04", "realtime_end": "9999-12-31",
     "observation_start": "1600-01-01", "observation_end": "9999-12-31",
     "units": "lin", "output_type": 1, "file_type": "json",
     "order_by": "observation_date", "sort_order": "asc",
     "count": 3, "offset": 0, "limit": 100000,
     "observations": [
        {"realtime_start": "2013-07-31", "realtime_end": "2013-08-28",
         "date": "2013-04-01", "value": "16633.4"},
        {"realtime_start": "2013-08-29", "realtime_end": "2013-09-25",
         "date": "2013-04-01", "value": "16661.0"},
        {"realtime_start": "2013-09-26", "realtime_end": "9999-12-31",
         "date": "2013-04-01", "value": "."}]}

With that real-time window FRED (ALFRED) returns every vintage: one row per
observation ``date`` (the period) and value it had, ``realtime_start`` being the
day that value appeared. ``count`` is the number of rows over all pages;
``value`` is a decimal string, ``"."`` when there is none.

Each row becomes one ``MACRO_COLUMNS`` row: ``period`` = ``date``, ``realtime_start``
= the moment the vintage became public (:func:`public_at`). FRED gives only a
day, so by default a vintage counts as public at the end of that day in New
York (the next day 00:00 America/New_York, in UTC), never earlier than it was;
a known release time (``"08:30"``) gives the real moment.

Rows that cannot be used become rejects (``REJECT_COLUMNS``; ``symbol`` is the
series id, ``ts`` the period at midnight UTC when readable, ``payload`` the raw
row as JSON), with one of the reasons in :data:`REASONS`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta

import numpy as np
import pandas as pd

from nexus.domain import MACRO_COLUMNS, macro_frame
from nexus.sources._base import rejects_frame

__all__ = [
    "EARLIEST_PERIOD",
    "EARLIEST_VINTAGE",
    "LATEST_PERIOD",
    "NEW_YORK",
    "REASONS",
    "SOURCE",
    "MalformedPayload",
    "Page",
    "Parsed",
    "parse_observations",
    "public_at",
    "read_page",
    "reject",
]

SOURCE = "fred"
NEW_YORK = "America/New_York"
EARLIEST_PERIOD = date(1000, 1, 1)
"""Periods before this are ``absurd_date`` (FRED's oldest series start in the 1200s)."""
LATEST_PERIOD = date(2200, 12, 31)
"""Periods after this are ``absurd_date`` (projections reach the 2100s, not 9999)."""
EARLIEST_VINTAGE = date(1776, 7, 4)
"""FRED's first real-time day; a vintage before it, or after tomorrow, is ``absurd_date``."""

REASONS = {
    "no_value": "FRED has no value for this period in this vintage ('.')",
    "bad_value": "the value is not a finite number",
    "bad_date": "date or realtime_start is not a YYYY-MM-DD date",
    "absurd_date": "the period or the vintage date is outside any plausible range",
    "malformed_json": "the response or a row is not the JSON FRED sends",
    "fetch_failed": "the series could not be downloaded (network, HTTP error, rate limit)",
    "too_large": "the response was larger than max_bytes",
}
"""Every reject reason of the FRED source and what it means."""

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SNIPPET = 2000


class MalformedPayload(ValueError):
    """A response that is not FRED's observations JSON; ``snippet`` is its start."""

    def __init__(self, detail: str, snippet: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.snippet = snippet


@dataclass(frozen=True, slots=True)
class Page:
    """One page of observations and the total number of rows over all pages."""

    observations: list
    count: int


@dataclass(frozen=True, slots=True)
class Parsed:
    """Vintages ``(m, 5)`` (``MACRO_COLUMNS``) and rejects ``(r, 6)`` of one series."""

    macro: pd.DataFrame
    rejects: pd.DataFrame


def read_page(body: bytes) -> Page:
    """Read one response body of ``series/observations``.

    Raises
    ------
    MalformedPayload
        If it is not JSON, not an object, or has no list of observations.

    Examples
    --------
    >>> page = read_page(b'{"count": 7, "offset": 0, "observations": [{"date": "2020-01-01"}]}')
    >>> page.count, len(page.observations)
    (7, 1)
    >>> read_page(b"<html>busy</html>")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nexus.sources.fred._parse.MalformedPayload: the response is not JSON (...)
    """
    snippet = body[:_SNIPPET].decode("utf-8", errors="replace")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedPayload(f"the response is not JSON ({exc})", snippet) from None
    if not isinstance(data, dict) or not isinstance(data.get("observations"), list):
        found = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise MalformedPayload(f"the response has no 'observations' list (found {found})", snippet)
    observations = data["observations"]
    count = data.get("count", len(observations))
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise MalformedPayload(f"the response's count {count!r} is not a row count", snippet)
    return Page(observations=observations, count=count)


def public_at(days: Sequence[date], release: time | None = None) -> pd.DatetimeIndex:
    """When vintages that appeared on ``days`` became public, in UTC.

    Parameters
    ----------
    days : sequence of date, length n
        FRED's ``realtime_start`` days.
    release : time, optional
        The release time of day in New York. Default: the end of the day (the
        next day 00:00 New York time). A time that does not exist (a spring DST
        gap) moves forward; one that exists twice (autumn) takes the later.

    Returns
    -------
    DatetimeIndex, length n
        ``datetime64[us, UTC]``.

    Examples
    --------
    >>> public_at([date(2024, 3, 8), date(2024, 3, 12)]).strftime("%Y-%m-%d %H:%M").tolist()
    ['2024-03-09 05:00', '2024-03-13 04:00']
    >>> public_at([date(2024, 3, 8), date(2024, 3, 12)], time(8, 30)).strftime("%H:%M").tolist()
    ['13:30', '12:30']
    """
    local = pd.DatetimeIndex(pd.to_datetime(list(days))).as_unit("us")
    if release is None:
        local = local + pd.Timedelta(days=1)
    else:
        local = local + pd.Timedelta(hours=release.hour, minutes=release.minute)
    stamped = local.tz_localize(
        NEW_YORK, ambiguous=np.zeros(len(local), dtype=bool), nonexistent="shift_forward"
    )
    return stamped.tz_convert("UTC")


def reject(
    series_id: str, reason: str, detail: str, payload: object, period: date | None = None
) -> dict:
    """One ``REJECT_COLUMNS`` row for ``series_id``; ``payload`` is stored as JSON."""
    text = payload if isinstance(payload, str) else json.dumps(payload, default=str)
    ts = pd.Timestamp(period, tz="UTC") if period is not None else None
    return {
        "symbol": series_id,
        "interval": None,
        "ts": ts,
        "reason": reason,
        "detail": detail,
        "payload": text,
    }


def _day(value: object) -> date | None:
    if not isinstance(value, str) or not _DAY.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def _problem(row: dict, today: date) -> tuple[str, str] | None:
    """The reason and detail why ``row`` cannot be used, or None."""
    period, vintage = _day(row.get("date")), _day(row.get("realtime_start"))
    if period is None or vintage is None:
        which = "date" if period is None else "realtime_start"
        return "bad_date", f"{which} {row.get(which)!r} is not a YYYY-MM-DD date"
    if not EARLIEST_PERIOD <= period <= LATEST_PERIOD:
        return "absurd_date", f"period {period} is outside {EARLIEST_PERIOD}..{LATEST_PERIOD}"
    if not EARLIEST_VINTAGE <= vintage <= today + timedelta(days=1):
        return "absurd_date", f"vintage {vintage} is before {EARLIEST_VINTAGE} or in the future"
    value = row.get("value")
    if value == ".":
        return "no_value", f"no value for {period} in the vintage of {vintage} ('.')"
    if _number(value) is None:
        return "bad_value", f"value {value!r} is not a finite number"
    return None


def _conflicts(macro: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Rows repeating an earlier row's period and vintage: with another value, with the same."""
    key = ["period", "realtime_start"]
    repeated = macro.duplicated(key, keep="first")
    same = macro.duplicated([*key, "value"], keep="first")
    return (repeated & ~same).to_numpy(), same.to_numpy()


def parse_observations(
    rows: Sequence[object], series_id: str, *, today: date, release: time | None = None
) -> Parsed:
    """Turn FRED observations into vintages and rejects.

    Parameters
    ----------
    rows : sequence
        The ``observations`` of every page, in order.
    series_id : str
        The series they belong to.
    today : date
        Today (UTC); a vintage after tomorrow is ``absurd_date``.
    release : time, optional
        The release time in New York (see :func:`public_at`).

    Returns
    -------
    Parsed
        Exact repeats of a (period, vintage) are kept once; a repeat with another
        value is rejected (``bad_value``).

    Examples
    --------
    >>> rows = [
    ...     {"realtime_start": "2013-07-31", "date": "2013-04-01", "value": "16633.4"},
    ...     {"realtime_start": "2013-08-29", "date": "2013-04-01", "value": "16661.0"},
    ...     {"realtime_start": "2013-09-26", "date": "2013-04-01", "value": "."},
    ... ]
    >>> parsed = parse_observations(rows, "GDP", today=date(2026, 1, 1))
    >>> parsed.macro[["period", "value"]].to_numpy().tolist()
    [[datetime.date(2013, 4, 1), 16633.4], [datetime.date(2013, 4, 1), 16661.0]]
    >>> str(parsed.macro["realtime_start"][0]), parsed.rejects["reason"].tolist()
    ('2013-08-01 04:00:00+00:00', ['no_value'])
    """
    good: list[dict] = []
    bad: list[dict] = []
    for row in rows:
        if not isinstance(row, dict):
            bad.append(reject(series_id, "malformed_json", "an observation is not an object", row))
            continue
        problem = _problem(row, today)
        if problem is not None:
            bad.append(reject(series_id, *problem, row, _day(row.get("date"))))
            continue
        good.append(row)
    macro = _vintages(good, series_id, release)
    conflict, repeat = _conflicts(macro)
    for i in np.flatnonzero(conflict):
        detail = "a second, different value for the same period and vintage"
        bad.append(reject(series_id, "bad_value", detail, good[i], macro["period"][i]))
    macro = macro.loc[~(conflict | repeat)].reset_index(drop=True)
    return Parsed(macro=macro, rejects=rejects_frame(bad))


def _vintages(rows: list[dict], series_id: str, release: time | None) -> pd.DataFrame:
    """The ``MACRO_COLUMNS`` frame of rows already checked by :func:`_problem`."""
    frame = pd.DataFrame(
        {
            "series_id": series_id,
            "period": [date.fromisoformat(r["date"]) for r in rows],
            "realtime_start": public_at(
                [date.fromisoformat(r["realtime_start"]) for r in rows], release
            ),
            "value": [_number(r["value"]) for r in rows],
            "source": SOURCE,
        },
        columns=list(MACRO_COLUMNS),
    )
    return macro_frame(frame)
