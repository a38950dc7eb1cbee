"""Prometheus metrics of ingest, on a registry passed in (never the global one).

Bars per second is a PromQL question, not a metric: ``rate(nexus_ingest_bars_total[1m])``
(per source and interval; ``sum(rate(...))`` for all of them).
"""

from __future__ import annotations

import time

import pandas as pd
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from nexus.domain import Interval

__all__ = ["IngestMetrics"]

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class IngestMetrics:
    """Bars stored, rows rejected, ingest lag and store write time, per source.

    - ``nexus_ingest_bars_total{source,interval}`` (counter): bars new to the
      store, derived coarser bars under their own interval. Bars per second is
      ``rate(nexus_ingest_bars_total[1m])``.
    - ``nexus_ingest_rejected_total{source}`` (counter): rows quarantined as
      rejected (not stored).
    - ``nexus_ingest_lag_seconds{source,interval}`` (gauge): live ingest only;
      seconds from the close of the newest bar of a batch to the end of its
      store write (see below).
    - ``nexus_ingest_last_bar_timestamp_seconds{source,interval}`` (gauge): open
      time (Unix seconds; the store's bar time) of the newest bar written.
    - ``nexus_ingest_batch_seconds{source}`` (histogram): seconds one batch's
      store write took.

    The lag is measured when a live batch has been written. For a feed on the
    wall clock (a broker or vendor stream) the bar closed at its open time plus
    its interval, so the lag is the whole delay from the bar's close to its
    being stored: the feed's delivery delay plus validation and the write.
    The simulator runs a simulated clock (its bars are dated in the simulated
    market's past, paced by ``speed``), so a bar's close on the wall clock is
    the moment the source emitted it: its lag is the delay from the bar being
    emitted to its being stored (validation and the write, Nexus's own part).
    For a wall-clock feed a lag that grows means ingest falls behind the market.
    For history (backfill) runs the lag is not set: there it would only measure
    the age of the data.

    Parameters
    ----------
    registry : CollectorRegistry, optional
        Where the metrics live; pass the API's (``LiveMetrics.registry`` in
        ``nexus up``) so ``/metrics`` exposes them. Default: a new registry.

    Examples
    --------
    >>> from prometheus_client import generate_latest
    >>> m = IngestMetrics()
    >>> ts = pd.to_datetime(["2025-01-02 14:30", "2025-01-02 14:31"], utc=True)
    >>> bars = pd.DataFrame({"interval": ["1m", "1m"], "ts": ts})
    >>> m.observe_batch("simulator", bars, new=2, rejected=1, seconds=0.01)
    >>> m.registry.get_sample_value(
    ...     "nexus_ingest_bars_total", {"source": "simulator", "interval": "1m"})
    2.0
    >>> b'nexus_ingest_rejected_total{source="simulator"} 1.0' in generate_latest(m.registry)
    True
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.bars = Counter(
            "nexus_ingest_bars",
            "Bars new to the store, by source and interval (bars/s: rate over 1m)",
            ["source", "interval"],
            registry=r,
        )
        self.rejected = Counter(
            "nexus_ingest_rejected", "Rows quarantined as rejected, by source", ["source"],
            registry=r,
        )  # fmt: skip
        self.lag = Gauge(
            "nexus_ingest_lag_seconds",
            "Seconds from the close of the newest bar of a live batch to its store write",
            ["source", "interval"],
            registry=r,
        )
        self.last_bar = Gauge(
            "nexus_ingest_last_bar_timestamp_seconds",
            "Open time (Unix seconds) of the newest bar written, by source and interval",
            ["source", "interval"],
            registry=r,
        )
        self.batch_seconds = Histogram(
            "nexus_ingest_batch_seconds",
            "Seconds to write one batch to the store",
            ["source"],
            buckets=_BUCKETS,
            registry=r,
        )

    def observe_batch(
        self,
        source: str,
        bars: pd.DataFrame,
        *,
        new: int,
        rejected: int,
        seconds: float,
        lag: bool = False,
        emitted_at: float | None = None,
    ) -> None:
        """Record one written batch.

        Parameters
        ----------
        source : str
            The source's name.
        bars : DataFrame
            The valid bars written (``interval`` and ``ts`` columns at least).
        new : int
            How many of them were new to the store. When some were stored
            before (a resumed ingest) the store does not say which, so the new
            ones are counted against the batch's intervals in their order.
        rejected : int
            Rows quarantined as rejected.
        seconds : float
            How long the store write took.
        lag : bool
            Set the lag gauge (live ingest).
        emitted_at : float, optional
            Unix time at which a simulated-clock source emitted the batch; it
            stands for the bars' close. None: the close is ``ts + interval``.
        """
        self.batch_seconds.labels(source=source).observe(seconds)
        if rejected:
            self.rejected.labels(source=source).inc(rejected)
        if bars.empty:
            return
        now = time.time()
        left = new
        for interval, group in bars.groupby("interval", sort=False):
            name = str(interval)
            count = min(len(group), left)
            left -= count
            if count:
                self.bars.labels(source=source, interval=name).inc(count)
            newest = pd.Timestamp(group["ts"].max())
            opened = (newest if newest.tzinfo else newest.tz_localize("UTC")).timestamp()
            self.last_bar.labels(source=source, interval=name).set(opened)
            if lag:
                closed = emitted_at if emitted_at is not None else opened + _seconds(name)
                self.lag.labels(source=source, interval=name).set(max(0.0, now - closed))


def _seconds(interval: str) -> float:
    """Length of ``interval`` in seconds (0 for one Nexus does not know)."""
    try:
        return float(Interval.parse(interval).seconds)
    except ValueError:
        return 0.0
