"""The market simulator as a :class:`~nexus.sources.Source` and a live source."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from functools import cached_property

import numpy as np
import pandas as pd

from nexus.errors import ConfigError
from nexus.sources._base import SourceBatch
from nexus.sources.simulator._config import SimulatorConfig
from nexus.sources.simulator._market import (
    SOURCE,
    SessionResult,
    SimulatedMarket,
    Universe,
    actions_of,
    bars_and_truth,
    iter_sessions,
    macro_between,
    make_universe,
    news_of,
    simulate,
    symbols_frame,
)

__all__ = ["SimulatorSource"]

Sleep = Callable[[float], Awaitable[object]]
Since = Mapping[str, pd.Timestamp] | None


def _check_speed(speed: float) -> float:
    if not (isinstance(speed, int | float) and speed > 0 and not math.isnan(speed)):
        raise ConfigError(
            f"speed={speed!r} is not a positive number",
            fix="use e.g. speed=60 (one simulated minute per real second) or math.inf",
        )
    return float(speed)


def _cutoff(since: Since, symbol: str) -> pd.Timestamp | None:
    """``since[symbol]`` as a UTC timestamp (naive times are UTC), or None."""
    if not since or symbol not in since or since[symbol] is None or pd.isna(since[symbol]):
        return None
    stamp = pd.Timestamp(since[symbol])
    return stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")


def _newest(since: Since) -> np.datetime64 | None:
    """The newest time in ``since`` as naive-UTC ``datetime64[us]``, or None."""
    stamps = [c for symbol in since or {} if (c := _cutoff(since, symbol)) is not None]
    if not stamps:
        return None
    return np.datetime64(max(stamps).tz_localize(None).to_datetime64(), "us")


class SimulatorSource:
    """The built-in simulated market: deterministic history and a live stream that continues it.

    Parameters
    ----------
    config : SimulatorConfig, optional
        The market; default ``SimulatorConfig()``.
    speed : float
        Live pacing: simulated seconds per real second (60 = one 1m bar per second).
        Nights, weekends and holidays are skipped instantly.
    sleep : callable
        ``await sleep(seconds)`` between live bars; a fake in tests.

    Examples
    --------
    >>> src = SimulatorSource(SimulatorConfig(symbols=2, sectors=1, sessions=2, interval="1d"))
    >>> src.name, src.total()
    ('simulator', 2)
    >>> [(b.label, len(b.bars)) for b in src.fetch()]
    [('SIM00', 2), ('SIM01', 2)]
    """

    name = SOURCE

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        *,
        speed: float = 60.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.config = config if config is not None else SimulatorConfig()
        self.speed = _check_speed(speed)
        self.sleep = sleep

    @cached_property
    def market(self) -> SimulatedMarket:
        """The simulated history (computed on first use)."""
        return simulate(self.config)

    def describe(self) -> dict:
        """The configuration as JSON-able values, plus ``config_id`` and ``speed``."""
        return {
            **self.config.model_dump(mode="json"),
            "config_id": self.config.config_id,
            "speed": self.speed,
        }

    def total(self) -> int:
        """The number of batches :meth:`fetch` yields: one per symbol."""
        return self.config.symbols

    def fetch(self, *, since: Since = None) -> Iterator[SourceBatch]:
        """Yield one batch per symbol: its bars, corporate actions and news.

        The first batch also carries the ``symbols`` table and, with
        ``config.macro``, every macro vintage of the history (all of them, whatever
        ``since`` says: the store keeps each vintage once). When ``since`` maps a
        symbol to a time, that symbol's bars at or before it are left out, and so
        are its news published and actions effective at or before it.

        Parameters
        ----------
        since : mapping of str to Timestamp, optional
            Newest stored bar time per symbol (naive times are UTC).
        """
        market = self.market
        names = market.symbols["symbol"].tolist()
        sym = market.bars["symbol"].to_numpy()
        bounds = np.append(np.searchsorted(sym, names), len(sym))  # bars are by symbol
        cuts = pd.to_datetime(market.corporate_actions["ex_date"]).dt.tz_localize("UTC")
        for i, symbol in enumerate(names):
            bars = market.bars.iloc[bounds[i] : bounds[i + 1]]
            actions = market.corporate_actions[market.corporate_actions["symbol"] == symbol]
            news = market.news[market.news["symbols"] == symbol]
            cutoff = _cutoff(since, symbol)
            if cutoff is not None:
                bars = bars[bars["ts"] > cutoff]
                actions = actions[cuts.loc[actions.index] > cutoff]
                news = news[news["published_at"] > cutoff]
            yield SourceBatch(
                label=symbol,
                bars=bars.reset_index(drop=True),
                corporate_actions=actions.reset_index(drop=True),
                news=news.reset_index(drop=True),
                macro=market.macro if i == 0 and self.config.macro else None,
                symbols=market.symbols if i == 0 else None,
            )

    async def stream(
        self,
        *,
        since: Since = None,
        speed: float | None = None,
        sleep: Sleep | None = None,
    ) -> AsyncIterator[SourceBatch]:
        """Stream bars after the history, one batch per bar time, without end.

        Without ``since`` the stream starts with the first session after the
        configured history; with ``since`` it resumes right after the newest time
        in it. Each batch holds every symbol's bar for one timestamp, the news
        published in that bar, on a session's first bar the corporate actions
        effective at its open (the first batch also carries ``symbols``) and, with
        ``config.macro``, the macro vintages released after the previous bar's
        close and by this bar's close. Before each bar it sleeps the bar's length
        divided by ``speed``. The bars equal
        those :func:`simulate` gives for the same times: the stream replays the
        earlier sessions once, without sleeping, to restore the market's state,
        then computes one session at a time.

        Parameters
        ----------
        since : mapping of str to Timestamp, optional
            Newest stored bar time per symbol.
        speed : float, optional
            Overrides the constructor's ``speed``.
        sleep : callable, optional
            Overrides the constructor's ``sleep``.

        Yields
        ------
        SourceBatch
            ``label`` is the bar time in ISO format.
        """
        pace = self.speed if speed is None else _check_speed(speed)
        nap = self.sleep if sleep is None else sleep
        after = _newest(since)
        first = 0 if after is not None else self.config.sessions
        universe = make_universe(self.config)
        symbols = symbols_frame(self.config, universe)
        previous = None  # the close of the session before, where its macro window ended
        for result in iter_sessions(self.config, universe):
            opened, previous = previous, result.info.end[-1]
            if result.info.index < first or (after is not None and result.info.ts[-1] <= after):
                continue
            macro = self._macro_by_bar(result, opened)
            for minutes, batch in self._session_batches(universe, result, after, symbols, macro):
                await nap(minutes * 60.0 / pace)
                yield batch
                symbols = None

    def _macro_by_bar(
        self, result: SessionResult, opened: np.datetime64 | None
    ) -> list[pd.DataFrame | None]:
        """The macro vintages each bar of ``result`` carries (None where there are none).

        Bar ``t`` carries those released after bar ``t - 1`` closed (for the first
        bar: after the previous session's close, or after the first bar opens in the
        first session, as in :func:`simulate`) and by bar ``t``'s close.
        """
        info = result.info
        if not self.config.macro:
            return [None] * len(info.ts)
        start = info.ts[0] if opened is None else opened
        rows = macro_between(self.config, start, info.end[-1])
        stamps = rows["realtime_start"].dt.tz_localize(None).to_numpy()
        bar = np.searchsorted(info.end, stamps, side="left")  # first bar closing at or after
        return [
            rows[bar == t].reset_index(drop=True) if (bar == t).any() else None
            for t in range(len(info.ts))
        ]

    def _session_batches(
        self,
        universe: Universe,
        result: SessionResult,
        after: np.datetime64 | None,
        symbols: pd.DataFrame | None,
        macro: list[pd.DataFrame | None],
    ) -> Iterator[tuple[float, SourceBatch]]:
        """(bar length in minutes, batch) for each bar of ``result`` after ``after``."""
        bars, _ = bars_and_truth(self.config, universe, [result], order="ts")
        news = news_of(self.config, universe, [result])
        actions = actions_of(universe, [result])
        n = len(universe.names)
        info = result.info
        for t, ts in enumerate(info.ts):
            if after is not None and ts <= after:
                continue
            label = pd.Timestamp(ts, tz="UTC")
            yield (
                float(info.minutes[t]),
                SourceBatch(
                    label=label.isoformat(),
                    bars=bars.iloc[t * n : (t + 1) * n].reset_index(drop=True),
                    corporate_actions=actions if t == 0 else None,
                    news=news[news["published_at"] == label].reset_index(drop=True),
                    macro=macro[t],
                    symbols=symbols,
                ),
            )
            symbols = None
