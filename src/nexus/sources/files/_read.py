"""Reading CSV and Parquet files into raw frames and naming their columns.

Column names are matched case-insensitively, ignoring spaces, underscores,
dots and ``<>`` around them, against the aliases in :data:`ALIASES`. A file
with separate date and time columns gets them joined into one timestamp.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from nexus.errors import DataError

__all__ = [
    "ALIASES",
    "DATA_SUFFIXES",
    "ColumnMap",
    "data_format",
    "file_stem",
    "map_columns",
    "read_table",
]

DATA_SUFFIXES = (".csv.gz", ".csv", ".parquet", ".pq")
"""The file extensions read (``.zip`` archives holding them are read too)."""

ALIASES: dict[str, tuple[str, ...]] = {
    "ts": ("ts", "timestamp", "datetime", "date time", "date", "time", "unnamed 0", "index", ""),
    "open": ("open", "o", "open price"),
    "high": ("high", "h", "high price"),
    "low": ("low", "l", "low price"),
    "close": ("close", "c", "close/last", "close price", "last"),
    "volume": ("volume", "vol", "v"),
    "symbol": ("symbol", "ticker", "sym"),
}
"""Canonical column -> accepted names, normalised, in order of preference."""

REQUIRED = ("ts", "open", "high", "low", "close")
_ADJUSTED = ("adj close", "adjclose", "adjusted close", "adj")
_FORMATS = {".csv.gz": "csv.gz", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def _norm(name: object) -> str:
    text = str(name).strip().strip("<>").lower()
    return re.sub(r"[^a-z0-9/]+", " ", text).strip()


def data_format(path: Path) -> str | None:
    """``'csv'``, ``'csv.gz'`` or ``'parquet'`` for a data file, else None."""
    name = path.name.lower()
    for suffix, fmt in _FORMATS.items():
        if name.endswith(suffix):
            return fmt
    return None


def file_stem(path: Path) -> str:
    """The file name without its data extension (``aapl.csv.gz`` -> ``aapl``)."""
    name = path.name
    for suffix in DATA_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


@dataclass(frozen=True)
class ColumnMap:
    """Which raw column holds each canonical field.

    ``columns`` maps ``ts, open, high, low, close`` and optionally ``volume``
    and ``symbol`` to raw column names; ``time`` is set when the timestamp is
    split over a date column and a time column. ``notes`` say what was ignored.
    """

    columns: dict[str, str]
    time: str | None = None
    notes: list[str] = field(default_factory=list)


def _pick(keys: dict[str, str], canonical: str) -> str | None:
    for alias in ALIASES[canonical]:
        if alias in keys:
            return keys[alias]
    return None


def _notes(raw: pd.DataFrame, used: set[str], display: str, has_volume: bool) -> list[str]:
    notes = [] if has_volume else [f"{display}: no volume column; volume is stored as 0"]
    unused = [c for c in raw.columns if c not in used]
    adjusted = [c for c in unused if _norm(c) in _ADJUSTED]
    if adjusted:
        notes.append(
            f"{display}: ignored {adjusted} (adjusted prices; Nexus stores raw prices "
            "and applies corporate actions at read time)"
        )
    other = [c for c in unused if c not in adjusted]
    if other:
        notes.append(f"{display}: ignored columns {other}")
    return notes


def map_columns(raw: pd.DataFrame, display: str) -> ColumnMap:
    """Find the canonical columns of ``raw``.

    Raises
    ------
    DataError
        If one of ``ts, open, high, low, close`` is missing.
    """
    keys: dict[str, str] = {}
    for col in raw.columns:
        keys.setdefault(_norm(col), col)
    columns = {name: col for name in ALIASES if (col := _pick(keys, name)) is not None}
    time = None
    if "time" in keys and "date" in keys and columns.get("ts") == keys["date"]:
        columns["ts"], time = keys["date"], keys["time"]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise DataError(
            f"file {display} lacks the columns {missing}; it has {[str(c) for c in raw.columns]}",
            fix="name them date (or timestamp), open, high, low, close (volume and symbol are "
            "optional; case and common aliases such as o/h/l/c or Close/Last are accepted)",
        )
    used = set(columns.values()) | ({time} if time else set())
    notes = _notes(raw, used, display, "volume" in columns)
    return ColumnMap(columns=columns, time=time, notes=notes)


def _csv(path: Path, bad: list[list[str]]) -> pd.DataFrame:
    opts = {"dtype": str, "keep_default_na": False, "encoding": "utf-8-sig"}
    try:
        return pd.read_csv(path, **opts)
    except pd.errors.ParserError:  # ragged rows: re-read, keeping them aside
        return pd.read_csv(path, engine="python", on_bad_lines=bad.append, **opts)


def read_table(path: Path, fmt: str, display: str) -> tuple[pd.DataFrame, list[list[str]]]:
    """Read one data file.

    Parameters
    ----------
    path : Path
        The file.
    fmt : {"csv", "csv.gz", "parquet"}
        Its format (see :func:`data_format`).
    display : str
        How the file is named in messages.

    Returns
    -------
    raw : DataFrame, shape (n, k)
        CSV cells as strings (empty string where blank); Parquet columns with
        their stored types. A Parquet index (a pandas DatetimeIndex) becomes a
        column.
    bad_lines : list of list of str
        CSV lines with more fields than the header, as split fields.

    Raises
    ------
    DataError
        If the file cannot be read at all.
    """
    bad: list[list[str]] = []
    try:
        if fmt == "parquet":
            raw = pd.read_parquet(path)
            if not isinstance(raw.index, pd.RangeIndex):
                raw = raw.reset_index()
            return raw, bad
        return _csv(path, bad), bad
    except pd.errors.EmptyDataError:
        return pd.DataFrame(), bad
    except (UnicodeDecodeError, OSError, EOFError, ValueError) as exc:
        raise DataError(
            f"file {display} cannot be read as {fmt} ({type(exc).__name__}: {exc})",
            fix=f"check that it is a complete, UTF-8 encoded {fmt} file",
        ) from exc
