"""The news and macro vintages the live features read, fetched from the store as they land.

The ingest services (``nexus ingest rss|newsapi|fred --live``, the simulator) write news
and vintages to the store, possibly from other processes; the live engine reads what
arrived once per bar time. An item counts from its ``available_at`` (a vintage from
its ``realtime_start``), so reading one early leaks nothing. Each poll re-reads a
trailing window (an hour of news, a week of vintages) and keeps only rows it has not
seen, so an item written a little after the time it claims is still picked up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

import pandas as pd

from nexus.features import FeatureContext, FeatureSpec
from nexus.store import Store

__all__ = ["ContextFeed"]

NEWS_REREAD = timedelta(hours=1)
"""How far back each poll re-reads news (items stored late within it still count)."""
MACRO_REREAD = timedelta(days=7)
"""How far back each poll re-reads macro vintages, by ``realtime_start``."""
_VINTAGE = ["series_id", "period", "realtime_start"]


class ContextFeed:
    """Reads the stored news and vintages that the live feature specs need.

    Parameters
    ----------
    store : Store
        Where the ingest services write news and macro vintages.
    specs : iterable of FeatureSpec
        The specs served; with no news or macro features the feed reads nothing.
    """

    def __init__(self, store: Store, specs: Iterable[FeatureSpec]) -> None:
        specs = list(specs)
        self.store = store
        self.history = max((s.news.history for s in specs if s.news is not None), default=None)
        self.series = sorted({x for s in specs if s.macro is not None for x in s.macro.series})
        self._news_seen: dict[str, pd.Timestamp] = {}
        self._macro_seen: set[tuple] = set()

    @property
    def active(self) -> bool:
        """Whether any served spec reads news or macro."""
        return self.history is not None or bool(self.series)

    def warm(self, symbols: Sequence[str], asof: pd.Timestamp) -> FeatureContext:
        """Everything a warm-up at ``asof`` needs (news of the last ``history``, all vintages)."""
        self._news_seen, self._macro_seen = {}, set()
        news = macro = None
        if self.history is not None:
            news = self._news(symbols, asof - self.history, asof)
        if self.series:
            macro = self._macro(self.store.read_macro(self.series))
        return FeatureContext(news=news, macro=macro)

    def poll(self, symbols: Sequence[str], asof: pd.Timestamp) -> FeatureContext:
        """The news and vintages stored since the last call, as of bar close ``asof``."""
        news = macro = None
        if self.history is not None:
            news = self._news(symbols, asof - NEWS_REREAD, asof)
        if self.series:
            start = (asof - MACRO_REREAD).to_pydatetime()
            macro = self._macro(self.store.read_macro(self.series, start=start))
        return FeatureContext(news=news, macro=macro)

    def _news(self, symbols: Sequence[str], start: pd.Timestamp, asof: pd.Timestamp):
        rows = self.store.read_news(list(symbols), start=start.to_pydatetime())
        if rows.empty:
            return rows
        fresh = ~rows["id"].isin(self._news_seen.keys())
        rows = rows.loc[fresh]
        stamps = pd.to_datetime(rows["available_at"], utc=True)
        self._news_seen.update(zip(rows["id"].astype(str), stamps, strict=True))
        oldest = asof - NEWS_REREAD
        self._news_seen = {k: t for k, t in self._news_seen.items() if t >= oldest}
        return rows.reset_index(drop=True)

    def _macro(self, rows: pd.DataFrame) -> pd.DataFrame:
        if rows.empty:
            return rows
        keys = list(rows[_VINTAGE].astype(str).itertuples(index=False, name=None))
        fresh = [k not in self._macro_seen for k in keys]
        self._macro_seen.update(keys)
        return rows.loc[fresh].reset_index(drop=True)
