"""The JSON wire format of bus events (what :class:`~nexus.bus.RedisBus` sends).

Every event travels as one UTF-8 JSON object ``{"type": <class name>, "data":
{...}}``. Datetimes are ISO 8601 strings that keep their offset, so a tz-aware
UTC time comes back as the same tz-aware UTC time; intervals are their names
(``"1m"``); predictions and recommendations are their ``to_dict()`` forms.
Decoding gives back an event equal to the one encoded.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from nexus.bus._events import AlertRaised, BarsClosed, ModelsChanged, SignalsReady
from nexus.domain import Bar, Interval, Prediction, Recommendation
from nexus.errors import DataError

__all__ = ["EVENT_TYPES", "decode", "encode"]

EVENT_TYPES: tuple[type, ...] = (AlertRaised, BarsClosed, ModelsChanged, SignalsReady)
"""The event classes :func:`encode` and :func:`decode` know."""

_FIX = "publish bus messages with nexus.bus.encode from the same Nexus version"


def encode(message: object) -> bytes:
    """Return ``message`` (one of :data:`EVENT_TYPES`) as UTF-8 JSON bytes.

    Parameters
    ----------
    message : BarsClosed, SignalsReady, ModelsChanged or AlertRaised
        The event to encode.

    Returns
    -------
    bytes
        ``{"type": "<class name>", "data": {...}}`` as compact JSON.

    Raises
    ------
    DataError
        If ``message`` is not a bus event, or holds a value JSON cannot carry
        (an :class:`AlertRaised` ``details`` value that is not JSON-able).

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> event = ModelsChanged(champions={"lstm": "v3", "transformer": None},
    ...                       at=datetime(2025, 1, 2, 15, 0, tzinfo=timezone.utc))
    >>> encode(event)[:60]
    b'{"type":"ModelsChanged","data":{"champions":{"lstm":"v3","tr'
    >>> decode(encode(event)) == event
    True
    """
    kind = type(message).__name__
    to_data = _ENCODERS.get(type(message))
    if to_data is None:
        known = ", ".join(t.__name__ for t in EVENT_TYPES)
        raise DataError(
            f"cannot encode a {kind} for the bus: it is not a bus event",
            fix=f"publish one of {known}",
        )
    try:
        text = json.dumps(
            {"type": kind, "data": to_data(message)},
            separators=(",", ":"),
            ensure_ascii=False,
            default=_json_default,
        )
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"cannot encode {kind} for the bus: {exc}",
            fix="give it only JSON values (str, int, float, bool, None, lists and dicts)",
        ) from exc
    return text.encode()


def decode(data: bytes | str) -> Any:
    """Return the event that :func:`encode` turned into ``data``.

    Raises
    ------
    DataError
        If ``data`` is not JSON, names an unknown event type, or lacks or
        mistypes a field of its type.
    """
    try:
        payload = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"bus message is not JSON: {exc}", fix=_FIX) from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise DataError("bus message is not an object with 'type' and 'data' (an object)", fix=_FIX)
    kind = payload.get("type")
    from_data = _DECODERS.get(kind) if isinstance(kind, str) else None
    if from_data is None:
        known = ", ".join(t.__name__ for t in EVENT_TYPES)
        raise DataError(f"bus message has unknown type {kind!r} (known: {known})", fix=_FIX)
    try:
        return from_data(payload["data"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        problem = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise DataError(f"bus message of type {kind} is malformed: {problem}", fix=_FIX) from exc


# -- per type --------------------------------------------------------------------------------


def _bar_data(bar: Bar) -> dict:
    return {
        "symbol": bar.symbol,
        "interval": str(bar.interval),
        "ts": bar.ts.isoformat(),
        "open": bar.open,
        "high": bar.high,
        "low": bar.low,
        "close": bar.close,
        "volume": bar.volume,
        "source": bar.source,
    }


def _bar(data: Mapping) -> Bar:
    return Bar(
        symbol=_str(data["symbol"]),
        interval=_interval(_str(data["interval"])),
        ts=_datetime(data["ts"]),
        open=float(data["open"]),
        high=float(data["high"]),
        low=float(data["low"]),
        close=float(data["close"]),
        volume=float(data["volume"]),
        source=_str(data.get("source", "unknown")),
    )


def _bars_closed_data(event: BarsClosed) -> dict:
    return {
        "interval": str(event.interval),
        "ts": event.ts.isoformat(),
        "bars": [_bar_data(b) for b in event.bars],
    }


def _bars_closed(data: Mapping) -> BarsClosed:
    return BarsClosed(
        interval=_interval(_str(data["interval"])),
        ts=_datetime(data["ts"]),
        bars=tuple(_bar(b) for b in _list(data["bars"])),
    )


def _signals_ready_data(event: SignalsReady) -> dict:
    return {
        "interval": str(event.interval),
        "ts": event.ts.isoformat(),
        "predictions": [p.to_dict() for p in event.predictions],
        "recommendations": [r.to_dict() for r in event.recommendations],
        "timings": dict(event.timings),
    }


def _signals_ready(data: Mapping) -> SignalsReady:
    return SignalsReady(
        interval=_str(data["interval"]),
        ts=_datetime(data["ts"]),
        predictions=tuple(Prediction.from_dict(p) for p in _list(data["predictions"])),
        recommendations=tuple(Recommendation.from_dict(r) for r in _list(data["recommendations"])),
        timings={_str(k): float(v) for k, v in _dict(data.get("timings", {})).items()},
    )


def _models_changed_data(event: ModelsChanged) -> dict:
    return {"champions": dict(event.champions), "at": event.at.isoformat(), "reason": event.reason}


def _models_changed(data: Mapping) -> ModelsChanged:
    champions = {
        _str(slot): None if version is None else _str(version)
        for slot, version in _dict(data["champions"]).items()
    }
    return ModelsChanged(
        champions=champions, at=_datetime(data["at"]), reason=_str(data.get("reason", ""))
    )


def _alert_raised_data(event: AlertRaised) -> dict:
    return event.to_dict()


def _alert_raised(data: Mapping) -> AlertRaised:
    return AlertRaised(
        level=_str(data["level"]),
        source=_str(data["source"]),
        message=_str(data["message"]),
        at=_datetime(data["at"]),
        details=_dict(data.get("details", {})),
        kind=_str(data.get("kind", "")),
        slot=_str(data.get("slot", "")),
        **({"id": _str(data["id"])} if data.get("id") else {}),
    )


_ENCODERS: dict[type, Callable[[Any], dict]] = {
    AlertRaised: _alert_raised_data,
    BarsClosed: _bars_closed_data,
    ModelsChanged: _models_changed_data,
    SignalsReady: _signals_ready_data,
}
_DECODERS: dict[str, Callable[[Mapping], Any]] = {
    "AlertRaised": _alert_raised,
    "BarsClosed": _bars_closed,
    "ModelsChanged": _models_changed,
    "SignalsReady": _signals_ready,
}


# -- helpers ---------------------------------------------------------------------------------


def _json_default(value: object) -> object:
    """NumPy scalars (an ONNX model's float32 probabilities) become Python numbers."""
    if hasattr(value, "dtype") and hasattr(value, "item"):
        return value.item()  # type: ignore[attr-defined]
    raise TypeError(f"{type(value).__name__} value {value!r} is not JSON-able")


def _datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 string, got {value!r}")
    return _parse_iso(value)


@functools.lru_cache(maxsize=1024)
def _parse_iso(text: str) -> datetime:
    """Cached: the bars of one event share their time (datetimes are immutable)."""
    return datetime.fromisoformat(text)


@functools.lru_cache(maxsize=64)
def _interval(text: str) -> Interval:
    return Interval.parse(text)


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _list(value: object) -> list:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {value!r}")
    return value


def _dict(value: object) -> dict:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {value!r}")
    return value
