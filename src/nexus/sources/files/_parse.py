"""Turning the raw rows of one file into bars and rejects.

Only parsing happens here: a row is rejected when a timestamp or a number
cannot be read or a required value is empty. Whether the prices make sense
(OHLC order, sessions, duplicates, spikes) is the ingest stage's business.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nexus.domain import Interval, bars_frame
from nexus.sources._base import rejects_frame
from nexus.sources.files._read import ColumnMap
from nexus.sources.files._timestamps import Stamps, as_text, infer_interval, parse_stamps

__all__ = ["SOURCE", "ParsedFile", "bad_line_rejects", "parse_rows"]

SOURCE = "files"
_PRICES = ("open", "high", "low", "close")
_NA = ("", "na", "n/a", "nan", "null", "none", "-", "--")
_THOUSANDS = r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?"


@dataclass(frozen=True)
class ParsedFile:
    """The bars and rejects of one file.

    Attributes
    ----------
    bars : DataFrame, shape (m, 9)
        ``BAR_COLUMNS``.
    rejects : DataFrame, shape (r, 6)
        ``REJECT_COLUMNS``.
    interval : Interval or None
        None when no row had a usable timestamp.
    """

    bars: pd.DataFrame
    rejects: pd.DataFrame
    interval: Interval | None


@dataclass(frozen=True)
class _Check:
    """Rows failing one test: ``mask`` shape (n,), ``explain(rows) -> details``."""

    mask: np.ndarray
    reason: str
    explain: Callable[[np.ndarray], list[str]]


@dataclass(frozen=True)
class _Options:
    default_symbol: str
    interval: str | None
    tz: str
    label: str
    display: str
    ts_column: str


def _numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (floats, missing, bad), each shape (n,); ``$`` and 1,000s commas are accepted."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        num = values.to_numpy(dtype="float64", na_value=np.nan)
        missing = np.isnan(num)
        return num, missing, ~missing & ~np.isfinite(num)
    text = as_text(values)
    num = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan, copy=True)
    missing = np.zeros(len(num), dtype=bool)
    rows = np.flatnonzero(np.isnan(num))
    if rows.size:  # the slow path only for what plain parsing missed
        sub = text.iloc[rows].str.strip()
        missing[rows] = sub.str.lower().isin(_NA).to_numpy(dtype=bool)
        clean = sub.str.replace(r"^\$\s*", "", regex=True)
        clean = clean.where(
            ~clean.str.fullmatch(_THOUSANDS), clean.str.replace(",", "", regex=False)
        )
        num[rows] = pd.to_numeric(clean, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return num, missing, ~missing & ~np.isfinite(num)


def _number_checks(
    raw: pd.DataFrame, cols: ColumnMap
) -> tuple[dict[str, np.ndarray], list[_Check]]:
    values: dict[str, np.ndarray] = {"volume": np.zeros(len(raw))}  # no volume column: 0
    checks: list[_Check] = []
    for name in (*_PRICES, "volume"):
        col = cols.columns.get(name)
        if col is None:
            continue
        num, missing, bad = _numbers(raw[col])
        values[name] = num
        text = as_text(raw[col])
        checks.append(_Check(missing, "missing_column_value", _empty(col)))
        checks.append(_Check(bad, "bad_number", _not(col, text, "is not a finite number")))
    return values, checks


def _empty(col: str) -> Callable[[np.ndarray], list[str]]:
    return lambda rows: [f"column {col!r} is empty"] * len(rows)


def _not(col: str, text: pd.Series, problem: str) -> Callable[[np.ndarray], list[str]]:
    return lambda rows: [f"column {col!r} value {v!r} {problem}" for v in text.iloc[rows]]


def _ts_text(raw: pd.DataFrame, cols: ColumnMap) -> pd.Series:
    values = raw[cols.columns["ts"]]
    if cols.time is None:
        return values
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        values = values.dt.strftime("%Y-%m-%d")
    return as_text(values).str.strip() + " " + as_text(raw[cols.time]).str.strip()


def _labels(stamps: Stamps, interval: Interval | None, label: str) -> pd.Series:
    if interval is Interval.D1:
        return stamps.wall.dt.normalize().dt.tz_localize("UTC")
    if interval is not None and label == "close":
        return stamps.instant - interval.timedelta
    return stamps.instant


def _ts_checks(
    values: pd.Series, stamps: Stamps, interval: Interval | None, opts: _Options
) -> list[_Check]:
    col = opts.ts_column
    text = as_text(values).str.strip()
    missing = text.eq("").to_numpy(dtype=bool)
    unread = stamps.wall.isna().to_numpy(dtype=bool) & ~missing
    checks = [
        _Check(missing, "missing_column_value", _empty(col)),
        _Check(unread, "bad_timestamp", _not(col, text, "is not a date or time")),
    ]
    if interval is not None and interval.is_intraday:
        gap = stamps.instant.isna().to_numpy(dtype=bool) & ~missing & ~unread
        why = f"does not exist or is ambiguous in {opts.tz} (a clock change)"
        checks.append(_Check(gap, "bad_timestamp", _not(col, text, why)))
    return checks


def _symbols(raw: pd.DataFrame, cols: ColumnMap, default: str) -> tuple[pd.Series, list[_Check]]:
    col = cols.columns.get("symbol")
    if col is None:
        return pd.Series(default, index=raw.index, dtype=object), []
    symbols = as_text(raw[col]).str.strip().str.upper()
    empty = symbols.eq("").to_numpy(dtype=bool)
    return symbols, [_Check(empty, "missing_column_value", _empty(col))]


def _resolve_interval(stamps: Stamps, symbols: pd.Series, opts: _Options) -> Interval | None:
    if opts.interval:
        return Interval.parse(opts.interval)
    if stamps.date_only:
        return Interval.D1
    return infer_interval(stamps.instant, symbols, f"file {opts.display}")


def _payloads(raw: pd.DataFrame, rows: np.ndarray) -> list[str]:
    sub = raw.iloc[rows]
    records = sub.astype(object).where(sub.notna(), None).to_dict("records")
    return [json.dumps({str(k): v for k, v in r.items()}, default=str) for r in records]


def _rejects(raw: pd.DataFrame, checks: list[_Check], bad: np.ndarray, keys: dict) -> pd.DataFrame:
    rows = np.flatnonzero(bad)
    reasons: dict[int, str] = {}
    details: dict[int, list[str]] = {int(r): [] for r in rows}
    for check in checks:
        hit = np.flatnonzero(check.mask)
        for row, text in zip(hit, check.explain(hit), strict=True):
            reasons.setdefault(int(row), check.reason)
            details[int(row)].append(text)
    return rejects_frame(
        {
            "symbol": [s if isinstance(s, str) and s else None for s in keys["symbol"].iloc[rows]],
            "interval": [keys["interval"]] * len(rows),
            "ts": keys["ts"].iloc[rows].to_list(),
            "reason": [reasons[int(r)] for r in rows],
            "detail": ["; ".join(details[int(r)]) for r in rows],
            "payload": _payloads(raw, rows),
        }
    )


def parse_rows(
    raw: pd.DataFrame,
    cols: ColumnMap,
    *,
    default_symbol: str,
    interval: str | None,
    tz: str,
    label: str,
    display: str,
) -> ParsedFile:
    """Parse the rows of one file.

    Parameters
    ----------
    raw : DataFrame, shape (n, k)
        The file as read by :func:`~nexus.sources.files._read.read_table`.
    cols : ColumnMap
        Where the canonical columns are.
    default_symbol : str
        The symbol when the file has no symbol column.
    interval : str, optional
        The configured interval; None to infer it.
    tz : str
        The time zone of naive timestamps.
    label : {"open", "close"}
        What the vendor's intraday timestamps mark.
    display : str
        The file's name in messages.

    Returns
    -------
    ParsedFile

    Raises
    ------
    ConfigError
        If the interval is not configured and cannot be inferred.
    """
    ts_column = str(cols.columns["ts"]) + (f" + {cols.time}" if cols.time else "")
    opts = _Options(default_symbol, interval, tz, label, display, ts_column)
    symbols, checks = _symbols(raw, cols, opts.default_symbol)
    ts_values = _ts_text(raw, cols)
    stamps = parse_stamps(ts_values, opts.tz)
    bar_interval = _resolve_interval(stamps, symbols, opts)
    checks += _ts_checks(ts_values, stamps, bar_interval, opts)
    values, number_checks = _number_checks(raw, cols)
    checks += number_checks
    bad = np.logical_or.reduce([c.mask for c in checks])
    ts = _labels(stamps, bar_interval, opts.label)
    name = bar_interval.value if bar_interval else None
    bars = pd.DataFrame({"symbol": symbols, "interval": name, "ts": ts, **values, "source": SOURCE})
    keys = {"symbol": symbols, "interval": name, "ts": ts}
    return ParsedFile(
        bars=bars_frame(bars.loc[~bad]),
        rejects=_rejects(raw, checks, bad, keys),
        interval=bar_interval,
    )


def bad_line_rejects(lines: list[list[str]], header: list[str], symbol: str | None) -> pd.DataFrame:
    """Rejects for CSV lines with more fields than the header.

    Parameters
    ----------
    lines : list of list of str
        The split fields of each bad line.
    header : list of str
        The header's column names.
    symbol : str, optional
        The file's symbol when it has no symbol column.

    Returns
    -------
    DataFrame, shape (len(lines), 6)
    """
    return rejects_frame(
        [
            {
                "symbol": symbol,
                "reason": "bad_row",
                "detail": f"the line has {len(fields)} fields but the header has {len(header)}",
                "payload": json.dumps(fields),
            }
            for fields in lines
        ]
    )
