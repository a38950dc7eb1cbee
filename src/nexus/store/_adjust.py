"""Split and dividend adjustment computed at read time.

Backward adjustment, anchored at the newest bar: a bar before an action's
ex-date is multiplied by that action's price factor, a factor of
``1 / ratio`` for a split and ``1 - amount / previous_close`` for a cash
dividend (the CRSP convention). Volume is multiplied by ``ratio`` for splits
only. An action takes effect at midnight UTC of its ex-date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nexus.store._protocol import Adjust

__all__ = ["action_cutoffs", "adjust_bars"]

_PRICES = ["open", "high", "low", "close"]


def action_cutoffs(actions: pd.DataFrame) -> pd.Series:
    """The UTC instant each action takes effect (midnight UTC of ``ex_date``)."""
    return pd.to_datetime(actions["ex_date"]).dt.tz_localize("UTC").astype("datetime64[us, UTC]")


def _price_factor(actions: pd.DataFrame, adjust: Adjust) -> np.ndarray:
    split = np.where(actions["kind"] == "split", 1.0 / actions["ratio"].to_numpy(), 1.0)
    if adjust == "splits":
        return split
    prev = actions["prev_close"].to_numpy(dtype="float64")
    amount = actions["amount"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        div = np.where(
            (actions["kind"] == "dividend") & np.isfinite(prev) & (prev > 0),
            1.0 - amount / prev,
            1.0,
        )
    return split * div


def _utc_ns(ts: pd.Series) -> np.ndarray:
    """Tz-aware timestamps as naive UTC ``datetime64[ns]`` (no per-element objects)."""
    return ts.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")


def adjust_bars(bars: pd.DataFrame, actions: pd.DataFrame, adjust: Adjust) -> pd.DataFrame:
    """Return ``bars`` adjusted for ``actions``.

    Parameters
    ----------
    bars : DataFrame, shape (n, 9)
        Raw bars (``BAR_COLUMNS``), any order.
    actions : DataFrame, shape (m, >= 6)
        ``ACTION_COLUMNS`` plus ``prev_close``: the raw close of the last bar
        before the ex-date (only used for dividends).
    adjust : {"none", "splits", "all"}
        No adjustment, splits only, or splits and cash dividends.

    Returns
    -------
    DataFrame, shape (n, 9)
        A copy with adjusted prices and volumes.

    Examples
    --------
    >>> import pandas as pd
    >>> bars = pd.DataFrame({"symbol": ["A", "A"], "interval": "1d",
    ...     "ts": pd.to_datetime(["2024-01-02", "2024-01-03"], utc=True),
    ...     "open": [100.0, 50.0], "high": [100.0, 50.0], "low": [100.0, 50.0],
    ...     "close": [100.0, 50.0], "volume": [10.0, 20.0], "source": "x"})
    >>> acts = pd.DataFrame({"symbol": ["A"], "ex_date": [pd.Timestamp("2024-01-03").date()],
    ...     "kind": ["split"], "ratio": [2.0], "amount": [0.0], "source": ["x"],
    ...     "prev_close": [100.0]})
    >>> adjust_bars(bars, acts, "splits")[["close", "volume"]].to_numpy().tolist()
    [[50.0, 20.0], [50.0, 20.0]]
    """
    out = bars.copy()
    if adjust == "none" or actions.empty or out.empty:
        return out
    acts = actions.assign(cutoff=action_cutoffs(actions), pf=_price_factor(actions, adjust))
    acts["vf"] = np.where(acts["kind"] == "split", acts["ratio"], 1.0)
    price_f = np.ones(len(out))
    vol_f = np.ones(len(out))
    ts = _utc_ns(out["ts"])
    positions = out.groupby("symbol", sort=False, observed=True).indices
    for symbol, group in acts.sort_values("cutoff").groupby("symbol", sort=False):
        rows = positions.get(symbol)
        if rows is None or rows.size == 0:
            continue
        cut = _utc_ns(group["cutoff"])
        # factor for a bar = product of the factors of every action after it
        tail_p = np.append(np.cumprod(group["pf"].to_numpy()[::-1])[::-1], 1.0)
        tail_v = np.append(np.cumprod(group["vf"].to_numpy()[::-1])[::-1], 1.0)
        k = np.searchsorted(cut, ts[rows], side="right")
        price_f[rows] = tail_p[k]
        vol_f[rows] = tail_v[k]
    for col in _PRICES:
        out[col] = out[col].to_numpy() * price_f
    out["volume"] = out["volume"].to_numpy() * vol_f
    return out
