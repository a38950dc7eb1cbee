"""Column layouts of the bulk frames that move between stages.

Every frame is a :class:`pandas.DataFrame` with the columns below, in that
order, ``ts`` as ``datetime64[us, UTC]``. The helpers coerce a frame that
already has the right columns to the exact dtypes; they never rename.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "ACTION_COLUMNS",
    "BAR_COLUMNS",
    "MACRO_COLUMNS",
    "NEWS_COLUMNS",
    "PREDICTION_COLUMNS",
    "QUARANTINE_COLUMNS",
    "RECOMMENDATION_COLUMNS",
    "actions_frame",
    "bars_frame",
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
        raise ValueError(f"{what} frame lacks columns {missing}; expected {list(columns)}")
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
