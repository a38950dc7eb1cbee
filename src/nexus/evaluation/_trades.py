"""Round-trip trades from the path of positions.

A trade is one run of same-signed position in one symbol: it opens when the
position leaves 0 (or flips sign) and closes when it returns to 0 (or flips).
Resizing inside a run belongs to the run. Its profit is the mark-to-market
profit of the position over the run, net of every cost paid for its fills; a
flip's costs are split between the closing and the opening trade by shares.
"""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd

__all__ = ["TRADE_COLUMNS", "extract_trades"]

TRADE_COLUMNS = (
    "symbol",
    "entry_ts",
    "exit_ts",
    "entry_price",
    "exit_price",
    "size",
    "pnl",
    "return",
    "costs",
    "closed",
)


def extract_trades(
    ts: pd.DatetimeIndex,
    symbols: pd.Index,
    *,
    open_: np.ndarray,
    close: np.ndarray,
    valid: np.ndarray,
    shares: np.ndarray,
    costs: np.ndarray,
) -> pd.DataFrame:
    """Round-trip trades, one row per run of same-signed position.

    Parameters
    ----------
    ts : DatetimeIndex, shape (T,)
        Bar times.
    symbols : Index, shape (N,)
        Symbols, the columns of the arrays.
    open_, close : ndarray, shape (T, N)
        Prices (fills happen at the open).
    valid : ndarray of bool, shape (T, N)
        Where a symbol has a bar (positions change only there).
    shares : ndarray, shape (T, N)
        Shares held after each bar.
    costs : ndarray, shape (T, N)
        Costs paid at each bar's fills.

    Returns
    -------
    DataFrame, shape (k, 10)
        :data:`TRADE_COLUMNS`: entry and exit price are the share-weighted
        average prices of the fills that grew and shrank the position (an open
        trade exits at its last close, ``exit_ts`` NaT, ``closed`` False);
        ``size`` is the signed position after the first fill; ``return`` is
        ``pnl / (|size| * entry_price)``.
    """
    runs = _runs(
        *(np.ascontiguousarray(a.T, dtype=np.float64) for a in (open_, close, shares, costs)),
        np.ascontiguousarray(valid.T, dtype=np.bool_),
    )
    sym, entry_row, exit_row, size, pnl, paid, grow_q, grow_v, shrink_q, shrink_v = runs
    if not len(sym):
        return _empty()
    closed = exit_row >= 0
    entry_price = grow_v / grow_q
    return pd.DataFrame(
        {
            "symbol": symbols[sym].astype(str),
            "entry_ts": ts[entry_row],
            "exit_ts": pd.Series(ts[np.where(closed, exit_row, 0)]).where(closed),
            "entry_price": entry_price,
            "exit_price": shrink_v / shrink_q,
            "size": size,
            "pnl": pnl,
            "return": pnl / (np.abs(size) * entry_price),
            "costs": paid,
            "closed": closed,
        }
    )


@numba.njit(cache=True, nogil=True)
def _count_runs(shares, valid):  # pragma: no cover - compiled
    count = 0
    for i in range(shares.shape[0]):
        pos = 0.0
        for t in range(shares.shape[1]):
            if valid[i, t]:
                after = shares[i, t]
                if after != 0.0 and (pos == 0.0 or pos * after < 0.0):
                    count += 1
                pos = after
    return count


@numba.njit(cache=True, nogil=True)
def _runs(open_, close, shares, costs, valid):  # pragma: no cover - compiled
    """Per-run records from (N, T) arrays: one pass per symbol, in time order."""
    n = _count_runs(shares, valid)
    sym, entry_row, exit_row = np.zeros(n, np.int64), np.zeros(n, np.int64), np.full(n, -1)
    size, pnl, paid = np.zeros(n), np.zeros(n), np.zeros(n)
    grow_q, grow_v, shrink_q, shrink_v = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    k = -1
    for i in range(shares.shape[0]):
        pos, prev_close = 0.0, 0.0
        for t in range(shares.shape[1]):
            if not valid[i, t]:
                continue
            after, o, cost = shares[i, t], open_[i, t], costs[i, t]
            flip = pos * after < 0.0
            if pos != 0.0:  # the running trade, up to this fill
                pnl[k] += pos * (o - prev_close)
                if after == 0.0 or flip:  # it closes here; a flip's cost is split by shares
                    share = abs(pos) / (abs(pos) + abs(after))
                    pnl[k] -= cost * share
                    paid[k] += cost * share
                    cost -= cost * share
                    shrink_q[k] += abs(pos)
                    shrink_v[k] += abs(pos) * o
                    exit_row[k] = t
            if after != 0.0:
                if pos == 0.0 or flip:  # a new trade opens
                    k += 1
                    sym[k], entry_row[k], size[k] = i, t, after
                    grow_q[k] += abs(after)
                    grow_v[k] += abs(after) * o
                elif abs(after) > abs(pos):
                    grow_q[k] += abs(after) - abs(pos)
                    grow_v[k] += (abs(after) - abs(pos)) * o
                else:
                    shrink_q[k] += abs(pos) - abs(after)
                    shrink_v[k] += (abs(pos) - abs(after)) * o
                pnl[k] += after * (close[i, t] - o) - cost
                paid[k] += cost
            pos, prev_close = after, close[i, t]
        if pos != 0.0:  # still open: marked at the last close
            shrink_q[k] += abs(pos)
            shrink_v[k] += abs(pos) * prev_close
    return sym, entry_row, exit_row, size, pnl, paid, grow_q, grow_v, shrink_q, shrink_v


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in TRADE_COLUMNS})
    frame["symbol"] = frame["symbol"].astype(str)
    for c in ("entry_ts", "exit_ts"):
        frame[c] = pd.Series(dtype="datetime64[us, UTC]")
    frame["closed"] = frame["closed"].astype(bool)
    return frame
