"""Turning vendor timestamps into bar labels.

Every timestamp is read twice: as the *wall clock* it was written in (naive;
for an aware value, the clock in its own offset) and as an *instant* in UTC
(naive values are taken in the configured time zone). Daily bars use the wall
clock's date, so ``2024-01-02``, ``2024-01-02 00:00-05:00`` and
``2024-01-02T00:00Z`` all mean the session of 2 January. Intraday bars use the
instant.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nexus.domain import Interval
from nexus.errors import ConfigError

__all__ = ["Stamps", "as_text", "infer_interval", "parse_stamps"]

_TZ_SUFFIX = r"\s*(?:[Zz]|UTC|GMT|[+-]\d{2}:?\d{2})$"  # a plain pattern: pyarrow runs it
_EPOCH = r"^\d{9,19}(?:\.\d+)?$"
_SLASHED = r"^(\d{1,2})/\d{1,2}/\d{2,4}"
_EPOCH_UNITS = ((1e11, "s"), (1e14, "ms"), (1e17, "us"))


@dataclass(frozen=True)
class Stamps:
    """Parsed timestamps, aligned with the input rows.

    Attributes
    ----------
    wall : Series of datetime64, shape (n,)
        Naive wall-clock values; NaT where the text is not a timestamp.
    instant : Series of datetime64[UTC], shape (n,)
        UTC instants; NaT also where a naive value does not exist or is
        ambiguous in the time zone (daylight-saving changes).
    """

    wall: pd.Series
    instant: pd.Series

    @property
    def date_only(self) -> bool:
        """True when every parsed value is at midnight (a date without a time)."""
        valid = self.wall.dropna()
        return bool(len(valid)) and bool((valid == valid.dt.normalize()).all())


def _to_datetime(text: pd.Series, *, utc: bool, dayfirst: bool = False) -> pd.Series:
    """``pd.to_datetime`` with one inferred format, then value by value for the rest."""
    target = "datetime64[us, UTC]" if utc else "datetime64[us]"
    with warnings.catch_warnings():  # format-inference notes; failures become NaT
        warnings.simplefilter("ignore", UserWarning)
        out = pd.to_datetime(text, errors="coerce", utc=utc, dayfirst=dayfirst).astype(target)
        retry = out.isna() & text.ne("")
        if retry.any():
            again = pd.to_datetime(
                text[retry], errors="coerce", utc=utc, dayfirst=dayfirst, format="mixed"
            )
            out = out.where(~retry, again.astype(target))
    return out


def _dayfirst(text: pd.Series) -> bool:
    """True for ``DD/MM/YYYY`` dates: some first number is over 12 (else ``MM/DD``)."""
    filled = text[text.ne("")]
    if filled.empty or not re.match(_SLASHED, filled.iloc[0]):
        return False
    lead = pd.to_numeric(filled.str.extract(_SLASHED, expand=False), errors="coerce")
    return bool((lead > 12).any())


def _localize(wall: pd.Series, tz: str) -> pd.Series:
    index = pd.DatetimeIndex(wall)
    try:
        local = index.tz_localize(tz, ambiguous="infer", nonexistent="NaT")
    except ValueError:  # ambiguous times that cannot be ordered: leave them out
        local = index.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    return pd.Series(local.tz_convert("UTC"), index=wall.index).astype("datetime64[us, UTC]")


def _epoch(numbers: pd.Series) -> Stamps:
    """Epoch seconds, milliseconds, microseconds or nanoseconds, by magnitude."""
    finite = numbers.dropna().to_numpy(dtype="float64")
    scale = float(np.median(np.abs(finite))) if finite.size else 0.0
    unit = next((u for limit, u in _EPOCH_UNITS if scale < limit), "ns")
    instant = pd.to_datetime(numbers, unit=unit, utc=True).astype("datetime64[us, UTC]")
    return Stamps(wall=instant.dt.tz_localize(None), instant=instant)


def _from_text(text: pd.Series, tz: str) -> Stamps:
    text = text.str.strip()
    filled = text[text.ne("")]
    if len(filled) and filled.str.fullmatch(_EPOCH).all():
        return _epoch(pd.to_numeric(text.where(text.ne(""), None), errors="coerce"))
    dayfirst = _dayfirst(text)
    aware = text.str.contains(_TZ_SUFFIX).to_numpy(dtype=bool)
    if not aware.any():
        wall = _to_datetime(text, utc=False, dayfirst=dayfirst)
        return Stamps(wall=wall, instant=_localize(wall, tz))
    wall = _to_datetime(text.str.replace(_TZ_SUFFIX, "", regex=True), utc=False, dayfirst=dayfirst)
    utc = _to_datetime(text.where(aware, ""), utc=True, dayfirst=dayfirst)
    instant = _localize(wall, tz).where(~aware, utc)
    return Stamps(wall=wall, instant=instant)


def as_text(values: pd.Series) -> pd.Series:
    """Cells as text; missing values become the empty string."""
    if isinstance(values.dtype, pd.StringDtype) and not values.hasnans:
        return values
    return values.astype(object).where(values.notna(), "").astype(str)


def parse_stamps(values: pd.Series, tz: str) -> Stamps:
    """Parse a column of timestamps.

    Parameters
    ----------
    values : Series, shape (n,)
        Text (ISO 8601, ``MM/DD/YYYY``, ``YYYYMMDD``, epoch seconds/ms/us/ns,
        with or without an offset) or, from Parquet, datetime64 or integers.
    tz : str
        The time zone of naive values.

    Returns
    -------
    Stamps
    """
    dtype = values.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        instant = values.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
        return Stamps(wall=values.dt.tz_localize(None).astype("datetime64[us]"), instant=instant)
    if pd.api.types.is_datetime64_dtype(dtype):
        wall = values.astype("datetime64[us]")
        return Stamps(wall=wall, instant=_localize(wall, tz))
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return _epoch(values)
    return _from_text(as_text(values), tz)


def infer_interval(instants: pd.Series, groups: pd.Series, what: str) -> Interval | None:
    """The interval whose length matches the median spacing of ``instants``.

    Parameters
    ----------
    instants : Series of datetime64[UTC], shape (n,)
        Bar times (NaT ignored).
    groups : Series, shape (n,)
        The symbol of each row; spacing is measured within a symbol.
    what : str
        The input, for the error message.

    Returns
    -------
    Interval or None
        None when there are no valid timestamps.

    Raises
    ------
    ConfigError
        If the spacing cannot be measured (one timestamp) or matches no interval.
    """
    valid = instants.notna().to_numpy(dtype=bool)
    if not valid.any():
        return None
    t = instants.to_numpy(dtype="datetime64[us]")[valid].astype(np.int64)
    g = pd.factorize(groups)[0][valid]
    order = np.lexsort((t, g))
    t, g = t[order], g[order]
    step = np.diff(t)
    diffs = step[(g[1:] == g[:-1]) & (step > 0)] / 1e6  # seconds within a symbol
    fix = "set interval (1m, 5m, 15m, 30m, 1h or 1d) in the files source configuration"
    if diffs.size == 0:
        raise ConfigError(f"the interval of {what} cannot be inferred from one timestamp", fix=fix)
    median = float(np.median(diffs))
    for interval in Interval:
        if abs(median - interval.seconds) <= 0.01 * interval.seconds:
            return interval
    raise ConfigError(
        f"the median spacing of the timestamps in {what} is {pd.Timedelta(seconds=median)}, "
        "which is not a bar interval Nexus stores",
        fix=fix + ", or resample the file to one of them",
    )
