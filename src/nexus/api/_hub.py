"""The stream hub: bus events in, WebSocket messages out, one slow client never delays another.

The hub subscribes to the bars, signals, models and alerts topics of the bus
and keeps the latest bar, predictions and recommendation of every symbol
(seeded from the store on start). Each connected client has a bounded queue
and its own sender task. Fanning an event out only appends to those queues,
so the bus reader never waits for a client; a client whose queue is full
loses its oldest message, and the drop is counted (per client and in total).
Each message is encoded once per distinct subscription and the same text is
shared by every client that has that subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from nexus.api._rows import (
    bar_dict,
    domain_prediction,
    domain_recommendation,
    iso,
    plain,
    prediction_rows,
    recommendation_rows,
    stream_bar_rows,
)
from nexus.bus import (
    TOPIC_ALERTS,
    TOPIC_BARS,
    TOPIC_MODELS,
    TOPIC_SIGNALS,
    AlertRaised,
    BarsClosed,
    ModelsChanged,
    SignalsReady,
)
from nexus.domain import Interval
from nexus.store import Store

__all__ = ["HubClient", "StreamHub", "encode"]

_log = logging.getLogger("nexus.api")

Send = Callable[[str], Awaitable[None]]
Key = frozenset[str] | None
"""A client's symbols; None means every symbol."""


def encode(message: dict[str, Any]) -> str:
    """``message`` as compact JSON text (NaN and infinities become null).

    Examples
    --------
    >>> encode({"type": "pong"})
    '{"type":"pong"}'
    >>> encode({"x": float("nan")})
    '{"x":null}'
    """
    try:
        return json.dumps(message, separators=(",", ":"), allow_nan=False)
    except ValueError:
        return json.dumps(plain(message), separators=(",", ":"), allow_nan=False)


class HubClient:
    """One connected client: its symbols, its bounded queue and its counters."""

    __slots__ = ("dropped", "maxsize", "queue", "send", "sent", "symbols", "task", "wake")

    def __init__(self, send: Send, symbols: Key, maxsize: int) -> None:
        self.send = send
        self.symbols = symbols
        self.maxsize = maxsize
        self.queue: deque[str] = deque()
        self.wake = asyncio.Event()
        self.dropped = 0
        self.sent = 0
        self.task: asyncio.Task[None] | None = None

    def offer(self, text: str) -> bool:
        """Queue ``text``; drop the oldest message first when full. Return True if one was."""
        dropped = len(self.queue) >= self.maxsize
        if dropped:
            self.queue.popleft()
            self.dropped += 1
        self.queue.append(text)
        self.wake.set()
        return dropped

    def stats(self) -> dict[str, Any]:
        """This client's symbols and counters."""
        return {
            "symbols": None if self.symbols is None else sorted(self.symbols),
            "queued": len(self.queue),
            "sent": self.sent,
            "dropped": self.dropped,
        }


class StreamHub:
    """Fans bus events out to WebSocket clients.

    Parameters
    ----------
    bus : Bus
        Anything with ``subscribe(topic, maxsize=...)`` returning an async-iterable
        subscription with ``close()`` (``InProcessBus``, ``RedisBus``).
    store : Store
        Seeds the latest bar, predictions and recommendation of every symbol.
    interval : str, optional
        The bar interval whose newest bar the snapshot holds. Default: the finest
        interval in the store, or that of the first bars event. (The snapshot's
        predictions and recommendation are each symbol's newest, of any interval.)
    client_queue : int
        Messages each client's queue holds before the oldest is dropped.
    heartbeat_s : float
        Seconds between heartbeats to every client.
    """

    def __init__(
        self,
        bus: Any,
        store: Store,
        *,
        interval: Interval | str | None = None,
        client_queue: int = 1000,
        heartbeat_s: float = 15.0,
    ) -> None:
        self.bus = bus
        self.store = store
        self.interval = None if interval is None else Interval.parse(interval).value
        self.client_queue = client_queue
        self.heartbeat_s = heartbeat_s
        self._clients: dict[int, HubClient] = {}
        self._known: set[str] = set()
        self._bars: dict[str, tuple[str, dict[str, Any]]] = {}
        self._predictions: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {}
        self._recommendations: dict[str, tuple[str, dict[str, Any]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._subs: list[Any] = []
        self._sent = 0
        self._dropped = 0
        self._events = 0
        self.started = False

    # -- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe to the bus, seed from the store, start the readers and the heartbeat."""
        handlers = {
            TOPIC_BARS: self._on_bars,
            TOPIC_SIGNALS: self._on_signals,
            TOPIC_MODELS: self._on_models,
            TOPIC_ALERTS: self._on_alert,
        }
        # subscribe first: events that arrive while the store is read wait in the queues
        subs = {topic: self.bus.subscribe(topic) for topic in handlers}
        self._subs = list(subs.values())
        try:
            await asyncio.to_thread(self._seed)
        except Exception as exc:  # the store is down: serve the stream from events alone
            _log.warning("stream hub: could not read the latest data from the store: %s", exc)
        for topic, handler in handlers.items():
            self._tasks.append(asyncio.create_task(self._read(subs[topic], handler)))
        self._tasks.append(asyncio.create_task(self._heartbeats()))
        self.started = True

    async def stop(self) -> None:
        """Stop reading the bus and sending; forget every client."""
        self.started = False
        tasks = self._tasks + [c.task for c in self._clients.values() if c.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for sub in self._subs:
            sub.close()
        self._tasks, self._subs = [], []
        self._clients.clear()

    async def _read(self, sub: Any, handler: Callable[[Any], None]) -> None:
        async for message in sub:
            self._events += 1
            try:
                handler(message)
            except Exception:  # a malformed event must not stop the stream
                _log.exception("stream hub: could not fan out %s", type(message).__name__)

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            at = datetime.now(UTC).isoformat()
            for client in list(self._clients.values()):
                self._offer(
                    client, encode({"type": "heartbeat", "at": at, "dropped": client.dropped})
                )

    # -- symbols ---------------------------------------------------------------------------

    def _seed(self) -> None:
        known = _store_symbols(self.store)
        if self.interval is None:
            self.interval = _finest_interval(self.store)
        self._known.update(known)
        if self.interval is not None:
            for row in stream_bar_rows(self.store.latest_bars(None, self.interval)):
                self._set_bar(row)
        predictions = self.store.latest_predictions()
        for row in prediction_rows(predictions):
            self._set_prediction(row)
        for row in recommendation_rows(self.store.latest_recommendations(), predictions):
            self._set_recommendation(row)

    def knows(self, symbol: str) -> bool:
        """Whether the hub knows ``symbol`` (from the store or from events); any thread."""
        return symbol in self._known

    def known_symbols(self) -> frozenset[str]:
        """Every symbol the hub knows (call from the event loop)."""
        return frozenset(self._known)

    async def unknown(self, symbols: Iterable[str]) -> list[str]:
        """The ``symbols`` that neither the hub nor (read again) the store knows."""
        missing = [s for s in symbols if s not in self._known]
        if missing:
            with contextlib.suppress(Exception):
                self._known.update(await asyncio.to_thread(_store_symbols, self.store))
            missing = [s for s in missing if s not in self._known]
        return sorted(set(missing))

    # -- clients ---------------------------------------------------------------------------

    def connect(self, send: Send, symbols: Key) -> HubClient:
        """Register a client that receives through ``send``; its first message is a snapshot."""
        client = HubClient(send, symbols, self.client_queue)
        client.offer(encode(self.snapshot(symbols)))
        self._clients[id(client)] = client
        client.task = asyncio.create_task(self._sender(client))
        return client

    async def disconnect(self, client: HubClient) -> None:
        """Remove ``client`` and stop its sender."""
        self._clients.pop(id(client), None)
        task, client.task = client.task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def reply(self, client: HubClient, message: dict[str, Any]) -> None:
        """Queue a message for ``client`` only."""
        self._offer(client, encode(message))

    def resubscribe(self, client: HubClient, symbols: Key, added: Iterable[str] = ()) -> None:
        """Change ``client``'s symbols; it gets ``subscribed`` and a snapshot of ``added``."""
        client.symbols = symbols
        listed = None if symbols is None else sorted(symbols)
        self._offer(client, encode({"type": "subscribed", "symbols": listed}))
        added = frozenset(added)
        if added:
            self._offer(client, encode(self.snapshot(added)))

    async def _sender(self, client: HubClient) -> None:
        try:
            while True:
                if not client.queue:
                    client.wake.clear()
                    await client.wake.wait()
                    continue
                await client.send(client.queue.popleft())
                client.sent += 1
                self._sent += 1
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the connection is gone; the endpoint removes the client
            _log.debug("stream hub: send failed (%s); client removed", exc)
            self._clients.pop(id(client), None)

    def _offer(self, client: HubClient, text: str) -> None:
        if client.offer(text):
            self._dropped += 1

    def stats(self) -> dict[str, Any]:
        """Totals ``clients``, ``sent``, ``dropped``, ``queued``, ``events``; ``per_client``."""
        clients = [c.stats() for c in self._clients.values()]
        return {
            "clients": len(clients),
            "sent": self._sent,
            "dropped": self._dropped,
            "queued": sum(c["queued"] for c in clients),
            "events": self._events,
            "per_client": clients,
        }

    # -- snapshot --------------------------------------------------------------------------

    def snapshot(self, symbols: Key) -> dict[str, Any]:
        """The ``snapshot`` message for ``symbols`` (None: every known symbol)."""
        chosen = sorted(self._known if symbols is None else symbols)
        data = {}
        for s in chosen:
            bar = self._bars.get(s)
            rec = self._recommendations.get(s)
            preds = self._predictions.get(s, {})
            data[s] = {
                "bar": bar[1] if bar else None,
                "predictions": [preds[m][1] for m in sorted(preds)],
                "recommendation": rec[1] if rec else None,
            }
        return {"type": "snapshot", "interval": self.interval, "data": data}

    def _set_bar(self, row: dict[str, Any]) -> None:
        _keep_newest(self._bars, row["symbol"], row)
        self._known.add(row["symbol"])

    def _set_prediction(self, row: dict[str, Any]) -> None:
        _keep_newest(self._predictions.setdefault(row["symbol"], {}), row["model"], row)

    def _set_recommendation(self, row: dict[str, Any]) -> None:
        _keep_newest(self._recommendations, row["symbol"], row)

    # -- events ----------------------------------------------------------------------------

    def _on_bars(self, event: BarsClosed) -> None:
        interval = str(event.interval)
        if self.interval is None:
            self.interval = interval
        rows = {}
        for bar in event.bars:
            row = bar_dict(bar)
            rows[bar.symbol] = row
            if interval == self.interval:
                self._set_bar(row)
            self._known.add(bar.symbol)
        self._fan_out("bar", interval, iso(event.ts), rows)

    def _on_signals(self, event: SignalsReady) -> None:
        interval = str(event.interval)
        by_symbol: dict[str, list[dict[str, Any]]] = {}
        rows = {}  # each prediction made a dict once, for its message and its recommendation's
        for p in event.predictions:
            row = rows[p] = domain_prediction(p)
            by_symbol.setdefault(p.symbol, []).append(row)
            self._set_prediction(row)
        recs = {}
        for r in event.recommendations:
            row = domain_recommendation(r, rows)
            recs[r.symbol] = row
            self._set_recommendation(row)
        ts = iso(event.ts)
        # the recommendation (which embeds both predictions) goes first: it is what a trader acts on
        self._fan_out("recommendation", interval, ts, recs)
        self._fan_out("prediction", interval, ts, by_symbol, flatten=True)

    def _on_models(self, event: ModelsChanged) -> None:
        data = {"champions": dict(event.champions), "at": iso(event.at), "reason": event.reason}
        self._broadcast({"type": "model", "data": data})

    def _on_alert(self, event: AlertRaised) -> None:
        data = {**event.to_dict(), "at": iso(event.at), "details": plain(dict(event.details))}
        self._broadcast({"type": "alert", "data": data})

    def _broadcast(self, message: dict[str, Any]) -> None:
        text = encode(message)
        for client in self._clients.values():
            self._offer(client, text)

    def _fan_out(
        self,
        kind: str,
        interval: str,
        ts: str,
        rows: dict[str, Any],
        *,
        flatten: bool = False,
    ) -> None:
        """Send each client the ``rows`` of its symbols, encoding once per subscription."""
        if not rows:
            return
        texts: dict[Key, str | None] = {}
        for client in self._clients.values():
            key = client.symbols
            if key not in texts:
                chosen = rows.values() if key is None else [rows[s] for s in rows if s in key]
                data = [x for group in chosen for x in group] if flatten else list(chosen)
                texts[key] = (
                    encode({"type": kind, "interval": interval, "ts": ts, "data": data})
                    if data
                    else None
                )
            text = texts[key]
            if text is not None:
                self._offer(client, text)


def _keep_newest(
    table: dict[str, tuple[str, dict[str, Any]]], key: str, row: dict[str, Any]
) -> None:
    # every row's ts is an iso() string in UTC, and those sort as the times do
    ts = row["ts"]
    current = table.get(key)
    if current is None or ts >= current[0]:
        table[key] = (ts, row)


def _store_symbols(store: Store) -> set[str]:
    symbols = set(store.symbols()["symbol"].astype(str))
    return symbols | set(store.series()["symbol"].astype(str))


def _finest_interval(store: Store) -> str | None:
    stored = {str(i) for i in store.series()["interval"]}
    for interval in Interval:
        if interval.value in stored:
            return interval.value
    return None
