"""The value types every stage speaks.

Single values (one bar, one news item) are frozen dataclasses. Bulk data moves
between stages as columnar frames whose columns are fixed in
:mod:`nexus.domain._frames`; :meth:`Bar.from_frame` and :meth:`Bar.to_frame`
convert between the two.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

from nexus.domain._frames import BAR_COLUMNS, bars_frame
from nexus.domain._interval import Interval

__all__ = [
    "Action",
    "Bar",
    "CorporateAction",
    "CorporateActionKind",
    "MacroObservation",
    "NewsItem",
    "Prediction",
    "Recommendation",
]


class Action(enum.StrEnum):
    """What a recommendation tells the trader to do."""

    BUY = "BUY"
    SELL = "SELL"
    HOLD = "HOLD"


class CorporateActionKind(enum.StrEnum):
    """The corporate actions that change how prices compare across time."""

    SPLIT = "split"
    DIVIDEND = "dividend"


@dataclass(frozen=True, slots=True, kw_only=True)
class Bar:
    """One raw OHLCV bar.

    ``ts`` is the UTC open time of the bar (the session date at midnight UTC
    for ``1d`` bars). Prices are raw: never adjusted for splits or dividends.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> bar = Bar(symbol="SIM00", interval=Interval.M1,
    ...           ts=datetime(2025, 1, 2, 14, 30, tzinfo=timezone.utc),
    ...           open=10.0, high=10.5, low=9.9, close=10.2, volume=1200.0)
    >>> Bar.from_frame(bar.to_frame())[0] == bar
    True
    """

    symbol: str
    interval: Interval
    ts: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    source: str = "unknown"

    @staticmethod
    def to_frame_many(bars: Iterable[Bar]) -> pd.DataFrame:
        """Return ``bars`` as a bar frame (columns :data:`BAR_COLUMNS`)."""
        rows = [
            (b.symbol, str(b.interval), b.ts, b.open, b.high, b.low, b.close, b.volume, b.source)
            for b in bars
        ]
        return bars_frame(pd.DataFrame(rows, columns=list(BAR_COLUMNS)))

    def to_frame(self) -> pd.DataFrame:
        """Return this bar as a one-row bar frame."""
        return Bar.to_frame_many([self])

    @staticmethod
    def from_frame(frame: pd.DataFrame) -> list[Bar]:
        """Return the rows of a bar frame as :class:`Bar` values."""
        out = []
        for row in frame[list(BAR_COLUMNS)].itertuples(index=False):
            out.append(
                Bar(
                    symbol=row.symbol,
                    interval=Interval.parse(row.interval),
                    ts=pd.Timestamp(row.ts).to_pydatetime(),
                    open=float(row.open),
                    high=float(row.high),
                    low=float(row.low),
                    close=float(row.close),
                    volume=float(row.volume),
                    source=row.source,
                )
            )
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class CorporateAction:
    """A split or a cash dividend taking effect at the open of ``ex_date``.

    ``ratio`` is new shares per old share for a split (2.0 for a 2-for-1);
    ``amount`` is the cash paid per share for a dividend.
    """

    symbol: str
    ex_date: date
    kind: CorporateActionKind
    ratio: float = 1.0
    amount: float = 0.0
    source: str = "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewsItem:
    """A news story. ``available_at`` is when Nexus could first have seen it."""

    id: str
    published_at: datetime
    available_at: datetime
    headline: str
    symbols: tuple[str, ...] = ()
    body: str = ""
    url: str = ""
    sentiment: float | None = None
    source: str = "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class MacroObservation:
    """One vintage of one macro observation.

    ``period`` is the date the value describes; ``realtime_start`` is when
    this value was published (its vintage). A point-in-time read at ``t`` sees
    only vintages with ``realtime_start <= t``.
    """

    series_id: str
    period: date
    realtime_start: datetime
    value: float
    source: str = "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class Prediction:
    """One champion model's calibrated class probabilities for one symbol and bar.

    ``model`` is the registry slot (``lstm``), ``version`` the champion version that
    made it, ``threshold`` the probability its calls need, chosen on validation
    data (see ``docs/live.md``).

    Examples
    --------
    >>> p = Prediction(symbol="SIM00", interval="1m", ts=datetime(2024, 1, 2, 15, 0),
    ...                model="lstm", version="v1", p_down=0.2, p_neutral=0.3, p_up=0.5,
    ...                threshold=0.45)
    >>> p.top, Prediction.from_dict(p.to_dict()) == p
    ('UP', True)
    """

    symbol: str
    interval: str
    ts: datetime
    model: str
    version: str
    p_down: float
    p_neutral: float
    p_up: float
    threshold: float

    @property
    def top(self) -> str:
        """The most probable class: ``'DOWN'``, ``'NEUTRAL'`` or ``'UP'`` (ties go to NEUTRAL)."""
        best = max(self.p_down, self.p_neutral, self.p_up)
        if self.p_neutral == best:
            return "NEUTRAL"
        return "UP" if self.p_up == best else "DOWN"

    def to_dict(self) -> dict:
        """JSON-able fields; ``ts`` as ISO 8601."""
        return {
            "symbol": self.symbol,
            "interval": self.interval,
            "ts": self.ts.isoformat(),
            "model": self.model,
            "version": self.version,
            "p_down": self.p_down,
            "p_neutral": self.p_neutral,
            "p_up": self.p_up,
            "threshold": self.threshold,
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> Prediction:
        """The inverse of :meth:`to_dict`."""
        return cls(**{**data, "ts": _datetime(data["ts"])})


@dataclass(frozen=True, slots=True, kw_only=True)
class Recommendation:
    """A dual-confirmed BUY / SELL / HOLD with the reasons a person can read.

    ``confidence`` is the weakest model's probability of the chosen direction
    (for HOLD: one minus the larger of the weakest P(UP) and the weakest P(DOWN);
    0 while the features warm up).
    ``vetoed`` is True when the risk gate turned a BUY or SELL into HOLD; ``risk``
    holds the gate's figures (exposure, drawdown, ...).

    Examples
    --------
    >>> r = Recommendation(symbol="SIM00", interval="1m", ts=datetime(2024, 1, 2, 15, 0),
    ...                    action=Action.HOLD, confidence=0.5, reasons=("warming up",))
    >>> Recommendation.from_dict(r.to_dict()) == r
    True
    """

    symbol: str
    interval: str
    ts: datetime
    action: Action
    confidence: float
    predictions: tuple[Prediction, ...] = ()
    reasons: tuple[str, ...] = ()
    risk: Mapping[str, float] = field(default_factory=dict)
    vetoed: bool = False

    def to_dict(self) -> dict:
        """JSON-able fields; ``ts`` as ISO 8601, predictions as dicts."""
        return {
            "symbol": self.symbol,
            "interval": self.interval,
            "ts": self.ts.isoformat(),
            "action": str(self.action),
            "confidence": self.confidence,
            "predictions": [p.to_dict() for p in self.predictions],
            "reasons": list(self.reasons),
            "risk": dict(self.risk),
            "vetoed": self.vetoed,
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> Recommendation:
        """The inverse of :meth:`to_dict`."""
        return cls(
            symbol=data["symbol"],
            interval=data["interval"],
            ts=_datetime(data["ts"]),
            action=Action(data["action"]),
            confidence=float(data["confidence"]),
            predictions=tuple(Prediction.from_dict(p) for p in data.get("predictions", ())),
            reasons=tuple(data.get("reasons", ())),
            risk=dict(data.get("risk", {})),
            vetoed=bool(data.get("vetoed", False)),
        )


def _datetime(value: str | datetime) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value
