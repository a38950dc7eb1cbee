"""Each symbol's newest feature rows, kept in memory and updated bar by bar."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from nexus.features import FeatureContext, FeaturePipeline, FeatureSpec

__all__ = ["FeatureWindows"]


class FeatureWindows:
    """Online features of one spec and the last ``length`` feature rows of every symbol.

    The rows are kept as float32, the models' input type, in one array in symbol
    order, so when a bar time brings every symbol (the usual case) the windows
    are handed to ONNX Runtime without a copy.

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
        self._rows = np.full((0, self.length, self.width), np.nan, dtype=np.float32)
        self._ready = np.zeros(0, dtype=np.int64)  # trailing finite rows per symbol
        self.last_ts: pd.Timestamp | None = None

    @property
    def warmup(self) -> int:
        """Bars of history :meth:`warm` needs per symbol for exact features."""
        return self.pipeline.warmup

    def warm(self, history: pd.DataFrame, context: FeatureContext | None = None) -> None:
        """Rebuild the online state and every symbol's rows from stored (adjusted) bars.

        Parameters
        ----------
        history : DataFrame, shape (n, 9)
            Bar frame of one interval with at least ``warmup + length`` bars per
            symbol for complete windows.
        context : FeatureContext, optional
            The stored news and macro vintages, when the spec reads them.
        """
        context = context or FeatureContext()
        tails = self.online.warm_tail(history, self.length, news=context.news, macro=context.macro)
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
        pad = np.full((len(new), self.length, self.width), np.nan, dtype=np.float32)
        self._rows = np.concatenate([self._rows, pad])
        self._ready = np.concatenate([self._ready, np.zeros(len(new), dtype=np.int64)])

    def add_context(self, context: FeatureContext) -> None:
        """Take news items and macro vintages stored since the warm-up (each once)."""
        self.online.add_context(news=context.news, macro=context.macro)

    def update(self, ts: pd.Timestamp, symbols: Sequence[str], ohlcv: np.ndarray) -> None:
        """Add the bars of one bar time (raw OHLCV, shape (m, 5)) to the windows."""
        rows = self.online.update_arrays(ts.to_datetime64(), symbols, ohlcv)
        self._grow(symbols)
        idx = self._indices(symbols)
        every = _every(idx, len(self._rows))
        if every:  # a slice, not a gather: every symbol moves by one row
            self._rows[:, :-1] = self._rows[:, 1:]
            self._rows[:, -1] = rows
        else:
            self._rows[idx, :-1] = self._rows[idx, 1:]
            self._rows[idx, -1] = rows
        finite = np.isfinite(rows).all(axis=1)
        self._ready[idx] = np.where(finite, self._ready[idx] + 1, 0)
        self.last_ts = ts if self.last_ts is None else max(self.last_ts, ts)

    def _indices(self, symbols: Sequence[str]) -> np.ndarray:
        index = self._index
        return np.fromiter((index.get(s, -1) for s in symbols), dtype=np.intp, count=len(symbols))

    def windows(self, symbols: Sequence[str], lookback: int) -> tuple[np.ndarray, np.ndarray]:
        """Feature windows of ``symbols`` and how many of their rows are ready.

        Parameters
        ----------
        symbols : sequence of str, length m
            Symbols, known or not (an unknown one gets NaN rows, 0 ready).
        lookback : int
            Rows a model reads; a window can be scored when its ready count
            reaches it.

        Returns
        -------
        windows : ndarray of float32, shape (m, lookback, F)
            Oldest row first. When ``symbols`` are all known symbols in the order
            they were first seen, a read-only view of the state (no copy).
        ready : ndarray of int64, shape (m,)
            Trailing complete rows, at most ``lookback``.
        """
        idx = self._indices(symbols)
        if _every(idx, len(self._rows)):
            view = self._rows[:, self.length - lookback :]
            view.flags.writeable = False
            return view, np.minimum(self._ready, lookback)
        known = idx >= 0
        out = np.full((len(symbols), lookback, self.width), np.nan, dtype=np.float32)
        out[known] = self._rows[idx[known], self.length - lookback :]
        ready = np.zeros(len(symbols), dtype=np.int64)
        ready[known] = np.minimum(self._ready[idx[known]], lookback)
        return out, ready


def _every(idx: np.ndarray, n: int) -> bool:
    """Whether ``idx`` is ``0 .. n - 1`` in order."""
    return len(idx) == n and bool((idx == np.arange(n)).all())
