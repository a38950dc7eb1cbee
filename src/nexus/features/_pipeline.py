"""The feature pipeline: one spec, batch over history and online bar by bar."""

from __future__ import annotations

import pandas as pd

from nexus.errors import ConfigError
from nexus.features._context import FeatureContext
from nexus.features._engine import Plan, compute, sort_bars, to_frame
from nexus.features._online import OnlineFeatures
from nexus.features._spec import FeatureSpec

__all__ = ["FeaturePipeline"]


class FeaturePipeline:
    """Point-in-time features of bars, identical in batch (training) and online (live).

    Parameters
    ----------
    spec : FeatureSpec, optional
        Which features to compute; :meth:`FeatureSpec.default` when omitted.
        Stored unchanged (scikit-learn style) and read when used.

    Examples
    --------
    >>> from nexus.sources.simulator import SimulatorConfig, simulate
    >>> bars = simulate(SimulatorConfig(symbols=3, sessions=2, interval="5m")).bars
    >>> pipe = FeaturePipeline()
    >>> frame = pipe.transform(bars)
    >>> frame.shape == (len(bars), 2 + len(pipe.names))
    True
    >>> list(frame.columns[:4])
    ['symbol', 'ts', 'ret_1', 'ret_5']
    >>> float(frame["ret_1"].iloc[0])  # undefined on a symbol's first bar
    nan
    """

    def __init__(self, spec: FeatureSpec | None = None) -> None:
        self.spec = spec

    def _plan(self) -> Plan:
        spec = FeatureSpec.default() if self.spec is None else self.spec
        if not isinstance(spec, FeatureSpec):
            raise ConfigError(
                f"FeaturePipeline spec is a {type(spec).__name__}, not a FeatureSpec",
                fix="pass FeatureSpec.from_yaml(path) or FeatureSpec.default()",
            )
        return Plan(spec)

    @property
    def names(self) -> tuple[str, ...]:
        """Feature column names, in column order."""
        return self._plan().names

    @property
    def warmups(self) -> dict[str, int]:
        """Warm-up of each feature column: leading bars of a symbol where it is NaN."""
        return self._plan().spec.warmups()

    @property
    def warmup(self) -> int:
        """The longest warm-up in bars; pass at least this many bars per symbol to ``warm``."""
        return self._plan().warmup

    @property
    def needs_news(self) -> bool:
        """Whether the spec has news columns (``transform`` and ``warm`` then need news)."""
        return self._plan().spec.news is not None

    @property
    def macro_series(self) -> tuple[str, ...]:
        """The macro series the spec follows (``transform`` and ``warm`` need their vintages)."""
        macro = self._plan().spec.macro
        return macro.series if macro is not None else ()

    def transform(
        self,
        bars: pd.DataFrame,
        *,
        news: pd.DataFrame | None = None,
        macro: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Every feature of every bar, computed over the whole history (batch mode).

        Parameters
        ----------
        bars : DataFrame, shape (n, >= 7)
            A bar frame (``nexus.domain.BAR_COLUMNS``) of one interval, any number
            of symbols, rows in any order. With news or macro features it needs its
            ``interval`` column: a bar's news and macro are those known at its close.
        news : DataFrame, optional
            ``store.read_news(...)`` (``available_at, symbols, sentiment``), from at
            least ``spec.news.history`` before the first bar; needed (an empty frame
            when there is none) when the spec has news features, else unused.
        macro : DataFrame, optional
            ``store.read_macro(pipeline.macro_series)``; needed when the spec has
            macro features, else unused.

        Returns
        -------
        DataFrame, shape (n, 2 + F)
            ``symbol, ts`` and one float64 column per name, sorted by symbol then ts,
            one row per input bar; NaN where a feature is not yet warmed up.

        Raises
        ------
        DataError
            On a missing column, mixed intervals, a duplicate (symbol, ts), a bad
            value, or news or macro the spec needs and that was not passed.
        """
        plan = self._plan()
        sorted_bars = sort_bars(bars, "bars")
        features = compute(plan, sorted_bars, context=FeatureContext(news, macro)).features
        return to_frame(plan.names, sorted_bars.symbol_col, sorted_bars.ts_col, features.T)

    def online(self) -> OnlineFeatures:
        """A fresh online feature state for this spec (call ``warm`` before ``update``)."""
        return OnlineFeatures(self._plan())

    def __repr__(self) -> str:
        return "FeaturePipeline()" if self.spec is None else f"FeaturePipeline(spec={self.spec!r})"
