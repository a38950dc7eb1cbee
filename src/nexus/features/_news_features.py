"""News features per (symbol, asof): decayed sentiment, recent count and count surprise.

Every value at ``asof`` uses only the items with ``available_at <= asof`` (the time Nexus
could first have known a story), never ``published_at``. Batch
(:func:`news_features`) and online (:class:`OnlineNewsFeatures`) evaluate the same
recursion, ``S(a') = S(a) * 2 ** (-(a' - a) / half_life) + new items' weights``, and agree
within 1e-9 (see ``docs/features.md``, "News and macro features").
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from pydantic import model_validator

from nexus.config import FrozenConfig
from nexus.errors import DataError

__all__ = [
    "NEWS_FEATURES",
    "NewsFeatureParams",
    "OnlineNewsFeatures",
    "need_columns",
    "news_features",
    "next_asof",
    "scalar_us",
    "times_us",
]

NEWS_FEATURES = ("news_sentiment", "news_count", "news_surprise")
"""The output columns of :func:`news_features`, in order."""
NEWS_NEEDED = ("available_at", "symbols", "sentiment")
DROP_HALF_LIVES = 40
"""Items older than this many half-lives weigh under ``2 ** -40 < 1e-12`` and may be dropped."""
_US = timedelta(microseconds=1)
_TIME_FIX = "pass tz-aware datetimes or naive UTC times, e.g. pd.to_datetime(col, utc=True)"
# the batch recursion is unrolled in closed form over blocks of this many half-lives
# (weights up to 2 ** 64 inside a block: no overflow, rounding relative to the current sum)
_BLOCK_HALF_LIVES = 64


class NewsFeatureParams(FrozenConfig):
    """Windows of the news features.

    Parameters
    ----------
    half_life : timedelta
        Half-life of an item's weight in ``news_sentiment`` (default 2 hours).
    count_window : timedelta
        ``news_count`` counts the items of ``(asof - count_window, asof]`` (default 1 hour).
    norm_window : timedelta
        ``news_surprise`` compares that count with the rate over
        ``(asof - norm_window, asof]`` (default 5 days); at least ``count_window``.

    Examples
    --------
    >>> from datetime import timedelta
    >>> params = NewsFeatureParams(half_life=timedelta(minutes=30))
    >>> params.history
    datetime.timedelta(days=5)
    >>> NewsFeatureParams(half_life=timedelta(0))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for NewsFeatureParams
    ...
    """

    half_life: timedelta = timedelta(hours=2)
    count_window: timedelta = timedelta(hours=1)
    norm_window: timedelta = timedelta(days=5)

    @model_validator(mode="after")
    def _positive(self) -> NewsFeatureParams:
        for name in ("half_life", "count_window", "norm_window"):
            if getattr(self, name) < _US:
                raise ValueError(f"{name} must be at least one microsecond")
        if self.norm_window < self.count_window:
            raise ValueError("norm_window must be at least count_window")
        return self

    @property
    def history(self) -> timedelta:
        """Item history a warm-up needs: ``max(norm_window, 40 half-lives)``.

        Items older than that change no count and weigh under ``2 ** -40`` in
        ``news_sentiment``; it also bounds what :class:`OnlineNewsFeatures` keeps.
        """
        return max(self.norm_window, self.count_window, DROP_HALF_LIVES * self.half_life)


# ---------------------------------------------------------------------- input checks


def need_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise :class:`DataError` naming the ``columns`` that ``frame`` lacks."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"{what} is a {type(frame).__name__}, not a DataFrame",
            fix=f"pass a DataFrame with columns {list(columns)}",
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{what} lacks columns {missing}", fix=f"pass columns {list(columns)}")


def times_us(values: object, what: str) -> np.ndarray:
    """UTC times as int64 microseconds since 1970, shape (n,); naive values are UTC.

    Raises
    ------
    DataError
        Naming ``what`` (the column) when a value is missing or not a time.
    """
    try:
        index = pd.DatetimeIndex(pd.to_datetime(values, utc=True))
        out = index.as_unit("us").asi8
    except (ValueError, TypeError, OverflowError) as exc:
        raise DataError(
            f"{what} holds values that are not UTC times ({exc})", fix=_TIME_FIX
        ) from exc
    if index.hasnans:
        raise DataError(f"{what} has {int(index.isna().sum())} missing times", fix=_TIME_FIX)
    return out


def scalar_us(value: object, what: str) -> int:
    """One UTC time (naive is UTC; an int is already microseconds) as int microseconds."""
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    return int(times_us([value], what)[0])


@dataclass(frozen=True, slots=True)
class _Items:
    """News items, one row per (item, symbol), sorted by symbol then available_at."""

    symbols: dict[str, tuple[int, int]]  # symbol -> rows [start, stop)
    times: np.ndarray  # (k,) int64 us
    sentiment: np.ndarray  # (k,) float64, NaN when unscored

    def of(self, symbol: str) -> tuple[np.ndarray, np.ndarray]:
        start, stop = self.symbols.get(symbol, (0, 0))
        return self.times[start:stop], self.sentiment[start:stop]


def _items(news: pd.DataFrame, what: str) -> _Items:
    """Validate ``news`` and split its comma-separated ``symbols``, one row per symbol."""
    need_columns(news, NEWS_NEEDED, what)
    times = times_us(news["available_at"], f"{what} column 'available_at'")
    try:
        sentiment = news["sentiment"].to_numpy(dtype=np.float64, na_value=np.nan)
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"{what} column 'sentiment' is not numeric ({exc})",
            fix="pass sentiment as floats in [-1, 1], NaN when unscored",
        ) from exc
    if np.isinf(sentiment).any():
        raise DataError(
            f"{what} column 'sentiment' holds infinite values",
            fix="pass sentiment as finite floats, NaN when unscored",
        )
    lists = [str(s).split(",") if isinstance(s, str) else [] for s in news["symbols"].tolist()]
    row = np.repeat(np.arange(len(lists)), np.array([len(x) for x in lists], dtype=np.intp))
    names = np.array([s.strip() for x in lists for s in x], dtype=object)
    keep = names != ""
    row, names = row[keep], names[keep]
    codes, uniques = pd.factorize(pd.Series(names, dtype=object), sort=True)
    order = np.lexsort((times[row], codes))
    bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(uniques)))])
    spans = {str(s): (int(bounds[i]), int(bounds[i + 1])) for i, s in enumerate(uniques)}
    return _Items(spans, times[row][order], sentiment[row][order])


# ---------------------------------------------------------------------- batch


def decayed_sum(
    times: np.ndarray, sentiment: np.ndarray, asof: np.ndarray, half_life: float
) -> np.ndarray:
    """``sum(s_i * 2 ** (-(a - t_i) / half_life) for t_i <= a)`` at each ``a``, shape (m,).

    The recursion ``S_j = S_{j-1} * 2 ** (-(a_j - a_{j-1}) / h) + x_j`` (``x_j``: the
    weights at ``a_j`` of the items of ``(a_{j-1}, a_j]``), unrolled in closed form
    within blocks of 64 half-lives and carried from block to block.

    Parameters
    ----------
    times : ndarray of int64, shape (k,)
        Sorted available_at of the items with a sentiment, microseconds.
    sentiment : ndarray of float64, shape (k,)
        Their sentiment (finite).
    asof : ndarray of int64, shape (m,)
        Sorted, distinct query times, microseconds.
    half_life : float
        In microseconds.
    """
    out = np.zeros(len(asof))
    if not len(asof) or not len(times):
        return out
    slot = np.searchsorted(asof, times, side="left")  # item i joins the first a_j >= t_i
    span = int(_BLOCK_HALF_LIVES * half_life)
    block = (asof - asof[0]) // max(span, 1)
    starts = np.flatnonzero(np.diff(block)) + 1
    edges = [0, *starts.tolist(), len(asof)]
    carry, last = 0.0, int(asof[0])
    for start, stop in itertools.pairwise(edges):
        ref = int(asof[0] + block[start] * span)  # <= asof[start], > every earlier asof
        carry *= 2.0 ** (-(ref - last) / half_life)
        lo, hi = np.searchsorted(slot, [start, stop], side="left")
        weights = sentiment[lo:hi] * np.exp2((times[lo:hi] - ref) / half_life)
        x = np.bincount(slot[lo:hi] - start, weights=weights, minlength=stop - start)
        sums = carry + np.cumsum(x)
        out[start:stop] = sums * np.exp2(-(asof[start:stop] - ref) / half_life)
        carry, last = float(out[stop - 1]), int(asof[stop - 1])
    return out


def _counts(times: np.ndarray, asof: np.ndarray, window: int) -> np.ndarray:
    """Items of ``(a - window, a]`` at each ``a`` (``times`` sorted), shape (m,) float64."""
    upto = np.searchsorted(times, asof, side="right")
    return (upto - np.searchsorted(times, asof - window, side="right")).astype(np.float64)


def surprise(count: np.ndarray, norm_count: np.ndarray, ratio: float) -> np.ndarray:
    """``(count - expected) / sqrt(expected + 1)``, ``expected = norm_count * ratio``."""
    expected = norm_count * ratio
    return (count - expected) / np.sqrt(expected + 1.0)


def _symbol_features(items: _Items, symbol: str, asof: np.ndarray, p: _Windows) -> np.ndarray:
    """The three features of one symbol at ``asof`` (any order), shape (m, 3)."""
    times, sentiment = items.of(symbol)
    distinct, back = np.unique(asof, return_inverse=True)
    scored = ~np.isnan(sentiment)
    out = np.empty((len(distinct), 3))
    out[:, 0] = decayed_sum(times[scored], sentiment[scored], distinct, p.half_life)
    out[:, 1] = _counts(times, distinct, p.count)
    out[:, 2] = surprise(out[:, 1], _counts(times, distinct, p.norm), p.count / p.norm)
    return out[back.reshape(-1)]


@dataclass(frozen=True, slots=True)
class _Windows:
    """The params in microseconds."""

    half_life: float
    count: int
    norm: int

    @classmethod
    def of(cls, params: NewsFeatureParams) -> _Windows:
        return cls(params.half_life / _US, params.count_window // _US, params.norm_window // _US)


def news_features(
    rows: pd.DataFrame, news: pd.DataFrame, params: NewsFeatureParams | None = None
) -> pd.DataFrame:
    """News features of each (symbol, asof) row, from the items available at asof.

    Parameters
    ----------
    rows : DataFrame, shape (n, >= 2)
        ``symbol`` and ``asof``: when the row's features are known (a bar's close time).
    news : DataFrame, shape (e, >= 3)
        ``available_at``, ``symbols`` (comma-separated tickers) and ``sentiment``
        (NaN when unscored), e.g. ``store.read_news()``; any order.
    params : NewsFeatureParams, optional
        The windows (defaults when omitted).

    Returns
    -------
    DataFrame, shape (n, 3)
        ``news_sentiment, news_count, news_surprise`` (float64), in the order of ``rows``.

    Raises
    ------
    DataError
        On a missing column or a time that is not a UTC time.

    Examples
    --------
    >>> rows = pd.DataFrame({"symbol": ["AAA", "AAA"],
    ...                      "asof": pd.to_datetime(["2025-01-02 15:00", "2025-01-02 17:00"])})
    >>> news = pd.DataFrame({"available_at": pd.to_datetime(["2025-01-02 15:00"], utc=True),
    ...                      "symbols": ["AAA,BBB"], "sentiment": [0.8]})
    >>> news_features(rows, news).round(3).to_numpy().tolist()
    [[0.8, 1.0, 0.988], [0.4, 0.0, -0.008]]
    """
    params = params or NewsFeatureParams()
    need_columns(rows, ("symbol", "asof"), "news feature rows")
    asof = times_us(rows["asof"], "news feature rows column 'asof'")
    items = _items(news, "news")
    windows = _Windows.of(params)
    codes, uniques = pd.factorize(rows["symbol"].astype(str), sort=False)
    out = np.empty((len(rows), 3))
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(uniques)))])
    for i, symbol in enumerate(uniques):
        idx = order[bounds[i] : bounds[i + 1]]
        out[idx] = _symbol_features(items, str(symbol), asof[idx], windows)
    return pd.DataFrame(out, columns=list(NEWS_FEATURES), index=rows.index)


# ---------------------------------------------------------------------- online


class _SymbolState:
    """One symbol's online state: running sum, item times of the last window, pending items."""

    __slots__ = ("last", "pending", "total", "window")

    def __init__(self) -> None:
        self.total = 0.0  # the decayed sum at ``last``
        self.last: int | None = None
        self.window: list[int] = []  # sorted available_at of the items not yet out of the norm
        self.pending: list[tuple[int, float]] = []  # sorted (available_at, s) not yet summed

    def add(self, t: int, s: float, oldest: int | None) -> None:
        if oldest is None or t > oldest:
            bisect.insort(self.window, t)
        if not math.isnan(s):
            bisect.insort(self.pending, (t, s))

    def at(self, asof: int, p: _Windows) -> tuple[float, float, float]:
        if self.last is not None:
            self.total *= 2.0 ** (-(asof - self.last) / p.half_life)
        due = bisect.bisect_right(self.pending, (asof, math.inf))
        for t, s in self.pending[:due]:  # items available since ``last`` (or late arrivals)
            self.total += s * 2.0 ** (-(asof - t) / p.half_life)
        del self.pending[:due]
        self.last = asof
        del self.window[: bisect.bisect_right(self.window, asof - p.norm)]  # never counted again
        upto = bisect.bisect_right(self.window, asof)
        norm = float(upto)
        count = float(upto - bisect.bisect_right(self.window, asof - p.count))
        expected = norm * (p.count / p.norm)
        return self.total, count, (count - expected) / math.sqrt(expected + 1.0)


class OnlineNewsFeatures:
    """News features at a moving ``asof``, equal to :func:`news_features` within 1e-9.

    Feed items with :meth:`add` as they arrive (any order; an item counts from its
    ``available_at`` on, so adding one early leaks nothing) and ask :meth:`at` for
    the features at a non-decreasing ``asof``. Each symbol keeps its running decayed
    sum, the times of its items of the last ``norm_window`` and the items not yet
    available: memory is bounded by the items of one ``norm_window``.

    Parameters
    ----------
    params : NewsFeatureParams, optional
        The windows (defaults when omitted).

    Examples
    --------
    >>> online = OnlineNewsFeatures()
    >>> online.add(pd.DataFrame({"available_at": [pd.Timestamp("2025-01-02 15:00", tz="UTC")],
    ...                          "symbols": ["AAA"], "sentiment": [0.8]}))
    >>> online.at(pd.Timestamp("2025-01-02 14:59", tz="UTC"), ["AAA"]).tolist()
    [[0.0, 0.0, 0.0]]
    >>> online.at(pd.Timestamp("2025-01-02 17:00", tz="UTC"), ["AAA", "ZZZ"]).round(3).tolist()
    [[0.4, 0.0, -0.008], [0.0, 0.0, 0.0]]
    """

    def __init__(self, params: NewsFeatureParams | None = None) -> None:
        self.params = params or NewsFeatureParams()
        self._windows = _Windows.of(self.params)
        self._states: dict[str, _SymbolState] = {}
        self._asof: int | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The feature columns, in order."""
        return NEWS_FEATURES

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols with state, sorted."""
        return tuple(sorted(self._states))

    def warm(self, news: pd.DataFrame, asof: datetime | pd.Timestamp | int) -> OnlineNewsFeatures:
        """Rebuild the state from stored items, as of ``asof`` (replacing any earlier state).

        Parameters
        ----------
        news : DataFrame, shape (e, >= 3)
            Stored items, for example those with ``available_at`` after
            ``asof - params.history``: older ones change no count and weigh under
            ``2 ** -40`` each. Items after ``asof`` wait until they are available.
        asof : datetime, Timestamp or int
            The time the state stands at (int: microseconds since 1970 UTC).

        Returns
        -------
        OnlineNewsFeatures
            ``self``.
        """
        self._states, self._asof = {}, None
        self.add(news)
        self.at(asof, self.symbols)
        return self

    def add(self, news_items: pd.DataFrame) -> None:
        """Take new items (``available_at``, ``symbols``, ``sentiment``), each once."""
        items = _items(news_items, "news items")
        oldest = None if self._asof is None else self._asof - self._windows.norm
        for symbol, (start, stop) in items.symbols.items():
            state = self._states.setdefault(symbol, _SymbolState())
            times = items.times[start:stop].tolist()
            for t, s in zip(times, items.sentiment[start:stop].tolist(), strict=True):
                state.add(t, s, oldest)

    def at(self, asof: datetime | pd.Timestamp | int, symbols: Iterable[str]) -> np.ndarray:
        """The features of ``symbols`` at ``asof``, shape (m, 3), in :attr:`names` order.

        Raises
        ------
        DataError
            When ``asof`` is before the last call's.
        """
        now = self._asof = next_asof(asof, self._asof)
        names = [str(s) for s in symbols]
        out = np.zeros((len(names), 3))
        for i, symbol in enumerate(names):
            out[i] = self._states.setdefault(symbol, _SymbolState()).at(now, self._windows)
        return out


def next_asof(asof: datetime | pd.Timestamp | int, last: int | None) -> int:
    """``asof`` in microseconds, checked not to be before ``last`` (the previous call's).

    Raises
    ------
    DataError
        When it is.
    """
    now = scalar_us(asof, "asof")
    if last is not None and now < last:
        raise DataError(
            f"asof {_stamp(now)} is before the last asof {_stamp(last)}",
            fix="ask for features at non-decreasing times",
        )
    return now


def _stamp(us: int) -> str:
    return str(pd.Timestamp(us, unit="us", tz="UTC"))
