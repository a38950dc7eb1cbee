"""The wire format: stream messages parse into their models; client messages are validated."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from nexus.api._rows import domain_recommendation
from nexus.client import (
    AlertMessage,
    BarMessage,
    ErrorMessage,
    HeartbeatMessage,
    ModelMessage,
    PingRequest,
    PongMessage,
    RecommendationInfo,
    RecommendationMessage,
    SnapshotMessage,
    SubscribedMessage,
    SubscribeRequest,
    parse_client_message,
    parse_message,
)
from nexus.domain import Action, Prediction, Recommendation

TS = datetime(2025, 1, 2, 15, 0, tzinfo=UTC)
BAR = {
    "symbol": "A",
    "ts": TS.isoformat(),
    "open": 1,
    "high": 2,
    "low": 0.5,
    "close": 1.5,
    "volume": 10,
}


def _rec() -> Recommendation:
    pred = Prediction(
        symbol="A",
        interval="1m",
        ts=TS,
        model="lstm",
        version="v1",
        p_down=0.1,
        p_neutral=0.2,
        p_up=0.7,
        threshold=0.5,
    )
    return Recommendation(
        symbol="A",
        interval="1m",
        ts=TS,
        action=Action.BUY,
        confidence=0.7,
        predictions=(pred,),
        reasons=("both say UP",),
        risk={"exposure": 0.2},
    )


@pytest.mark.parametrize(
    ("message", "cls"),
    [
        (
            {
                "type": "snapshot",
                "interval": "1m",
                "data": {"A": {"bar": BAR, "predictions": [], "recommendation": None}},
            },
            SnapshotMessage,
        ),
        ({"type": "bar", "interval": "1m", "ts": TS.isoformat(), "data": [BAR]}, BarMessage),
        (
            {
                "type": "recommendation",
                "interval": "1m",
                "ts": TS.isoformat(),
                "data": [domain_recommendation(_rec())],
            },
            RecommendationMessage,
        ),
        (
            {"type": "model", "data": {"champions": {"lstm": None}, "at": TS.isoformat()}},
            ModelMessage,
        ),
        (
            {
                "type": "alert",
                "data": {
                    "level": "warning",
                    "source": "s",
                    "message": "m",
                    "at": TS.isoformat(),
                    "details": {"k": 1},
                },
            },
            AlertMessage,
        ),
        ({"type": "heartbeat", "at": TS.isoformat(), "dropped": 3}, HeartbeatMessage),
        ({"type": "pong"}, PongMessage),
        ({"type": "subscribed", "symbols": None}, SubscribedMessage),
        ({"type": "error", "message": "no"}, ErrorMessage),
    ],
)
def test_each_stream_message_parses_into_its_model(message: dict, cls: type) -> None:
    assert type(parse_message(json.dumps(message))) is cls


def test_a_recommendation_round_trips_to_the_domain() -> None:
    rec = _rec()
    info = RecommendationInfo.model_validate(domain_recommendation(rec))
    assert info.to_domain() == rec


def test_client_messages() -> None:
    assert isinstance(parse_client_message('{"action": "ping"}'), PingRequest)
    sub = parse_client_message('{"action": "unsubscribe", "symbols": ["A", "B"]}')
    assert isinstance(sub, SubscribeRequest)
    assert sub.symbols == ["A", "B"]
    for bad in (
        '{"action": "ping", "extra": 1}',
        '{"action": "subscribe", "symbols": []}',
        '{"action": "subscribe", "symbols": [""]}',
        '{"symbols": ["A"]}',
        "[]",
        "nope",
    ):
        with pytest.raises(ValidationError):
            parse_client_message(bad)
