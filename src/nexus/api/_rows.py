"""Store frames and bus events as the plain JSON dicts of the wire format.

The REST routes and the stream hub both speak through these, so a bar, a
prediction or a recommendation looks the same wherever a client reads it.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import pandas as pd

from nexus.domain import Bar, Prediction, Recommendation

__all__ = [
    "bar_dict",
    "bar_rows",
    "domain_prediction",
    "domain_recommendation",
    "iso",
    "maybe_number",
    "news_rows",
    "plain",
    "prediction_rows",
    "recommendation_rows",
    "stream_bar_rows",
]

_PRICES = ("open", "high", "low", "close", "volume")
_PROBS = ("p_down", "p_neutral", "p_up", "threshold")


def iso(value: datetime | pd.Timestamp) -> str:
    """``value`` as ISO 8601 in UTC (naive values are taken as UTC)."""
    return _iso(value)


@functools.lru_cache(maxsize=4096)
def _iso(value: datetime | pd.Timestamp) -> str:
    # one bar time's hundreds of rows share a timestamp: format it once
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")
    return stamp.isoformat()


def _number(value: Any) -> float | None:
    """A finite float, or None for NaN and infinities (JSON has neither)."""
    out = float(value)
    return out if math.isfinite(out) else None


def bar_dict(bar: Bar) -> dict[str, Any]:
    """One stream bar: ``symbol, ts, open, high, low, close, volume``."""
    return {
        "symbol": bar.symbol,
        "ts": iso(bar.ts),
        **{k: _number(getattr(bar, k)) for k in _PRICES},
    }


def bar_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Bar-frame rows as ``ts, open, high, low, close, volume`` dicts, in frame order."""
    if frame.empty:
        return []
    stamps = [iso(t) for t in frame["ts"]]
    columns = [frame[k].to_numpy(dtype="float64") for k in _PRICES]
    return [
        {"ts": ts, **{k: _number(col[i]) for k, col in zip(_PRICES, columns, strict=True)}}
        for i, ts in enumerate(stamps)
    ]


def stream_bar_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Bar-frame rows as stream bars (with ``symbol``)."""
    if frame.empty:
        return []
    return [
        {"symbol": symbol, **row}
        for symbol, row in zip(frame["symbol"], bar_rows(frame), strict=True)
    ]


def prediction_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Prediction-frame rows (``PREDICTION_COLUMNS``) as prediction dicts."""
    out = []
    for row in frame.itertuples(index=False):
        out.append(
            {
                "symbol": str(row.symbol),
                "interval": str(row.interval),
                "ts": iso(row.ts),
                "model": str(row.model),
                "version": str(row.version),
                **{k: _number(getattr(row, k)) for k in _PROBS},
            }
        )
    return out


def _items(text: Any) -> list[str]:
    """A stored comma-separated list as its items (``"rss:a,,newsapi"`` -> two)."""
    if not isinstance(text, str):
        return []
    return [item.strip() for item in text.split(",") if item.strip()]


def _text_or_none(value: Any) -> str | None:
    """A non-empty string, or None for "", NaN and None."""
    return value if isinstance(value, str) and value else None


def news_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """News-frame rows (``NEWS_COLUMNS``) as story dicts, in frame order.

    ``source`` and ``symbols`` become lists, a NaN ``sentiment`` and an empty
    ``url`` or ``sentiment_model`` become None; the body is left out.
    """
    out = []
    for row in frame.itertuples(index=False):
        sentiment = maybe_number(row.sentiment)
        out.append(
            {
                "id": str(row.id),
                "published_at": iso(row.published_at),
                "available_at": iso(row.available_at),
                "headline": str(row.headline),
                "url": _text_or_none(row.url),
                "sentiment": sentiment,
                "sentiment_model": _text_or_none(row.sentiment_model),
                "sources": _items(row.source),
                "symbols": _items(row.symbols),
            }
        )
    return out


def _json_field(text: Any, default: Any) -> Any:
    if isinstance(text, list | dict):
        return text
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return default
    return value if isinstance(value, type(default)) else default


def recommendation_rows(
    frame: pd.DataFrame, predictions: pd.DataFrame | None = None
) -> list[dict[str, Any]]:
    """Recommendation-frame rows as dicts, each with the predictions of its bar.

    ``predictions`` (a prediction frame) supplies, for each recommendation, the
    rows with the same symbol, interval and ts.
    """
    by_key: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    if predictions is not None:
        for p in prediction_rows(predictions):
            by_key.setdefault((p["symbol"], p["interval"], p["ts"]), []).append(p)
    out = []
    for row in frame.itertuples(index=False):
        ts = iso(row.ts)
        risk = _json_field(row.risk, {})
        out.append(
            {
                "symbol": str(row.symbol),
                "interval": str(row.interval),
                "ts": ts,
                "action": str(row.action),
                "confidence": _number(row.confidence),
                "predictions": by_key.get((str(row.symbol), str(row.interval), ts), []),
                "reasons": [str(r) for r in _json_field(row.reasons, [])],
                "risk": {str(k): maybe_number(v) for k, v in risk.items()},
                "vetoed": bool(row.vetoed),
            }
        )
    return out


def maybe_number(value: Any) -> float | None:
    """A finite float, or None for NaN, infinities, None and what is not a number."""
    try:
        return _number(value)
    except (TypeError, ValueError):
        return None


def domain_prediction(p: Prediction) -> dict[str, Any]:
    """A :class:`Prediction` as its wire dict."""
    return {
        "symbol": p.symbol,
        "interval": str(p.interval),
        "ts": iso(p.ts),
        "model": p.model,
        "version": p.version,
        **{k: _number(getattr(p, k)) for k in _PROBS},
    }


def domain_recommendation(
    r: Recommendation, known: Mapping[Prediction, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A :class:`Recommendation` as its wire dict (``known``: predictions already converted)."""
    known = known or {}
    return {
        "symbol": r.symbol,
        "interval": str(r.interval),
        "ts": iso(r.ts),
        "action": str(r.action),
        "confidence": _number(r.confidence),
        "predictions": [known.get(p) or domain_prediction(p) for p in r.predictions],
        "reasons": [str(x) for x in r.reasons],
        "risk": {str(k): maybe_number(v) for k, v in dict(r.risk).items()},
        "vetoed": bool(r.vetoed),
    }


def plain(value: Any) -> Any:
    """``value`` with datetimes as ISO strings and non-finite floats as None (JSON-safe)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Iterable) and not isinstance(value, str | bytes):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    if hasattr(value, "item"):  # NumPy scalars
        return plain(value.item())
    return str(value)
