"""Each symbol's newest feature rows, kept in memory and updated bar by bar."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from nexus.features import FeaturePipeline, FeatureSpec

__all__ = ["FeatureWindows"]


class FeatureWindows:
    """Online features of one spec and the last ``length`` feature rows of every symbol.

    Parameters
    ----------
    spec : FeatureSpec
        The features the models were trained on.
    length : int
        Rows kept per symbol: the longest lookback of the models using ``spec``.
    """

    def __init__(self, spec: FeatureSpec, length: int) -> None:
        self.spec = spec
        self.length = int(length)
        self.pipeline = FeaturePipeline(spec)
        self.online = self.pipeline.online()
        self.width = len(self.pipeline.names)
        self._index: dict[str, int] = {}
        self._rows = np.full((0, self.length, self.width), np.nan)
        self._ready = np.zeros(0, dtype=np.int64)  # trailing finite rows per symbol
        self.last_ts: pd.Timestamp | None = None

    @property
    def warmup(self) -> int:
        """Bars of history :meth:`warm` needs per symbol for exact features."""
        return self.pipeline.warmup

    def warm(self, history: pd.DataFrame) -> None:
        """Rebuild the online state and every symbol's rows from stored (adjusted) bars.

        Parameters
        ----------
        history : DataFrame, shape (n, 9)
            Bar frame of one interval with at least ``warmup + length`` bars per
            symbol for complete windows.
        """
        tails = self.online.warm_tail(history, self.length)
        self._index, self._rows, self._ready = {}, self._rows[:0], self._ready[:0]
        if history.empty:
            self.last_ts = None
            return
        self._grow(list(tails))
        for symbol, tail in tails.items():
            i = self._index[symbol]
            self._rows[i, self.length - len(tail) :] = tail
            finite = np.isfinite(tail).all(axis=1)[::-1]
            self._ready[i] = len(finite) if finite.all() else int(np.argmin(finite))
        self.last_ts = pd.Timestamp(history["ts"].max())

    def _grow(self, symbols: Sequence[str]) -> None:
        new = [s for s in symbols if s not in self._index]
        if not new:
            return
        for s in new:
            self._index[s] = len(self._index)
        pad = np.full((len(new), self.length, self.width), np.nan)
        self._rows = np.concatenate([self._rows, pad])
        self._ready = np.concatenate([self._ready, np.zeros(len(new), dtype=np.int64)])

    def update(self, ts: pd.Timestamp, symbols: Sequence[str], ohlcv: np.ndarray) -> None:
        """Add the bars of one bar time (raw OHLCV, shape (m, 5)) to the windows."""
        rows = self.online.update_arrays(ts.to_datetime64(), symbols, ohlcv)
        self._grow(symbols)
        idx = np.fromiter((self._index[s] for s in symbols), dtype=np.intp, count=len(symbols))
        self._rows[idx, :-1] = self._rows[idx, 1:]
        self._rows[idx, -1] = rows
        finite = np.isfinite(rows).all(axis=1)
        self._ready[idx] = np.where(finite, self._ready[idx] + 1, 0)
        self.last_ts = ts if self.last_ts is None else max(self.last_ts, ts)

    def windows(self, symbols: Sequence[str], lookback: int) -> tuple[np.ndarray, np.ndarray]:
        """Feature windows (m, length, F) of ``symbols`` and how many of their rows are ready.

        A window can be scored when its ready count reaches ``lookback``.
        """
        idx = np.fromiter(
            (self._index.get(s, -1) for s in symbols), dtype=np.intp, count=len(symbols)
        )
        known = idx >= 0
        out = np.full((len(symbols), self.length, self.width), np.nan)
        out[known] = self._rows[idx[known]]
        ready = np.zeros(len(symbols), dtype=np.int64)
        ready[known] = np.minimum(self._ready[idx[known]], lookback)
        return out, ready
