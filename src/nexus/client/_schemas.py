"""The wire format of the Nexus API: one pydantic model per JSON shape.

The server (:mod:`nexus.api`) declares these as its response models, so the
OpenAPI schema at ``/openapi.json`` is exactly what this module says; the
client (:class:`nexus.client.Client`) parses responses with the same models.
Nothing here imports FastAPI.

Stream messages (``/ws/stream``) are a union tagged by ``type``; parse one
with :func:`parse_message`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from nexus.domain import Action, Prediction, Recommendation

__all__ = [
    "AlertEvent",
    "AlertInfo",
    "AlertMessage",
    "BarMessage",
    "BarPoint",
    "BarsPage",
    "ClientMessage",
    "ComponentHealth",
    "DecisionInfo",
    "DriftInfo",
    "ErrorBody",
    "ErrorMessage",
    "FeatureDriftInfo",
    "Health",
    "HeartbeatMessage",
    "JobInfo",
    "MacroPoint",
    "MacroSeriesInfo",
    "MacroSeriesPage",
    "MacroVintage",
    "ModelMessage",
    "ModelsChangedEvent",
    "ModelsInfo",
    "NewsInfo",
    "PingRequest",
    "PongMessage",
    "PredictionInfo",
    "PredictionMessage",
    "PromoteRequest",
    "Readiness",
    "RecommendationInfo",
    "RecommendationMessage",
    "ReportInfo",
    "RetrainRequest",
    "RollbackRequest",
    "SlotDetail",
    "SlotInfo",
    "SnapshotEntry",
    "SnapshotMessage",
    "StreamBar",
    "StreamMessage",
    "SubscribeRequest",
    "SubscribedMessage",
    "SymbolInfo",
    "VersionInfo",
    "parse_client_message",
    "parse_message",
]


class _Wire(BaseModel):
    model_config = ConfigDict(frozen=True)


# -- market data ---------------------------------------------------------------------------


class SymbolInfo(_Wire):
    """One instrument the store knows, with the bar intervals it holds."""

    symbol: str
    calendar: str
    kind: str
    description: str
    source: str
    simulated: bool = Field(description="True when the data comes from the built-in simulator.")
    intervals: list[str] = Field(description="Stored bar intervals, finest first.")


class BarPoint(_Wire):
    """One OHLCV bar of a symbol (``ts`` is the UTC open time)."""

    ts: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float


class BarsPage(_Wire):
    """The newest ``limit`` bars of one symbol in a time range, oldest first."""

    symbol: str
    interval: str
    adjust: Literal["none", "splits", "all"]
    bars: list[BarPoint]

    def to_frame(self) -> pd.DataFrame:
        """The bars as a frame with columns ``ts, open, high, low, close, volume`` (UTC)."""
        frame = pd.DataFrame(
            [b.model_dump() for b in self.bars],
            columns=["ts", "open", "high", "low", "close", "volume"],
        )
        frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
        return frame


class PredictionInfo(_Wire):
    """One champion model's calibrated class probabilities for one symbol and bar."""

    symbol: str
    interval: str
    ts: datetime
    model: str = Field(description="The registry slot, e.g. lstm.")
    version: str
    p_down: float
    p_neutral: float
    p_up: float
    threshold: float

    def to_domain(self) -> Prediction:
        """This prediction as a :class:`nexus.domain.Prediction`."""
        return Prediction(**self.model_dump())


class RecommendationInfo(_Wire):
    """A dual-confirmed BUY / SELL / HOLD with both models' predictions and its reasons."""

    symbol: str
    interval: str
    ts: datetime
    action: Action
    confidence: float
    predictions: list[PredictionInfo] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    risk: dict[str, float | None] = Field(default_factory=dict)
    vetoed: bool = False

    def to_domain(self) -> Recommendation:
        """This recommendation as a :class:`nexus.domain.Recommendation`."""
        return Recommendation(
            symbol=self.symbol,
            interval=self.interval,
            ts=self.ts,
            action=self.action,
            confidence=self.confidence,
            predictions=tuple(p.to_domain() for p in self.predictions),
            reasons=tuple(self.reasons),
            risk={k: v for k, v in self.risk.items() if v is not None},
            vetoed=self.vetoed,
        )


# -- news and macro ------------------------------------------------------------------------


class NewsInfo(_Wire):
    """One stored story: its headline, when it became known, its sentiment and its feeds."""

    id: str
    published_at: datetime = Field(description="When the story says it was published (UTC).")
    available_at: datetime = Field(
        description="When Nexus could first have read it (UTC): the time point-in-time joins use."
    )
    headline: str
    url: str | None = Field(None, description="Link to the story; null when none is known.")
    sentiment: float | None = Field(
        None, description="Below 0 negative, above 0 positive; null when unscored."
    )
    sentiment_model: str | None = Field(
        None, description="The scorer that made ``sentiment`` (``name@version``); null if none."
    )
    sources: list[str] = Field(description="Every feed that carried the story.")
    symbols: list[str] = Field(description="Every symbol the story mentions.")


class MacroVintage(_Wire):
    """One published value of a macro period (a first release or a revision)."""

    value: float | None
    released_at: datetime = Field(description="When this value became public (UTC).")
    source: str


class MacroPoint(_Wire):
    """One period of a macro series as known at a time: the newest vintage released by then."""

    period: date = Field(description="The first day of the month, quarter or year it measures.")
    value: float | None
    released_at: datetime = Field(description="When this value became public (UTC).")
    source: str
    vintages: list[MacroVintage] = Field(
        description="Every value of the period released by then, oldest first."
    )


class MacroSeriesInfo(_Wire):
    """A macro series: its newest value as known at a time, and the change on the period before."""

    series_id: str
    period: date = Field(description="The newest period known.")
    value: float | None = Field(description="Its newest released value.")
    released_at: datetime = Field(description="When that value became public (UTC).")
    previous_period: date | None = Field(None, description="The period before, if known.")
    previous: float | None = Field(None, description="Its value as known at the same time.")
    change: float | None = Field(None, description="``value - previous``.")
    periods: int = Field(description="Periods known.")
    vintages: int = Field(description="Values released (first releases and revisions).")
    source: str


class MacroSeriesPage(_Wire):
    """A macro series as it was known at ``as_of``: one point per period, oldest first."""

    series_id: str
    as_of: datetime
    observations: list[MacroPoint]

    def to_frame(self) -> pd.DataFrame:
        """The points as a frame: ``period, value, released_at, source, vintages`` (a count)."""
        frame = pd.DataFrame(
            [
                {
                    "period": p.period,
                    "value": p.value,
                    "released_at": p.released_at,
                    "source": p.source,
                    "vintages": len(p.vintages),
                }
                for p in self.observations
            ],
            columns=["period", "value", "released_at", "source", "vintages"],
        )
        frame["released_at"] = pd.to_datetime(frame["released_at"], utc=True)
        return frame


# -- models --------------------------------------------------------------------------------


class DecisionInfo(_Wire):
    """One entry of a model slot's history (see ``nexus.registry.Decision``)."""

    time: datetime
    action: Literal["promote", "rollback", "keep", "refused"]
    version: str | None = None
    before: str | None = None
    champion: str | None = None
    previous: str | None = None
    reason: str
    figures: dict[str, Any] = Field(default_factory=dict)


class VersionInfo(_Wire):
    """One stored version of a model slot."""

    version: str
    role: Literal["champion", "previous", ""] = ""
    created: datetime | None = Field(None, description="When it was trained (UTC).")
    missing: bool = Field(False, description="Named in model_config.json but not on disk.")
    model: str | None = None
    metrics: dict[str, Any] | None = Field(None, description="Out-of-sample scores.")


class SlotInfo(_Wire):
    """A model slot: its champion, the previous champion and every version."""

    slot: str
    champion: str | None
    previous: str | None
    versions: list[VersionInfo]
    last_validation: DecisionInfo | None = Field(
        None, description="The newest decision that judged a challenger (with its figures)."
    )
    last_retrain: datetime | None = Field(None, description="When the newest version was trained.")
    drift: str = Field("unknown", description="Drift status of the champion.")


class SlotDetail(SlotInfo):
    """A model slot with its whole decision history, oldest first."""

    history: list[DecisionInfo]


class ModelsInfo(_Wire):
    """Every model slot of the registry."""

    slots: list[SlotInfo]


class PromoteRequest(_Wire):
    """Make ``version`` the champion of the slot."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1, max_length=128)
    reason: str = Field("promoted through the API", min_length=1, max_length=1000)


class RollbackRequest(_Wire):
    """Make the previous champion of the slot the champion again."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: str = Field("rolled back through the API", min_length=1, max_length=1000)


class RetrainRequest(_Wire):
    """Run the nightly job (train challengers, validate, promote or keep) now."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sessions: int = Field(5, ge=1, le=250, description="Validation window in trading sessions.")


class JobInfo(_Wire):
    """A background job (a retrain) and how it went."""

    id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "failed"]
    params: dict[str, Any] = Field(default_factory=dict)
    submitted: datetime
    started: datetime | None = None
    finished: datetime | None = None
    result: dict[str, Any] | None = None
    error: str | None = None


# -- monitoring ----------------------------------------------------------------------------


class AlertInfo(_Wire):
    """A stored alert: drift, a rollback, a monitor fault."""

    id: str
    at: datetime
    level: Literal["info", "warning", "critical"]
    source: str
    kind: str = Field("", description="data_drift, severe_drift, accuracy, rollback, ...")
    slot: str = ""
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class FeatureDriftInfo(_Wire):
    """One feature of a drift check: PSI and KS against the training reference."""

    name: str
    psi: float | None = None
    ks: float | None = None
    n: int = 0
    drifting: bool = False


class DriftInfo(_Wire):
    """One drift check of a slot's champion (see ``nexus.monitoring.SlotCheck``)."""

    slot: str
    version: str
    at: datetime
    bar_ts: datetime | None = None
    status: str = Field(description="ok, warning, drift, severe; or no_reference (not judged).")
    data_score: float | None = Field(None, description="Mean PSI over the scored features.")
    drifted: float | None = Field(None, description="Share of scored features drifting.")
    confidence: float | None = None
    confidence_ref: float | None = None
    accuracy: float | None = Field(None, description="Realised, on resolved predictions.")
    accuracy_ref: float | None = None
    accuracy_base: float | None = Field(
        None, description="Accuracy of always calling the validation window's commonest class."
    )
    macro_f1: float | None = None
    macro_f1_ref: float | None = None
    n_window: int = 0
    n_resolved: int = 0
    action: str = Field("", description="rollback, rollback refused, cooldown, or empty.")
    events: list[str] = Field(default_factory=list)
    features: list[FeatureDriftInfo] = Field(
        default_factory=list, description="Scored features, highest PSI first."
    )


# -- operations ----------------------------------------------------------------------------


class ReportInfo(_Wire):
    """An HTML report under ``NEXUS_HOME/reports``, served at ``url``."""

    name: str
    url: str
    modified: datetime
    size: int


class ComponentHealth(_Wire):
    """How one component is doing: ``ok``, ``error`` or ``absent``."""

    status: Literal["ok", "error", "absent"]
    detail: str = ""
    info: dict[str, Any] = Field(default_factory=dict)


class Health(_Wire):
    """``ok`` when every present component is ok, else ``degraded``."""

    status: Literal["ok", "degraded"]
    components: dict[str, ComponentHealth]


class Readiness(_Wire):
    """Whether the server can serve: the store answers and the engine has champions."""

    ready: bool
    reasons: list[str] = Field(default_factory=list)


class ErrorBody(_Wire):
    """The body of every 4xx/5xx answer: what went wrong and how to fix it."""

    detail: str
    error: str | None = Field(None, description="The nexus.errors class, when there is one.")


# -- the stream ----------------------------------------------------------------------------


class StreamBar(_Wire):
    """One bar on the stream."""

    symbol: str
    ts: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float


class SnapshotEntry(_Wire):
    """What the server holds for one symbol when a client connects."""

    bar: StreamBar | None = None
    predictions: list[PredictionInfo] = Field(default_factory=list)
    recommendation: RecommendationInfo | None = None


class SnapshotMessage(_Wire):
    """The first message: the latest bar, predictions and recommendation per symbol."""

    type: Literal["snapshot"] = "snapshot"
    interval: str | None = None
    data: dict[str, SnapshotEntry]


class BarMessage(_Wire):
    """New bars of one bar time, for the client's symbols."""

    type: Literal["bar"] = "bar"
    interval: str
    ts: datetime
    data: list[StreamBar]


class PredictionMessage(_Wire):
    """New predictions of one bar time, for the client's symbols."""

    type: Literal["prediction"] = "prediction"
    interval: str
    ts: datetime
    data: list[PredictionInfo]


class RecommendationMessage(_Wire):
    """New recommendations of one bar time, for the client's symbols."""

    type: Literal["recommendation"] = "recommendation"
    interval: str
    ts: datetime
    data: list[RecommendationInfo]


class ModelsChangedEvent(_Wire):
    """The champions the live engine now serves."""

    champions: dict[str, str | None]
    at: datetime
    reason: str = ""


class ModelMessage(_Wire):
    """The live engine changed champions."""

    type: Literal["model"] = "model"
    data: ModelsChangedEvent


class AlertEvent(_Wire):
    """Something a person should look at (streamed as it is raised; see ``AlertInfo``)."""

    level: str
    source: str
    message: str
    at: datetime
    details: dict[str, Any] = Field(default_factory=dict)
    kind: str = ""
    slot: str = ""
    id: str = ""


class AlertMessage(_Wire):
    """An alert."""

    type: Literal["alert"] = "alert"
    data: AlertEvent


class HeartbeatMessage(_Wire):
    """Sent every ``heartbeat_s``; ``dropped`` counts this client's dropped messages so far."""

    type: Literal["heartbeat"] = "heartbeat"
    at: datetime
    dropped: int


class PongMessage(_Wire):
    """The answer to ``{"action": "ping"}``."""

    type: Literal["pong"] = "pong"


class SubscribedMessage(_Wire):
    """The client's symbols after a subscribe or unsubscribe (None: every symbol)."""

    type: Literal["subscribed"] = "subscribed"
    symbols: list[str] | None


class ErrorMessage(_Wire):
    """A client message was refused (only that client gets this)."""

    type: Literal["error"] = "error"
    message: str


StreamMessage = Annotated[
    SnapshotMessage
    | BarMessage
    | PredictionMessage
    | RecommendationMessage
    | ModelMessage
    | AlertMessage
    | HeartbeatMessage
    | PongMessage
    | SubscribedMessage
    | ErrorMessage,
    Field(discriminator="type"),
]
"""Any message the server sends on ``/ws/stream``."""

_STREAM: TypeAdapter[StreamMessage] = TypeAdapter(StreamMessage)


def parse_message(text: str | bytes) -> StreamMessage:
    """Parse one stream message.

    Examples
    --------
    >>> parse_message('{"type": "pong"}')
    PongMessage(type='pong')
    """
    return _STREAM.validate_json(text)


# -- what clients send ---------------------------------------------------------------------


class SubscribeRequest(_Wire):
    """Add (``subscribe``) or remove (``unsubscribe``) symbols."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Literal["subscribe", "unsubscribe"]
    symbols: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=1000
    )


class PingRequest(_Wire):
    """Ask for a ``pong``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Literal["ping"]


ClientMessage = Annotated[SubscribeRequest | PingRequest, Field(discriminator="action")]
"""Any message a client may send on ``/ws/stream``."""

_CLIENT: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


def parse_client_message(text: str | bytes) -> ClientMessage:
    """Parse and validate one client message (raises ``pydantic.ValidationError``).

    Examples
    --------
    >>> parse_client_message('{"action": "subscribe", "symbols": ["SIM00"]}').symbols
    ['SIM00']
    """
    return _CLIENT.validate_json(text)
