"""Macro features as known at asof: level, change and change surprise of each series.

A value counts from its vintage's ``realtime_start`` (when it was published) on,
never from its ``period``: at ``asof`` each period's value is that of its newest
vintage with ``realtime_start <= asof``. Batch (:func:`macro_features`) and online
(:class:`OnlineMacroFeatures`) apply the vintages in ``realtime_start`` order to the
same per-series state, so they give the same bits.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from nexus.config import FrozenConfig
from nexus.errors import DataError
from nexus.features._news_features import need_columns, next_asof, times_us

__all__ = ["MacroFeatureParams", "OnlineMacroFeatures", "macro_features", "macro_name"]

MACRO_NEEDED = ("series_id", "period", "realtime_start", "value")
_NAN3 = (np.nan, np.nan, np.nan)


def macro_name(series_id: str) -> str:
    """The column stem of a series: lower-case, non-alphanumerics as ``_``.

    >>> macro_name("SIM-CPI.v2")
    'macro_sim_cpi_v2'
    """
    return "macro_" + re.sub(r"[^0-9a-z]", "_", series_id.lower())


class MacroFeatureParams(FrozenConfig):
    """Which macro series to follow, and how many past changes make a surprise's norm.

    Parameters
    ----------
    series : sequence of str
        Series ids, e.g. ``["SIM_CPI", "SIM_GDP"]``; each gives three columns.
    changes : int
        ``macro_<id>_surprise`` is the change less the mean of the previous
        ``changes`` period changes (default 6).

    Examples
    --------
    >>> MacroFeatureParams(series=["SIM_CPI"]).names()
    ('macro_sim_cpi_level', 'macro_sim_cpi_change', 'macro_sim_cpi_surprise')
    """

    series: tuple[str, ...]
    changes: int = Field(6, ge=1)

    @field_validator("series")
    @classmethod
    def _distinct_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        stems = [macro_name(s) for s in value]
        if any(not s.strip() for s in value):
            raise ValueError("series ids must not be empty")
        if len(set(stems)) < len(stems):
            raise ValueError(f"series {list(value)} give the same column names twice")
        return value

    def names(self) -> tuple[str, ...]:
        """The output columns: level, change and surprise of each series, in order."""
        return tuple(
            f"{macro_name(s)}_{kind}"
            for s in self.series
            for kind in ("level", "change", "surprise")
        )


class _SeriesState:
    """One series as known so far: each period's newest vintage, the last ``changes + 2``."""

    __slots__ = ("keep", "stamps", "values")

    def __init__(self, changes: int) -> None:
        self.keep = changes + 2
        self.values: dict[int, float] = {}  # period (days since 1970) -> value
        self.stamps: dict[int, int] = {}  # period -> realtime_start of that value

    def apply(self, period: int, stamp: int, value: float) -> None:
        """Take a vintage unless the period already has a newer one."""
        if stamp >= self.stamps.get(period, stamp):
            self.values[period], self.stamps[period] = value, stamp
        if len(self.values) > self.keep:  # older periods change no feature
            for old in sorted(self.values)[: -self.keep]:
                del self.values[old], self.stamps[old]

    def features(self) -> tuple[float, float, float]:
        """``(level, change, surprise)``; NaN where too few periods are known."""
        values = [self.values[p] for p in sorted(self.values)]
        if not values:
            return _NAN3
        if len(values) < 2:
            return values[-1], np.nan, np.nan
        change = values[-1] - values[-2]
        if len(values) < self.keep:
            return values[-1], change, np.nan
        prior = [b - a for a, b in itertools.pairwise(values[:-1])]
        return values[-1], change, change - sum(prior) / len(prior)


@dataclass(frozen=True, slots=True)
class _Vintages:
    """Validated vintages, sorted by realtime_start (stable)."""

    series: np.ndarray  # (v,) object
    period: np.ndarray  # (v,) int64 days since 1970
    stamp: np.ndarray  # (v,) int64 us
    value: np.ndarray  # (v,) float64

    def of(self, series_id: str) -> Iterator[tuple[int, int, float]]:
        keep = self.series == series_id
        yield from zip(
            self.period[keep].tolist(),
            self.stamp[keep].tolist(),
            self.value[keep].tolist(),
            strict=True,
        )


def _vintages(macro: pd.DataFrame, what: str) -> _Vintages:
    need_columns(macro, MACRO_NEEDED, what)
    stamp = times_us(macro["realtime_start"], f"{what} column 'realtime_start'")
    try:
        period = pd.DatetimeIndex(pd.to_datetime(macro["period"]))
        value = macro["value"].to_numpy(dtype=np.float64, na_value=np.nan)
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"{what} has a period that is not a date or a value that is not a number ({exc})",
            fix="pass period as dates and value as floats (nexus.domain.macro_frame)",
        ) from exc
    if period.hasnans:
        raise DataError(f"{what} column 'period' has missing dates", fix="drop those rows")
    days = period.as_unit("s").asi8 // 86_400
    series = macro["series_id"].astype(str).to_numpy(dtype=object)
    keys = pd.DataFrame({"s": series, "p": days, "t": stamp})
    if keys.duplicated().any():
        raise DataError(
            f"{what} holds two vintages of one (series_id, period, realtime_start)",
            fix="drop duplicate vintages; the store never returns them",
        )
    order = np.argsort(stamp, kind="stable")
    return _Vintages(series[order], days[order], stamp[order], value[order])


def _table(vintages: Iterator[tuple[int, int, float]], changes: int) -> tuple[np.ndarray, ...]:
    """Features after each distinct realtime_start: times (e,) and rows (e, 3)."""
    state, times, rows = _SeriesState(changes), [], []
    for period, stamp, value in vintages:
        state.apply(period, stamp, value)
        if times and times[-1] == stamp:
            rows[-1] = state.features()
        else:
            times.append(stamp)
            rows.append(state.features())
    return np.array(times, dtype=np.int64), np.array(rows, dtype=np.float64).reshape(-1, 3)


def macro_features(asof: object, macro: pd.DataFrame, params: MacroFeatureParams) -> pd.DataFrame:
    """Level, change and surprise of each series as known at each asof.

    Parameters
    ----------
    asof : array-like of datetimes, shape (n,)
        Query times (naive values are UTC), any order.
    macro : DataFrame, shape (v, >= 4)
        ``series_id, period, realtime_start, value``, e.g. ``store.read_macro()``.
    params : MacroFeatureParams
        The series and the surprise's norm.

    Returns
    -------
    DataFrame, shape (n, 3 * len(params.series))
        ``params.names()`` (float64): for series ``x``, ``macro_x_level`` (the newest
        known period's value), ``macro_x_change`` (less the period before) and
        ``macro_x_surprise`` (the change less the mean of the ``changes`` changes
        before it); NaN until enough is known.

    Raises
    ------
    DataError
        On a missing column, a time or period that cannot be read, or a duplicate vintage.

    Examples
    --------
    >>> macro = pd.DataFrame({"series_id": "X", "period": ["2025-01-01", "2025-02-01"],
    ...                       "realtime_start": pd.to_datetime(["2025-02-03", "2025-03-03"]),
    ...                       "value": [1.0, 1.5]})
    >>> out = macro_features(pd.to_datetime(["2025-01-31", "2025-02-10", "2025-03-03"]),
    ...                      macro, MacroFeatureParams(series=["X"], changes=1))
    >>> out.to_numpy().tolist()
    [[nan, nan, nan], [1.0, nan, nan], [1.5, 0.5, nan]]
    """
    at = times_us(asof, "asof")
    vintages = _vintages(macro, "macro")
    out = np.full((len(at), 3 * len(params.series)), np.nan)
    for j, series_id in enumerate(params.series):
        times, rows = _table(vintages.of(series_id), params.changes)
        k = np.searchsorted(times, at, side="right") - 1
        known = k >= 0
        out[known, 3 * j : 3 * j + 3] = rows[k[known]]
    return pd.DataFrame(out, columns=list(params.names()))


class OnlineMacroFeatures:
    """Macro features at a moving ``asof``, equal to :func:`macro_features` (same bits).

    :meth:`add` takes vintages as they arrive (any order; one counts from its
    ``realtime_start`` on, so an early one leaks nothing); :meth:`at` gives the row
    at a non-decreasing ``asof``. Each series keeps its last ``changes + 2`` periods
    and the vintages not yet public.

    Parameters
    ----------
    params : MacroFeatureParams
        The series and the surprise's norm.

    Examples
    --------
    >>> online = OnlineMacroFeatures(MacroFeatureParams(series=["X"], changes=1))
    >>> online.add(pd.DataFrame({"series_id": "X", "period": ["2025-01-01"],
    ...                          "realtime_start": [pd.Timestamp("2025-02-03", tz="UTC")],
    ...                          "value": [1.0]}))
    >>> online.at(pd.Timestamp("2025-02-02", tz="UTC")).tolist()
    [nan, nan, nan]
    >>> online.at(pd.Timestamp("2025-02-03", tz="UTC")).tolist()
    [1.0, nan, nan]
    """

    def __init__(self, params: MacroFeatureParams) -> None:
        self.params = params
        self._states = {s: _SeriesState(params.changes) for s in params.series}
        self._pending: dict[str, list[tuple[int, int, float]]] = {s: [] for s in params.series}
        self._asof: int | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The feature columns, in order."""
        return self.params.names()

    def add(self, vintages: pd.DataFrame) -> None:
        """Take new vintages (``series_id, period, realtime_start, value``); others ignored."""
        batch = _vintages(vintages, "macro vintages")
        for series_id, pending in self._pending.items():
            pending.extend((stamp, period, value) for period, stamp, value in batch.of(series_id))
            pending.sort(key=lambda v: v[0])  # stable: arrival order within one stamp

    def at(self, asof: datetime | pd.Timestamp | int) -> np.ndarray:
        """The features at ``asof``, shape (3 * len(series),), in :attr:`names` order.

        Raises
        ------
        DataError
            When ``asof`` is before the last call's.
        """
        now = self._asof = next_asof(asof, self._asof)
        out = np.empty(3 * len(self.params.series))
        for j, series_id in enumerate(self.params.series):
            state, pending = self._states[series_id], self._pending[series_id]
            due = 0
            while due < len(pending) and pending[due][0] <= now:
                stamp, period, value = pending[due]
                state.apply(period, stamp, value)
                due += 1
            del pending[:due]
            out[3 * j : 3 * j + 3] = state.features()
        return out
