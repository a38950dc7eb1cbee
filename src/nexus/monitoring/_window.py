"""The live window a check reads: the newest bars, their features, predictions and labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nexus.domain import Interval
from nexus.features import FeaturePipeline
from nexus.store import Store

__all__ = ["LiveWindow", "newest_bar", "read_window", "realised", "window_features"]


@dataclass(frozen=True, slots=True)
class LiveWindow:
    """The bars of one interval around the window, read once per check for every slot.

    ``bars`` holds each symbol's newest bars (adjusted), enough for feature
    warm-up, label volatility and horizon; ``newest`` is the newest bar's open
    time and ``start`` the open time after which a bar is in the window.
    """

    interval: str
    newest: pd.Timestamp
    start: pd.Timestamp
    bars: pd.DataFrame

    @property
    def close(self) -> pd.Timestamp:
        """When the newest bar closed: what is known by now."""
        return self.newest + Interval.parse(self.interval).timedelta


def newest_bar(series: pd.DataFrame, interval: str) -> pd.Timestamp | None:
    """The open time of the newest stored bar of ``interval`` (UTC), or None.

    ``series`` is ``store.series()``.
    """
    mine = series.loc[series["interval"] == interval, "last_ts"] if len(series) else series
    if mine.empty:
        return None
    return pd.Timestamp(mine.max()).tz_convert("UTC")


def read_window(
    store: Store,
    series: pd.DataFrame,
    interval: str,
    newest: pd.Timestamp,
    minutes: float,
    history: int,
) -> LiveWindow:
    """The bars of the window ending at ``newest`` plus ``history`` bars before it, per symbol.

    ``series`` is ``store.series()`` (it names the symbols of ``interval``).
    """
    step = Interval.parse(interval).timedelta
    span = pd.Timedelta(minutes=minutes)
    in_window = max(1, int(np.ceil(span / step)))
    symbols = sorted(series.loc[series["interval"] == interval, "symbol"].astype(str))
    raw = store.last_bars(symbols, interval, in_window + history)
    bars = raw
    if not raw.empty:
        bars = store.read_bars(symbols, interval, raw["ts"].min(), None, adjust="all")
    return LiveWindow(interval, newest, newest - span, bars)


def window_features(
    window: LiveWindow, pipeline: FeaturePipeline, news=None, macro=None
) -> pd.DataFrame:
    """The features of the bars in ``window`` (``symbol, ts`` and one column per feature)."""
    features = pipeline.transform(window.bars, news=news, macro=macro)
    return features.loc[features["ts"] > window.start].reset_index(drop=True)


def realised(predictions: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Predictions whose label is known: ``symbol, ts, y, p_down, p_neutral, p_up``.

    ``labels`` are triple-barrier labels (``symbol, ts, label``); ``y`` is the
    class index (0 DOWN, 1 NEUTRAL, 2 UP). A prediction whose bar is not labelled
    yet (its horizon has not passed) is left out.
    """
    if predictions.empty or labels.empty:
        return pd.DataFrame(columns=["symbol", "ts", "y", "p_down", "p_neutral", "p_up"])
    known = labels.loc[:, ["symbol", "ts", "label"]].assign(y=lambda f: f["label"] + 1)
    left = predictions.loc[:, ["symbol", "ts", "p_down", "p_neutral", "p_up"]]
    left = left.assign(ts=pd.to_datetime(left["ts"], utc=True))
    known = known.assign(ts=pd.to_datetime(known["ts"], utc=True))
    joined = left.merge(known.drop(columns="label"), on=["symbol", "ts"], how="inner")
    return joined.astype({"y": np.int64}).sort_values(["ts", "symbol"], ignore_index=True)
