"""Turning rejected and flagged rows into quarantine records with stable keys.

A record's key hashes what identifies the row (kind, source, symbol, interval,
time, reason, raw values and, for repeats of the same row, which repeat it is),
never the run, so ingesting the same input twice records each row once.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

from nexus.domain import BAR_COLUMNS, QUARANTINE_COLUMNS, quarantine_frame

__all__ = ["EMPTY", "bar_quarantine", "reject_quarantine"]

EMPTY = pd.DataFrame({c: pd.Series(dtype=str) for c in QUARANTINE_COLUMNS}).astype(
    {"ts": "datetime64[us, UTC]"}
)
"""An empty quarantine frame (do not modify)."""


def bar_quarantine(
    rows: pd.DataFrame, *, disposition: str, run_id: str, source: str
) -> pd.DataFrame:
    """Quarantine records for bars that validation rejected or flagged.

    Parameters
    ----------
    rows : DataFrame, shape (n, 11)
        ``BAR_COLUMNS`` plus ``reason`` and ``detail``.
    disposition : {"rejected", "flagged"}
        Whether the rows were kept out of the store or stored and flagged.
    run_id, source : str
        The ingest run and the source the rows came from.
    """
    if rows.empty:
        return _empty()
    payload = [_bar_payload(r) for r in rows[list(BAR_COLUMNS)].itertuples(index=False)]
    frame = pd.DataFrame(
        {
            "kind": "bar",
            "source": source,
            "symbol": rows["symbol"].astype(str).to_numpy(),
            "interval": rows["interval"].astype(str).to_numpy(),
            "ts": rows["ts"].to_numpy(),
            "reason": rows["reason"].to_numpy(),
            "detail": rows["detail"].to_numpy(),
            "disposition": disposition,
            "payload": payload,
            "run_id": run_id,
        }
    )
    return _with_keys(frame)


def reject_quarantine(
    rejects: pd.DataFrame, *, kind: str, run_id: str, source: str
) -> pd.DataFrame:
    """Quarantine records for raw rows a source could not parse (``REJECT_COLUMNS``)."""
    if rejects is None or rejects.empty:
        return _empty()
    frame = pd.DataFrame(
        {
            "kind": kind,
            "source": source,
            "symbol": rejects["symbol"].to_numpy(),
            "interval": rejects["interval"].to_numpy(),
            "ts": pd.to_datetime(rejects["ts"], utc=True).to_numpy(),
            "reason": rejects["reason"].astype(str).to_numpy(),
            "detail": rejects["detail"].astype(str).to_numpy(),
            "disposition": "rejected",
            "payload": rejects["payload"].astype(str).to_numpy(),
            "run_id": run_id,
        }
    )
    return _with_keys(frame)


def _bar_payload(row) -> str:
    values = {c: _json_value(getattr(row, c)) for c in BAR_COLUMNS}
    return json.dumps(values, sort_keys=True)


def _json_value(value):
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _with_keys(frame: pd.DataFrame) -> pd.DataFrame:
    ident = [
        "|".join(str(v) for v in row)
        for row in frame[
            ["kind", "source", "symbol", "interval", "ts", "reason", "disposition", "payload"]
        ].itertuples(index=False)
    ]
    repeat = pd.Series(ident).groupby(ident).cumcount().to_numpy()
    frame["key"] = [
        hashlib.sha256(f"{i}|{n}".encode()).hexdigest()[:32]
        for i, n in zip(ident, repeat, strict=True)
    ]
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return quarantine_frame(frame.loc[:, list(QUARANTINE_COLUMNS)])


def _empty() -> pd.DataFrame:
    return EMPTY.copy()
