r"""Simulated macro series with release dates and revisions, for point-in-time features.

Three series, each observation published twice (two vintages), like FRED/ALFRED:

========  ==========  =====================================  ============================
series    period      first release (New York time)          revision (second vintage)
========  ==========  =====================================  ============================
SIM_CPI   month       08:30, 12 days after the month ends    08:30, 30 days later
SIM_GDP   quarter     08:30, 29 days after the quarter ends  08:30, 30 days later
SIM_RATE  month       09:00, the day after the month ends    09:00, 30 days later
========  ==========  =====================================  ============================

A release day that falls on a Saturday or Sunday moves to the Monday after.
``period`` is the first day of the month or quarter; ``realtime_start`` the UTC
moment of the release (08:30 New York is 13:30 UTC in winter, 12:30 in summer).

The values (``k`` counts periods; ``e_k``, ``n_k`` are independent N(0, 1)):

- ``SIM_CPI``: a price index, ``CPI_k = CPI_k-1 (1 + p_k)`` from 310 with monthly
  inflation ``p_k = 0.0022 + 0.5 (p_k-1 - 0.0022) + 0.0015 e_k``; 3 decimals.
- ``SIM_GDP``: nominal output in billions at an annual rate, ``GDP_k = GDP_k-1 (1 + g_k)``
  from 29 000 with ``g_k = 0.012 + 0.35 (g_k-1 - 0.012) + 0.006 e_k``; 1 decimal.
- ``SIM_RATE``: the monthly average effective policy rate in percent: a target that
  moves in steps of 0.25 (``round(0.4 e_k + 0.1 (3 - target))`` steps, at most one,
  from 4.5, never below 0.25) less 0.17; 2 decimals.

The revision is that value; the first release misses it by ``0.0008 n_k`` (CPI,
relative), ``0.003 n_k`` (GDP, relative) or ``0.01 n_k`` (rate, percentage points).

Determinism. Series ``j`` draws ``(e_k, n_k)`` for ``k = 0, 1, ...`` from its own
stream ``default_rng([seed, 0x4D41, j])``, apart from the market's streams, so the
bars, news and corporate actions do not depend on the macro series (or on
``macro`` being on). Period 0 is a year before ``start`` (the month, or the
quarter, containing that day), so the first sessions already see earlier
vintages being revised. A longer history extends the same values.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time

import numpy as np
import pandas as pd

from nexus.domain import MACRO_COLUMNS, macro_frame
from nexus.sources.simulator._config import SimulatorConfig

__all__ = ["MACRO_SERIES", "MacroSeries", "macro_of"]

_STREAM = 0x4D41  # "MA": the macro streams' key, apart from the market's spawn keys
_NEW_YORK = "America/New_York"
_WARM_UP_MONTHS = 12


def _compounded(
    e: np.ndarray, *, mean: float, phi: float, level: float, scale: float
) -> np.ndarray:
    """A level growing by an AR(1) rate: ``g = mean + phi (g - mean) + scale e``."""
    out, growth = np.empty(len(e)), mean
    for k, shock in enumerate(e):
        growth = mean + phi * (growth - mean) + scale * shock
        level *= 1.0 + growth
        out[k] = level
    return out


_cpi = functools.partial(_compounded, mean=0.0022, phi=0.5, level=310.0, scale=0.0015)
_gdp = functools.partial(_compounded, mean=0.012, phi=0.35, level=29_000.0, scale=0.006)


def _rate(e: np.ndarray) -> np.ndarray:
    target, out = 4.5, np.empty(len(e))
    for k, shock in enumerate(e):
        step = max(-1.0, min(1.0, round(0.4 * shock + 0.1 * (3.0 - target))))
        target = max(0.25, target + 0.25 * step)
        out[k] = target - 0.17
    return out


@dataclass(frozen=True, slots=True)
class MacroSeries:
    """One simulated series: its calendar, its release rule and its process.

    ``months`` is the period's length; the first release is ``first_lag_days``
    after the period's last day and the revision ``revision_lag_days`` after the
    first (each moved to a weekday), both at ``release`` New York time.
    ``path(e)`` gives the final values from unit shocks (n,); ``miss(final, n)``
    the first release's error.
    """

    series_id: str
    months: int
    first_lag_days: int
    revision_lag_days: int
    release: time
    decimals: int
    path: Callable[[np.ndarray], np.ndarray]
    miss: Callable[[np.ndarray, np.ndarray], np.ndarray]


MACRO_SERIES = (
    MacroSeries("SIM_CPI", 1, 12, 30, time(8, 30), 3, _cpi, lambda v, n: 0.0008 * v * n),
    MacroSeries("SIM_GDP", 3, 29, 30, time(8, 30), 1, _gdp, lambda v, n: 0.003 * v * n),
    MacroSeries("SIM_RATE", 1, 1, 30, time(9, 0), 2, _rate, lambda v, n: 0.01 * n),
)
"""The simulated macro series (see the module docstring)."""


def _first_period(config: SimulatorConfig, months: int) -> np.datetime64:
    month = np.datetime64(config.start, "M") - _WARM_UP_MONTHS
    return month - (month.astype(int) % months)


def _released(days: np.ndarray, clock: time) -> np.ndarray:
    """Release days (datetime64[D]) at ``clock`` New York time, as naive-UTC datetime64[us]."""
    local = pd.DatetimeIndex(days.astype("datetime64[us]")) + pd.Timedelta(
        hours=clock.hour, minutes=clock.minute
    )
    later = np.zeros(len(local), dtype=bool)  # a time that happens twice: the later one
    stamped = local.tz_localize(_NEW_YORK, nonexistent="shift_forward", ambiguous=later)
    return stamped.tz_convert("UTC").tz_localize(None).to_numpy().astype("datetime64[us]")


def _vintages(spec: MacroSeries, index: int, config: SimulatorConfig, until: np.datetime64):
    """Period days, release times (first, revision) and values (first, revision), each (n,)."""
    first = _first_period(config, spec.months)
    last = np.datetime64(until, "M")
    n = int((last - first).astype(int) // spec.months) + 1
    periods = first + spec.months * np.arange(n)
    ends = (periods + spec.months).astype("datetime64[D]") - 1
    day_1 = np.busday_offset(ends + spec.first_lag_days, 0, roll="forward")
    day_2 = np.busday_offset(day_1 + spec.revision_lag_days, 0, roll="forward")
    rng = np.random.default_rng([config.seed, _STREAM, index])
    draws = rng.standard_normal((n, 2))
    final = spec.path(draws[:, 0])
    early = final + spec.miss(final, draws[:, 1])
    times = (_released(day_1, spec.release), _released(day_2, spec.release))
    values = (np.round(early, spec.decimals), np.round(final, spec.decimals))
    return periods.astype("datetime64[D]"), times, values


def macro_of(
    config: SimulatorConfig, after: np.datetime64, until: np.datetime64, *, source: str
) -> pd.DataFrame:
    """Every vintage of :data:`MACRO_SERIES` released in ``(after, until]``.

    Parameters
    ----------
    config : SimulatorConfig
        The market (its seed and start).
    after, until : datetime64
        Naive-UTC bounds of the release times: after ``after``, at or before ``until``.
    source : str
        The ``source`` of every row (the simulator's name).

    Returns
    -------
    DataFrame, shape (m, 5)
        ``MACRO_COLUMNS``, sorted by realtime_start, series_id, period.

    Examples
    --------
    >>> config = SimulatorConfig(start=pd.Timestamp("2025-01-02").date())
    >>> after, until = np.datetime64("2025-01-01"), np.datetime64("2025-03-31")
    >>> rows = macro_of(config, after, until, source="simulator")
    >>> gdp = rows[rows["series_id"] == "SIM_GDP"]  # Q4 2024: first release, then revision
    >>> gdp[["period", "realtime_start"]].astype(str).to_numpy().tolist()
    [['2024-10-01', '2025-01-29 13:30:00+00:00'], ['2024-10-01', '2025-02-28 13:30:00+00:00']]
    """
    after = np.datetime64(after, "us")
    until = np.datetime64(until, "us")
    parts = []
    for index, spec in enumerate(MACRO_SERIES):
        periods, times, values = _vintages(spec, index, config, until)
        for stamps, value in zip(times, values, strict=True):
            keep = (stamps > after) & (stamps <= until)
            parts.append(
                pd.DataFrame(
                    {
                        "series_id": spec.series_id,
                        "period": periods[keep],
                        "realtime_start": pd.DatetimeIndex(stamps[keep]).tz_localize("UTC"),
                        "value": value[keep],
                        "source": source,
                    },
                    columns=list(MACRO_COLUMNS),
                )
            )
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.sort_values(["realtime_start", "series_id", "period"], kind="stable")
    return macro_frame(frame)
