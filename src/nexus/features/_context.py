"""The news and macro columns of a feature spec, at each bar's close, batch and online.

A bar's features are known at its close, so its news and macro columns use what was
available by then: ``ts + interval`` for an intraday bar (labelled by its open). A
daily bar is labelled by its session date at midnight UTC and carries no close
time, so its context is taken at that midnight, before the session: conservative
(the session's own news waits a bar), never ahead of the close.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nexus.domain import Interval
from nexus.errors import DataError
from nexus.features._macro_features import OnlineMacroFeatures, macro_features
from nexus.features._news_features import OnlineNewsFeatures, news_features
from nexus.features._spec import FeatureSpec

__all__ = ["FeatureContext", "OnlineContext", "close_offset_us", "context_columns"]


@dataclass(frozen=True, slots=True)
class FeatureContext:
    """The stored news items and macro vintages that news and macro features read.

    Parameters
    ----------
    news : DataFrame, optional
        ``store.read_news(...)``: ``available_at, symbols, sentiment`` at least.
    macro : DataFrame, optional
        ``store.read_macro(...)``: ``series_id, period, realtime_start, value``.
    """

    news: pd.DataFrame | None = None
    macro: pd.DataFrame | None = None

    def check(self, spec: FeatureSpec, what: str) -> None:
        """Raise :class:`DataError` when ``spec`` needs news or macro that was not passed."""
        if spec.news is not None and self.news is None:
            raise DataError(
                f"the feature spec has news features but {what} got no news",
                fix="pass news=store.read_news(symbols, start, end) "
                "(an empty frame when there is none)",
            )
        if spec.macro is not None and self.macro is None:
            raise DataError(
                f"the feature spec has macro features but {what} got no macro vintages",
                fix=f"pass macro=store.read_macro({list(spec.macro.series)})",
            )


def close_offset_us(interval: str | None, spec: FeatureSpec, what: str) -> int:
    """Microseconds from a bar's label to the time its context is taken (see the module).

    Raises
    ------
    DataError
        When ``spec`` has context columns and the bars carry no interval.
    """
    if not spec.context_names():
        return 0
    if interval is None:
        raise DataError(
            f"{what} have no interval column, which news and macro features need "
            "(a bar's context is taken at its close, ts + interval)",
            fix="pass bars with their interval column, as the store returns them",
        )
    parsed = Interval.parse(interval)
    return int(parsed.seconds * 1_000_000) if parsed.is_intraday else 0


def context_columns(
    spec: FeatureSpec, symbols: np.ndarray, asof_us: np.ndarray, context: FeatureContext
) -> np.ndarray:
    """The news then macro columns of each row, shape (n, len(spec.context_names())).

    Parameters
    ----------
    spec : FeatureSpec
        Says which context columns and their windows.
    symbols : ndarray of str, shape (n,)
        Each row's symbol.
    asof_us : ndarray of int64, shape (n,)
        When each row's features are known (its bar's close), microseconds UTC.
    context : FeatureContext
        The news and macro vintages (checked to be there).
    """
    asof = pd.to_datetime(asof_us, unit="us", utc=True)
    parts = []
    if spec.news is not None:
        rows = pd.DataFrame({"symbol": symbols, "asof": asof})
        parts.append(news_features(rows, context.news, spec.news).to_numpy())
    if spec.macro is not None:
        parts.append(macro_features(asof, context.macro, spec.macro).to_numpy())
    return np.hstack(parts) if parts else np.empty((len(asof_us), 0))


class OnlineContext:
    """The online news and macro states of a spec; equal to :func:`context_columns`.

    Parameters
    ----------
    spec : FeatureSpec
        Says which context columns and their windows.
    """

    def __init__(self, spec: FeatureSpec) -> None:
        self.spec = spec
        self._news = OnlineNewsFeatures(spec.news) if spec.news is not None else None
        self._macro = OnlineMacroFeatures(spec.macro) if spec.macro is not None else None
        self.width = len(spec.context_names())

    def warm(self, context: FeatureContext, asof_us: int | None) -> None:
        """Rebuild both states from stored items, standing at ``asof_us`` (None: not yet)."""
        context.check(self.spec, "the online warm-up")
        if self._news is not None:
            self._news = OnlineNewsFeatures(self.spec.news)
        if self._macro is not None:
            self._macro = OnlineMacroFeatures(self.spec.macro)
        self.add(context.news, context.macro)
        if asof_us is not None:  # every symbol's state stands at the warm-up's end
            self.at(asof_us, self._news.symbols if self._news is not None else ())

    def add(self, news: pd.DataFrame | None = None, macro: pd.DataFrame | None = None) -> None:
        """Take newly arrived news items and macro vintages (each once; any may be None)."""
        if self._news is not None and news is not None and len(news):
            self._news.add(news)
        if self._macro is not None and macro is not None and len(macro):
            self._macro.add(macro)

    def at(self, asof_us: int, symbols: Sequence[str]) -> np.ndarray:
        """The context columns of ``symbols`` at ``asof_us``, shape (m, width)."""
        out = np.empty((len(symbols), self.width))
        j = 0
        if self._news is not None:
            out[:, :3] = self._news.at(asof_us, symbols)
            j = 3
        if self._macro is not None:
            out[:, j:] = self._macro.at(asof_us)[None, :]
        return out
