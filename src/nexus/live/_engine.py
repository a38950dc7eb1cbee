"""The live engine: new bars -> features -> ONNX x2 -> decision -> risk gate -> store -> publish."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from nexus.bus import (
    TOPIC_ALERTS,
    TOPIC_BARS,
    TOPIC_MODELS,
    TOPIC_SIGNALS,
    AlertRaised,
    BarsClosed,
    ModelsChanged,
    SignalsReady,
    Subscription,
)
from nexus.config import log_context
from nexus.domain import (
    PREDICTION_COLUMNS,
    RECOMMENDATION_COLUMNS,
    Action,
    Interval,
    Prediction,
    Recommendation,
    empty_bars,
)
from nexus.errors import NexusError
from nexus.live._champions import Champion, ConfigWatcher, load_champions
from nexus.live._context import ContextFeed
from nexus.live._decision import decide, warming_up
from nexus.live._metrics import LiveMetrics
from nexus.live._windows import FeatureWindows
from nexus.monitoring import alerts_rows
from nexus.registry import Registry
from nexus.risk import RiskGate, RiskLimits
from nexus.store import Store, WriteBatch

__all__ = ["LiveEngine"]

log = logging.getLogger(__name__)

_OHLCV = ("open", "high", "low", "close", "volume")


class LiveEngine:
    """Turns every new bar time into stored and published recommendations.

    Woken by :class:`~nexus.bus.BarsClosed` events on the bus (no polling delay).
    On start it loads each slot's champion (ONNX Runtime) and rebuilds every
    symbol's feature state and windows from the store; then, per bar time, it
    updates the online features, runs every champion batched across symbols,
    applies dual confirmation and the risk gate, publishes
    :class:`~nexus.bus.SignalsReady`, and writes the predictions and
    recommendations to the store (one transaction) before it takes the next bar
    time. Publishing first keeps the store write (tens of milliseconds on DuckDB)
    off the path from a new bar to a client's screen; a crash in between loses
    at most that one bar time's stored rows, never a bar.
    When ``model_config.json`` changes, the new champions are loaded before the
    next bar is scored (the bar that noticed the change is scored by the new
    ones), so no bar is missed and nothing restarts.

    Parameters
    ----------
    store : Store
        Where bars are read and predictions and recommendations written.
    registry : Registry
        Where the champions come from.
    bus : Bus
        :data:`~nexus.bus.TOPIC_BARS` in; signals, models and alerts out.
    slots : sequence of str
        The champion slots that must agree (default: the registry's slots, the
        first two; ``lstm`` and ``transformer``).
    risk : RiskLimits, optional
        The risk gate's limits.
    metrics : LiveMetrics, optional
        Where stage timings and counts go.
    """

    def __init__(
        self,
        store: Store,
        registry: Registry,
        bus,
        *,
        slots: Sequence[str] | None = None,
        risk: RiskLimits | None = None,
        metrics: LiveMetrics | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.bus = bus
        self.slots = tuple(slots) if slots else registry.slots()[:2]
        self.risk = risk if risk is not None else RiskLimits()
        self.metrics = metrics if metrics is not None else LiveMetrics()
        self.champions: tuple[Champion, ...] = ()
        self.state = "stopped"
        self.problem = ""
        self.last_ts: datetime | None = None
        self.timings: dict[str, float] = {}
        self.processed = 0
        self._groups: dict[str, FeatureWindows] = {}
        self._feed = ContextFeed(store, ())
        self._served: list[str] = []
        self._gate: RiskGate | None = None
        self._watcher = ConfigWatcher(registry.config_path)
        self._sub: Subscription | None = None
        self._dropped = 0
        self._actions = 0
        self._day: object = None

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe to new bars, load the champions and rebuild state from the store.

        Without champions the engine still runs and waits: it loads them as soon as
        ``model_config.json`` names them.
        """
        if self._sub is None:
            self._sub = self.bus.subscribe(TOPIC_BARS, maxsize=10_000)
        self.state = "starting"
        await asyncio.to_thread(self._load, "engine started")

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Handle bar events until ``stop`` is set (call :meth:`start` first, or not)."""
        if self._sub is None:
            await self.start()
        stop = stop or asyncio.Event()
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                getting = asyncio.ensure_future(self._sub.get())
                done, _ = await asyncio.wait(
                    {getting, stopping}, return_when=asyncio.FIRST_COMPLETED
                )
                if getting not in done:
                    getting.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await getting
                    break
                await self.handle(getting.result())
        finally:
            stopping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stopping
            self.close()

    def close(self) -> None:
        """Stop listening to the bus."""
        if self._sub is not None:
            self._sub.close()
            self._sub = None
        self.state = "stopped"

    def status(self) -> dict:
        """What the engine is doing, for health checks and the dashboard."""
        return {
            "state": self.state,
            "problem": self.problem,
            "slots": list(self.slots),
            "champions": [c.describe() for c in self.champions],
            "interval": self.interval,
            "last_ts": self.last_ts.isoformat() if self.last_ts else None,
            "processed": self.processed,
            "timings": dict(self.timings),
            "risk": {
                "exposure": self._gate.exposure if self._gate else 0.0,
                "drawdown": self._gate.drawdown if self._gate else 0.0,
            },
        }

    @property
    def interval(self) -> str | None:
        """The bar interval the champions trade, or None without champions."""
        return self.champions[0].interval if self.champions else None

    # -- champions and state ---------------------------------------------------------------

    def _load(self, reason: str) -> None:
        """Load the champions; keep the old ones (and alert) when that fails."""
        try:
            champions = load_champions(self.registry, self.slots)
        except NexusError as exc:
            self._alert("critical" if self.champions else "warning", str(exc))
            if not self.champions:
                self.state, self.problem = "waiting for champions", str(exc)
            return
        old = {c.slot: c.version for c in self.champions}
        self.champions = champions
        self.state, self.problem = "running", ""
        self._warm()
        served = {c.slot: c.version for c in champions}
        self.metrics.serve(served)
        if served != old:
            self.bus.publish(
                TOPIC_MODELS, ModelsChanged(champions=served, at=datetime.now(UTC), reason=reason)
            )
            log.info("serving champions %s (%s)", served, reason)

    def _warm(self) -> None:
        """Rebuild every feature group and the risk book from the store."""
        groups: dict[str, FeatureWindows] = {}
        for c in self.champions:
            key = c.spec.config_id
            length = max(x.lookback for x in self.champions if x.spec.config_id == key)
            groups[key] = FeatureWindows(c.spec, length)
        symbols = self._symbols()
        history = self._history(symbols, max(g.warmup + g.length for g in groups.values()))
        feed = ContextFeed(self.store, [c.spec for c in self.champions])
        context = None
        if feed.active:  # news of the history's last hours, or of now on an empty store
            last = datetime.now(UTC) if history.empty else self._close(history["ts"].max())
            context = feed.warm(symbols, pd.Timestamp(last))
        for group in groups.values():
            group.warm(history, context)
        self._groups, self._feed, self._served = groups, feed, symbols
        self._actions = len(self.store.read_corporate_actions(symbols)) if symbols else 0
        self._gate = RiskGate(self.risk, universe=len(symbols), positions=self._positions(symbols))
        for c in self.champions:  # the first run of a session is slow: pay it before a bar waits
            self._infer(c, symbols)
        self.metrics.rewarms.inc()

    def _close(self, ts: object) -> pd.Timestamp:
        """The (nominal) close of the bar labelled ``ts``, in UTC."""
        ts = pd.Timestamp(ts)
        ts = ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")
        return ts + Interval.parse(self.interval).timedelta

    def _symbols(self) -> list[str]:
        series = self.store.series()
        if series.empty:
            return []
        return sorted(series.loc[series["interval"] == self.interval, "symbol"].astype(str))

    def _history(self, symbols: list[str], bars: int) -> pd.DataFrame:
        """The newest ``bars`` bars of each symbol, adjusted for corporate actions."""
        raw = self.store.last_bars(symbols, self.interval, bars) if symbols else empty_bars()
        if raw.empty:
            return empty_bars()
        return self.store.read_bars(symbols, self.interval, raw["ts"].min(), None, adjust="all")

    def _positions(self, symbols: list[str]) -> dict[str, int]:
        latest = self.store.latest_recommendations(symbols, self.interval)
        side = {"BUY": 1, "SELL": -1}
        return {
            str(r.symbol): side[r.action]
            for r in latest.itertuples()
            if r.action in side and not r.vetoed
        }

    def _alert(self, level: str, message: str) -> None:
        """Publish an alert (the API streams it) and store it with the monitor's alerts."""
        log.warning("live engine: %s", message)
        alert = AlertRaised(
            level=level, source="live", kind="champions", message=message, at=datetime.now(UTC)
        )
        self.bus.publish(TOPIC_ALERTS, alert)
        try:
            self.store.write(WriteBatch(alerts=alerts_rows([alert])))
        except Exception as exc:  # the store may be why champions fail; the alert went out
            log.warning("live engine: alert %s not stored: %s", alert.id, exc)

    # -- one bar time ----------------------------------------------------------------------

    async def handle(self, event: BarsClosed) -> SignalsReady | None:
        """Score one bar time; return what was published (None if nothing was scored).

        Every log line of the bar time carries its ``bar_ts`` (ISO, UTC) and
        ``interval`` (:func:`nexus.config.log_context`).
        """
        with log_context(bar_ts=_iso_utc(event.ts), interval=str(event.interval)):
            return await self._handle(event)

    async def _handle(self, event: BarsClosed) -> SignalsReady | None:
        if self._watcher.changed():
            await asyncio.to_thread(self._load, "model_config.json changed")
        if not self.champions or str(event.interval) != self.interval:
            return None
        timings: dict[str, float] = {}
        if self._needs_rewarm(event):
            clock = time.perf_counter()
            await asyncio.to_thread(self._warm)
            _lap(timings, "rewarm", clock)
        signals = await asyncio.to_thread(self._process, event, timings)
        self.bus.publish(TOPIC_SIGNALS, signals)
        await _yield_to_subscribers()
        await asyncio.to_thread(self._write, signals)
        return signals

    def _needs_rewarm(self, event: BarsClosed) -> bool:
        """After dropped bus messages, or on a new day that brought corporate actions."""
        dropped = self._sub.dropped if self._sub is not None else 0
        lost, self._dropped = dropped > self._dropped, dropped
        day = event.ts.date()
        if day == self._day or lost:
            self._day = day
            return lost
        self._day = day
        return len(self.store.read_corporate_actions(list(event.symbols))) > self._actions

    def _process(self, event: BarsClosed, timings: dict[str, float]) -> SignalsReady:
        clock = time.perf_counter()
        ts = pd.Timestamp(event.ts)
        ts = ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")
        symbols = [b.symbol for b in event.bars]
        ohlcv = np.array([[getattr(b, c) for c in _OHLCV] for b in event.bars], dtype=np.float64)
        if self._feed.active:  # news and vintages stored since the last bar time
            context = self._feed.poll(self._served or symbols, self._close(ts))
            for group in self._groups.values():
                group.add_context(context)
        for group in self._groups.values():
            if group.last_ts is None or ts > group.last_ts:  # a rewarm may already hold ts
                group.update(ts, symbols, ohlcv)
        clock = _lap(timings, "features", clock)
        probabilities = {}
        for c in self.champions:
            probabilities[c.slot] = self._infer(c, symbols)
            clock = _lap(timings, f"inference.{c.slot}", clock)
        predictions, recommendations = self._decide(event, ts, symbols, ohlcv, probabilities)
        _lap(timings, "decision", clock)
        self._count(event, ts, recommendations, timings)
        return SignalsReady(
            interval=str(event.interval),
            ts=ts.to_pydatetime(),
            predictions=tuple(predictions),
            recommendations=tuple(recommendations),
            timings=timings,
        )

    def _infer(self, champion: Champion, symbols: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities (m, 3) with NaN rows for unready symbols, ready counts (m,))."""
        group = self._groups[champion.spec.config_id]
        windows, ready = group.windows(symbols, champion.lookback)
        ok = ready >= champion.lookback
        if len(ok) and ok.all():
            return champion.predict(windows), ready
        proba = np.full((len(symbols), 3), np.nan)
        if ok.any():
            proba[ok] = champion.predict(windows[ok])
        return proba, ready

    def _decide(self, event, ts, symbols, ohlcv, probabilities):
        stamp = ts.to_pydatetime()
        interval = str(event.interval)
        self._gate.mark(dict(zip(symbols, ohlcv[:, 3].tolist(), strict=True)))
        need = max(c.lookback for c in self.champions)
        scored = [probabilities[c.slot][0] for c in self.champions]
        ready = np.isfinite(np.stack(scored)).all(axis=(0, 2)).tolist()
        have = np.min([probabilities[c.slot][1] for c in self.champions], axis=0).tolist()
        rows = [p.tolist() for p in scored]  # Python floats once, not numpy scalars per field
        predictions, recommendations = [], []
        for i, symbol in enumerate(symbols):
            if not ready[i]:
                recommendations.append(warming_up(symbol, interval, stamp, int(have[i]), need))
                continue
            mine = [
                _prediction(c, symbol, interval, stamp, p[i])
                for c, p in zip(self.champions, rows, strict=True)
            ]
            predictions.extend(mine)
            recommendations.append(self._gated(decide(mine)))
        return predictions, recommendations

    def _gated(self, rec: Recommendation) -> Recommendation:
        check = self._gate.review(rec.symbol, rec.action)
        if check.allowed:
            return _replace(rec, risk=dict(check.figures))
        return _replace(
            rec,
            action=Action.HOLD,
            reasons=(*rec.reasons, check.reason),
            risk=dict(check.figures),
            vetoed=True,
        )

    def _write(self, signals: SignalsReady) -> None:
        """Store one bar time's predictions and recommendations (one transaction)."""
        clock = time.perf_counter()
        self.store.write(
            WriteBatch(
                predictions=_predictions_frame(signals.predictions),
                recommendations=_recommendations_frame(signals.recommendations),
            )
        )
        _lap(self.timings, "store", clock)
        self.metrics.observe({"store": self.timings["store"]})

    def _count(self, event, ts, recommendations, timings) -> None:
        self.metrics.observe(timings)
        self.metrics.bars.inc(len(event.bars))
        self.metrics.bar_times.inc()
        self.metrics.last_bar.set(ts.timestamp())
        actions = Counter(str(rec.action) for rec in recommendations)
        for action, n in actions.items():
            self.metrics.recommendations.labels(action=action).inc(n)
        self.metrics.vetoes.inc(sum(rec.vetoed for rec in recommendations))
        self.timings, self.last_ts = dict(timings), ts.to_pydatetime()
        self.processed += 1


async def _yield_to_subscribers() -> None:
    """Let the tasks a publish woke run before the store write takes the GIL.

    In one process (``nexus up``) the API hub's reader and its per-client senders
    run in this event loop: they wake on the next pass of the loop and send on the
    pass after. The store write runs in a worker thread whose pandas and DuckDB
    work holds the GIL for milliseconds; started at once, it would slow every
    client's send. Three passes of the loop let the fan-out go first.
    """
    for _ in range(3):
        await asyncio.sleep(0)


def _iso_utc(ts: datetime) -> str:
    """``ts`` in ISO 8601 as a UTC time (naive times are UTC)."""
    return (ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)).isoformat()


def _lap(timings: dict[str, float], stage: str, since: float) -> float:
    now = time.perf_counter()
    timings[stage] = now - since
    return now


def _prediction(c: Champion, symbol: str, interval: str, ts: datetime, p: list) -> Prediction:
    return Prediction(
        symbol=symbol,
        interval=interval,
        ts=ts,
        model=c.slot,
        version=c.version,
        p_down=p[0],
        p_neutral=p[1],
        p_up=p[2],
        threshold=c.threshold,
    )


def _replace(rec: Recommendation, **changes) -> Recommendation:
    fields = {f: getattr(rec, f) for f in rec.__dataclass_fields__}
    return Recommendation(**{**fields, **changes})


def _predictions_frame(predictions: Sequence[Prediction]) -> pd.DataFrame:
    """The predictions as a frame, built column by column (the store coerces and checks it)."""
    return pd.DataFrame({c: [getattr(p, c) for p in predictions] for c in PREDICTION_COLUMNS})


def _recommendations_frame(recommendations: Sequence[Recommendation]) -> pd.DataFrame:
    """The recommendations as a frame; reasons and risk as JSON text (the store checks it)."""
    columns = {c: [getattr(r, c) for r in recommendations] for c in RECOMMENDATION_COLUMNS}
    columns["action"] = [str(a) for a in columns["action"]]
    columns["reasons"] = [json.dumps(list(v)) for v in columns["reasons"]]
    columns["risk"] = [json.dumps(dict(v)) for v in columns["risk"]]
    return pd.DataFrame(columns)
