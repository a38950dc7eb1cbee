"""Turning a sample's frame into bars and rejects."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from nexus.domain import Interval, bars_frame
from nexus.sources._base import rejects_frame

__all__ = ["SOURCE", "parse_sample"]

SOURCE = "samples"
_DETAILS = {
    "bad_timestamp": "the index value is not a timestamp",
    "missing_column_value": "a price (Open, High, Low or Close) is missing",
    "bad_number": "a price (Open, High, Low or Close) is not a finite number",
}
_COLUMNS = {"Open": "open", "High": "high", "Low": "low", "Close": "close", "Volume": "volume"}


def _labels(index: pd.Index, interval: Interval) -> pd.Series:
    """Daily: the date at midnight UTC. Intraday: the naive values are UTC open times."""
    ts = pd.DatetimeIndex(index)
    ts = ts.normalize() if interval is Interval.D1 else ts
    return pd.Series(ts.tz_localize("UTC"), name="ts").astype("datetime64[us, UTC]")


def _payloads(frame: pd.DataFrame) -> list[str]:
    records = frame.reset_index(names="index").astype(object).to_dict("records")
    clean = [{k: None if pd.isna(v) else v for k, v in r.items()} for r in records]
    return [json.dumps(r, default=str) for r in clean]


def parse_sample(
    frame: pd.DataFrame, symbol: str, interval: Interval
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the bars and rejects of one sample.

    Parameters
    ----------
    frame : DataFrame, shape (n, >= 5)
        Naive ``DatetimeIndex``; ``Open, High, Low, Close, Volume``.
    symbol : str
        The symbol to store it under.
    interval : Interval
        Its bar length.

    Returns
    -------
    bars : DataFrame, shape (m, 9)
        ``BAR_COLUMNS``.
    rejects : DataFrame, shape (n - m, 6)
        Rows with a missing or non-finite price or a missing timestamp.
    """
    values = frame.loc[:, list(_COLUMNS)].rename(columns=_COLUMNS).astype("float64")
    ts = _labels(frame.index, interval)
    prices = values[["open", "high", "low", "close"]].to_numpy()
    no_ts = ts.isna().to_numpy()
    missing = np.isnan(prices).any(axis=1)
    bad = ~np.isfinite(prices).all(axis=1) | no_ts
    reason = np.where(
        no_ts, "bad_timestamp", np.where(missing, "missing_column_value", "bad_number")
    )
    bars = values.reset_index(drop=True).assign(
        symbol=symbol, interval=interval.value, ts=ts, source=SOURCE
    )
    rejects = rejects_frame(
        {
            "symbol": symbol,
            "interval": interval.value,
            "ts": ts[bad].to_list(),
            "reason": reason[bad].tolist(),
            "detail": [_DETAILS[r] for r in reason[bad]],
            "payload": _payloads(frame.loc[bad]),
        }
    )
    return bars_frame(bars.loc[~bad]), rejects
