"""Column layouts of the bulk frames that move between stages.

Every frame is a :class:`pandas.DataFrame` with the columns below, in that
order, ``ts`` as ``datetime64[us, UTC]``. The helpers coerce a frame that
already has the right columns to the exact dtypes; they never rename.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from nexus.errors import DataError

__all__ = [
    "ACTION_COLUMNS",
    "ALERT_COLUMNS",
    "ALERT_LEVELS",
    "BAR_COLUMNS",
    "DRIFT_COLUMNS",
    "MACRO_COLUMNS",
    "NEWS_COLUMNS",
    "PREDICTION_COLUMNS",
    "QUARANTINE_COLUMNS",
    "RECOMMENDATION_COLUMNS",
    "actions_frame",
    "alerts_frame",
    "bars_frame",
    "drift_frame",
    "empty_bars",
    "macro_frame",
    "merge_lists",
    "news_frame",
    "predictions_frame",
    "quarantine_frame",
    "recommendations_frame",
    "ts_array",
    "utc",
]

BAR_COLUMNS = ("symbol", "interval", "ts", "open", "high", "low", "close", "volume", "source")
ACTION_COLUMNS = ("symbol", "ex_date", "kind", "ratio", "amount", "source")
NEWS_COLUMNS = (
    "id",
    "published_at",
    "available_at",
    "headline",
    "symbols",
    "body",
    "url",
    "sentiment",
    "sentiment_model",
    "source",
)
"""One row per story. ``symbols`` and ``source`` are comma-separated lists (a story
several feeds carried is stored once, with every source); ``sentiment_model`` names
the scorer and its version that made ``sentiment`` (empty when unscored)."""
MACRO_COLUMNS = ("series_id", "period", "realtime_start", "value", "source")
PREDICTION_COLUMNS = (
    "symbol",
    "interval",
    "ts",
    "model",
    "version",
    "p_down",
    "p_neutral",
    "p_up",
    "threshold",
)
"""One row per (symbol, interval, ts, model): a champion's calibrated probabilities."""
RECOMMENDATION_COLUMNS = (
    "symbol",
    "interval",
    "ts",
    "action",
    "confidence",
    "reasons",
    "risk",
    "vetoed",
)
"""One row per (symbol, interval, ts); ``reasons`` (list) and ``risk`` (dict) as JSON text."""
QUARANTINE_COLUMNS = (
    "key",
    "kind",
    "source",
    "symbol",
    "interval",
    "ts",
    "reason",
    "detail",
    "disposition",
    "payload",
    "run_id",
)
"""A quarantined or flagged row: ``disposition`` is ``'rejected'`` (not stored)
or ``'flagged'`` (stored, but suspicious). ``key`` identifies the row so that
re-running an ingest never records it twice."""

ALERT_COLUMNS = ("id", "at", "level", "source", "kind", "slot", "message", "details")
"""One row per alert the monitor raised, unique on ``id``: when (``at``), how bad
(``level``, one of :data:`ALERT_LEVELS`), who raised it (``source``), what it is
about (``kind``, and the model ``slot`` or ``""``), a one-line ``message`` and
``details`` as the JSON text of an object."""
ALERT_LEVELS = ("info", "warning", "critical")
"""The levels of an alert, least to most severe."""
DRIFT_COLUMNS = (
    "at",
    "slot",
    "version",
    "bar_ts",
    "status",
    "data_score",
    "drifted",
    "confidence",
    "confidence_ref",
    "accuracy",
    "accuracy_ref",
    "macro_f1",
    "macro_f1_ref",
    "n_window",
    "n_resolved",
    "details",
)
"""One row per drift check of a model slot, unique on (``slot``, ``at``): the slot's
``version``, the newest bar checked (``bar_ts``, NaT when none), the verdict
(``status``), the scores with their reference values (NaN when not known), the
window and resolved-label counts, and ``details`` as the JSON text of an object."""
_DRIFT_FLOATS = (
    "data_score",
    "drifted",
    "confidence",
    "confidence_ref",
    "accuracy",
    "accuracy_ref",
    "macro_f1",
    "macro_f1_ref",
)

_FLOATS = ("open", "high", "low", "close", "volume")
_TS = pd.DatetimeTZDtype("us", "UTC")


def utc(values: pd.Series | pd.Index) -> pd.Series:
    """Return ``values`` as ``datetime64[us, UTC]`` (naive values are taken as UTC)."""
    out = pd.to_datetime(values, utc=True)
    return out.astype("datetime64[us, UTC]")


def ts_array(values: pd.Series | pd.Index) -> np.ndarray:
    """Return UTC timestamps as a naive ``datetime64[us]`` array (fast, no objects).

    Parameters
    ----------
    values : Series or Index, shape (n,)
        tz-aware or naive-UTC datetimes.
    """
    index = pd.DatetimeIndex(values)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return index.to_numpy().astype("datetime64[us]")


def _ensure(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> pd.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{what} frame lacks columns {missing}",
            fix=f"pass a frame with every column of {list(columns)}",
        )
    return frame.loc[:, list(columns)].reset_index(drop=True)


def bars_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with exactly :data:`BAR_COLUMNS` and their canonical dtypes.

    Parameters
    ----------
    frame : DataFrame, shape (n, >= 9)
        Must hold every column of :data:`BAR_COLUMNS`.

    Returns
    -------
    DataFrame, shape (n, 9)
    """
    out = _ensure(frame, BAR_COLUMNS, "bar")
    for col in ("symbol", "interval", "source"):
        if out[col].dtype != "str":
            out[col] = out[col].astype(str)
    if out["ts"].dtype != _TS:
        out["ts"] = utc(out["ts"])
    for col in _FLOATS:
        if out[col].dtype != "float64":
            out[col] = out[col].astype("float64")
    return out


def actions_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with exactly :data:`ACTION_COLUMNS` and their dtypes."""
    out = _ensure(frame, ACTION_COLUMNS, "corporate action")
    out["symbol"] = out["symbol"].astype(str)
    out["ex_date"] = pd.to_datetime(out["ex_date"]).dt.date
    out["kind"] = out["kind"].astype(str)
    out["ratio"] = out["ratio"].astype("float64")
    out["amount"] = out["amount"].astype("float64")
    out["source"] = out["source"].astype(str)
    return out


def merge_lists(values: Sequence[str]) -> str:
    """The distinct items of comma-separated lists (news ``symbols``, ``source``), sorted.

    Examples
    --------
    >>> merge_lists(["rss:a,rss:b", "rss:a", ""])
    'rss:a,rss:b'
    """
    items = {x.strip() for v in values for x in str(v).split(",")}
    return ",".join(sorted(items - {""}))


def news_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with exactly :data:`NEWS_COLUMNS` and their dtypes.

    ``symbols`` holds a comma-separated list of tickers. A frame without
    ``sentiment_model`` (a source's, before scoring) gets it empty.
    """
    if "sentiment_model" not in frame.columns:
        frame = frame.assign(sentiment_model="")
    out = _ensure(frame, NEWS_COLUMNS, "news")
    model = out["sentiment_model"]
    out["sentiment_model"] = model.astype(object).where(model.notna(), "")
    for col in ("id", "headline", "symbols", "body", "url", "sentiment_model", "source"):
        out[col] = out[col].astype(str)
    out["published_at"] = utc(out["published_at"])
    out["available_at"] = utc(out["available_at"])
    out["sentiment"] = out["sentiment"].astype("float64")
    return out


def macro_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with exactly :data:`MACRO_COLUMNS` and their dtypes."""
    out = _ensure(frame, MACRO_COLUMNS, "macro")
    out["series_id"] = out["series_id"].astype(str)
    out["period"] = pd.to_datetime(out["period"]).dt.date
    out["realtime_start"] = utc(out["realtime_start"])
    out["value"] = out["value"].astype("float64")
    out["source"] = out["source"].astype(str)
    return out


def predictions_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with exactly :data:`PREDICTION_COLUMNS` and their dtypes."""
    out = _ensure(frame, PREDICTION_COLUMNS, "prediction")
    for col in ("symbol", "interval", "model", "version"):
        out[col] = out[col].astype(str)
    out["ts"] = utc(out["ts"])
    for col in ("p_down", "p_neutral", "p_up", "threshold"):
        out[col] = out[col].astype("float64")
    return out


def recommendations_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with exactly :data:`RECOMMENDATION_COLUMNS` and their dtypes."""
    out = _ensure(frame, RECOMMENDATION_COLUMNS, "recommendation")
    for col in ("symbol", "interval", "action", "reasons", "risk"):
        out[col] = out[col].astype(str)
    out["ts"] = utc(out["ts"])
    out["confidence"] = out["confidence"].astype("float64")
    out["vetoed"] = out["vetoed"].astype(bool)
    return out


def empty_bars() -> pd.DataFrame:
    """Return an empty bar frame with the canonical dtypes."""
    return bars_frame(pd.DataFrame({c: [] for c in BAR_COLUMNS}))


def quarantine_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with exactly :data:`QUARANTINE_COLUMNS` and their dtypes."""
    out = _ensure(frame, QUARANTINE_COLUMNS, "quarantine")
    for col in ("key", "kind", "source", "reason", "detail", "disposition", "payload", "run_id"):
        out[col] = out[col].astype(str)
    for col in ("symbol", "interval"):
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    out["ts"] = utc(out["ts"])
    return out


def alerts_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with exactly :data:`ALERT_COLUMNS` and their dtypes, checked.

    ``id`` must be a non-empty string, ``at`` a timezone-aware instant (it is
    converted to UTC; a naive one is refused, its zone is unknown), ``level`` one
    of :data:`ALERT_LEVELS`; missing ``slot`` or ``message`` become ``""``.
    ``details`` is the JSON text of an object (a dict is encoded, a missing value
    becomes ``"{}"``).

    Parameters
    ----------
    frame : DataFrame, shape (n, >= 8)
        Must hold every column of :data:`ALERT_COLUMNS`.

    Returns
    -------
    DataFrame, shape (n, 8)
        ``at`` as ``datetime64[us, UTC]``, every other column ``str``.

    Raises
    ------
    DataError
        If a column is missing or a row breaks one of the rules above; the
        message names the column and the first offending rows.

    Examples
    --------
    >>> row = {"id": "a1", "at": pd.Timestamp("2024-03-01 14:30", tz="UTC"), "level": "warning",
    ...        "source": "drift", "kind": "data_drift", "slot": "lstm", "message": "PSI 0.31",
    ...        "details": {"psi": 0.31}}
    >>> alerts_frame(pd.DataFrame([row]))["details"].tolist()
    ['{"psi": 0.31}']
    """
    what = "alert"
    out = _ensure(frame, ALERT_COLUMNS, what)
    out["id"] = _text(out["id"], what, "id", required=True)
    out["at"] = _instants(out["at"], what, "at", nullable=False)
    out["level"] = _text(out["level"], what, "level", required=True)
    bad = ~out["level"].isin(ALERT_LEVELS)
    if bad.any():
        raise DataError(
            f"{what} frame column 'level' has {sorted(set(out['level'][bad]))} in rows "
            f"{_rows(bad)}; an alert level is one of {list(ALERT_LEVELS)}",
            fix=f"use one of {', '.join(ALERT_LEVELS)} (lower case)",
        )
    for col in ("source", "kind"):
        out[col] = _text(out[col], what, col, required=True)
    for col in ("slot", "message"):
        out[col] = _text(out[col], what, col, required=False)
    out["details"] = _json_objects(out["details"], what)
    return out


def drift_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with exactly :data:`DRIFT_COLUMNS` and their dtypes, checked.

    ``at`` must be a timezone-aware instant and ``bar_ts`` one or missing (a
    naive one is refused); ``slot`` and ``status`` non-empty strings, a missing
    ``version`` becomes ``""``. The score columns are ``float64`` with NaN for
    "not known"; ``n_window`` and ``n_resolved`` whole counts (``int64``).
    ``details`` is the JSON text of an object (a dict is encoded, a missing value
    becomes ``"{}"``).

    Parameters
    ----------
    frame : DataFrame, shape (n, >= 16)
        Must hold every column of :data:`DRIFT_COLUMNS`.

    Returns
    -------
    DataFrame, shape (n, 16)

    Raises
    ------
    DataError
        If a column is missing or a row breaks one of the rules above; the
        message names the column and the first offending rows.
    """
    what = "drift"
    out = _ensure(frame, DRIFT_COLUMNS, what)
    out["at"] = _instants(out["at"], what, "at", nullable=False)
    out["bar_ts"] = _instants(out["bar_ts"], what, "bar_ts", nullable=True)
    for col in ("slot", "status"):
        out[col] = _text(out[col], what, col, required=True)
    out["version"] = _text(out["version"], what, "version", required=False)
    for col in _DRIFT_FLOATS:
        out[col] = _floats(out[col], what, col)
    for col in ("n_window", "n_resolved"):
        out[col] = _counts(out[col], what, col)
    out["details"] = _json_objects(out["details"], what)
    return out


# -- checks of the monitoring frames -------------------------------------------------------


def _rows(bad: pd.Series | np.ndarray) -> list[int]:
    """The positions of the first five offending rows."""
    return np.flatnonzero(np.asarray(bad, dtype=bool))[:5].tolist()


def _missing(value: object) -> bool:
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and math.isnan(value))
    )


def _text(values: pd.Series, what: str, column: str, *, required: bool) -> pd.Series:
    """``values`` as ``str``; missing values are refused (``required``) or become ``""``."""
    missing = values.isna()
    if not required:
        return values.astype(object).where(~missing, "").astype(str)
    out = values.astype(str)
    bad = missing | (out.str.strip() == "")
    if bad.any():
        raise DataError(
            f"{what} frame column {column!r} is missing or empty in rows {_rows(bad)}",
            fix=f"give every row a non-empty {column}",
        )
    return out


def _instants(values: pd.Series, what: str, column: str, *, nullable: bool) -> pd.Series:
    """``values`` as ``datetime64[us, UTC]``; naive (zone-less) times are refused."""
    dtype = values.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        out = values.dt.tz_convert("UTC")
    elif values.notna().any() and pd.api.types.is_datetime64_dtype(dtype):
        bad = values.notna().to_numpy()
        raise _naive(what, column, bad)
    else:
        stamps = [None if _missing(v) else _timestamp(v, what, column) for v in values]
        bad = np.array([t is not None and t.tzinfo is None for t in stamps], dtype=bool)
        if bad.any():
            raise _naive(what, column, bad)
        out = pd.to_datetime(pd.Series(stamps, index=values.index, dtype=object), utc=True)
    out = out.astype("datetime64[us, UTC]")
    if not nullable and out.isna().any():
        raise DataError(
            f"{what} frame column {column!r} is missing in rows {_rows(out.isna())}",
            fix=f"give every row a timezone-aware {column}",
        )
    return out


def _timestamp(value: object, what: str, column: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"{what} frame column {column!r} holds {value!r}, which is not a time",
            fix="pass timezone-aware datetimes or ISO 8601 text with an offset",
        ) from exc


def _naive(what: str, column: str, bad: np.ndarray) -> DataError:
    return DataError(
        f"{what} frame column {column!r} has naive times (no timezone) in rows {_rows(bad)}",
        fix="give the times a timezone, for example with Series.dt.tz_localize('UTC')",
    )


def _floats(values: pd.Series, what: str, column: str) -> pd.Series:
    """``values`` as ``float64`` (missing values become NaN)."""
    try:
        return pd.to_numeric(values).astype("float64")
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"{what} frame column {column!r} holds values that are not numbers ({exc})",
            fix=f"pass numbers in {column}, NaN where it is not known",
        ) from exc


def _counts(values: pd.Series, what: str, column: str) -> pd.Series:
    """``values`` as ``int64``; missing, fractional or negative counts are refused."""
    numbers = _floats(values, what, column).to_numpy()
    bad = ~np.isfinite(numbers) | (numbers < 0) | (np.floor(numbers) != numbers)
    if bad.any():
        raise DataError(
            f"{what} frame column {column!r} is missing, negative or not whole in rows "
            f"{_rows(bad)}",
            fix=f"pass {column} as a count of rows, 0 or more",
        )
    return pd.Series(numbers.astype("int64"), index=values.index)


def _json_objects(values: pd.Series, what: str) -> pd.Series:
    """``details`` as JSON text of objects: dicts are encoded, missing values become ``{}``."""
    out: list[str] = []
    bad: list[int] = []
    for i, value in enumerate(values):
        if isinstance(value, dict):
            out.append(json.dumps(value, sort_keys=True, default=str))
            continue
        if _missing(value):
            out.append("{}")
            continue
        try:
            ok = isinstance(value, str) and isinstance(json.loads(value), dict)
        except ValueError:
            ok = False
        out.append(value if ok else "")
        if not ok:
            bad.append(i)
    if bad:
        raise DataError(
            f"{what} frame column 'details' is not the JSON text of an object in rows {bad[:5]}",
            fix="pass a dict or json.dumps(dict) in details, '{}' when there is nothing",
        )
    return pd.Series(out, index=values.index, dtype=str)
