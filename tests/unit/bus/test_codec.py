"""The JSON codec: every event round-trips exactly; bad payloads are DataErrors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nexus.bus import (
    EVENT_TYPES,
    AlertRaised,
    BarsClosed,
    ModelsChanged,
    SignalsReady,
    decode,
    encode,
)
from nexus.domain import Action, Bar, Interval, Prediction, Recommendation
from nexus.errors import DataError

TS = datetime(2025, 1, 2, 14, 30, 0, 123456, tzinfo=UTC)


def _bar(symbol: str, close: float, interval: Interval = Interval.M5) -> Bar:
    return Bar(
        symbol=symbol,
        interval=interval,
        ts=TS,
        open=10.0,
        high=10.5,
        low=9.25,
        close=close,
        volume=1200.0,
        source="simulator",
    )


def _prediction(symbol: str, model: str, p_up: float) -> Prediction:
    return Prediction(
        symbol=symbol,
        interval="5m",
        ts=TS,
        model=model,
        version="v20250102-1",
        p_down=0.1,
        p_neutral=round(0.9 - p_up, 12),
        p_up=p_up,
        threshold=0.55,
    )


def _events() -> list[object]:
    preds = (_prediction("SIM00", "lstm", 0.7), _prediction("SIM00", "transformer", 0.6))
    rec = Recommendation(
        symbol="SIM00",
        interval="5m",
        ts=TS,
        action=Action.BUY,
        confidence=0.6,
        predictions=preds,
        reasons=("both models say UP", "risk ok: exposure 10% < 50%"),
        risk={"exposure": 0.1, "drawdown": 0.02},
        vetoed=False,
    )
    return [
        BarsClosed(interval=Interval.M5, ts=TS, bars=(_bar("SIM00", 10.1), _bar("SIM01", 1e-7))),
        BarsClosed(interval=Interval.D1, ts=TS, bars=()),
        SignalsReady(
            interval="5m",
            ts=TS,
            predictions=preds,
            recommendations=(rec,),
            timings={"features": 0.0012, "inference.lstm": 0.004, "decision": 1e-5},
        ),
        SignalsReady(interval="5m", ts=TS, predictions=(), recommendations=()),
        ModelsChanged(
            champions={"lstm": "v3", "transformer": None},
            at=TS + timedelta(hours=1),
            reason="promoted v3 (beat v2 by 0.04 log loss)",
        ),
        AlertRaised(
            level="warning",
            source="live",
            message="feed stale for 90 s — überprüfen",
            at=TS,
            details={"symbols": ["SIM00"], "lag_s": 90.5, "nested": {"ok": True, "n": None}},
        ),
    ]


@pytest.mark.parametrize("event", _events(), ids=lambda e: type(e).__name__)
def test_every_event_round_trips_exactly(event: object) -> None:
    data = encode(event)
    assert isinstance(data, bytes)
    payload = json.loads(data)
    assert payload["type"] == type(event).__name__
    assert set(payload) == {"type", "data"}
    back = decode(data)
    assert back == event
    assert type(back) is type(event)


def test_every_event_type_is_covered() -> None:
    assert {type(e) for e in _events()} == set(EVENT_TYPES)


def test_times_stay_tz_aware_utc_and_intervals_stay_intervals() -> None:
    bars, _, signals, _, models, alert = (decode(encode(e)) for e in _events())
    for ts in (bars.ts, bars.bars[0].ts, signals.ts, signals.predictions[0].ts, models.at):
        assert ts.utcoffset() == timedelta(0)
        assert ts == TS or ts == TS + timedelta(hours=1)
    assert bars.interval is Interval.M5
    assert bars.bars[0].interval is Interval.M5
    assert signals.recommendations[0].action is Action.BUY
    assert signals.recommendations[0].predictions[1].model == "transformer"
    assert alert.at.tzinfo is not None


def test_str_input_and_numpy_scalars_are_accepted() -> None:
    pred = Prediction(
        symbol="A",
        interval="1m",
        ts=TS,
        model="lstm",
        version="v1",
        p_down=np.float32(0.25),
        p_neutral=np.float64(0.25),
        p_up=np.float32(0.5),
        threshold=0.4,
    )
    event = SignalsReady(interval="1m", ts=TS, predictions=(pred,), recommendations=())
    back = decode(encode(event).decode())
    assert back.predictions[0].p_up == 0.5
    assert back.predictions[0].p_down == pytest.approx(0.25)


_floats = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=60, deadline=None)
@given(
    closes=st.lists(_floats, min_size=1, max_size=5),
    ts=st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    interval=st.sampled_from(list(Interval)),
)
def test_bars_closed_round_trips_any_float_and_time(
    closes: list[float], ts: datetime, interval: Interval
) -> None:
    bars = tuple(
        Bar(
            symbol=f"S{i}",
            interval=interval,
            ts=ts,
            open=c,
            high=c,
            low=c,
            close=c,
            volume=abs(c),
        )
        for i, c in enumerate(closes)
    )
    event = BarsClosed(interval=interval, ts=ts, bars=bars)
    assert decode(encode(event)) == event


def test_encoding_something_else_is_a_data_error() -> None:
    with pytest.raises(DataError, match=r"cannot encode a dict .*publish one of AlertRaised"):
        encode({"type": "BarsClosed"})


def test_unjsonable_alert_details_are_a_data_error() -> None:
    alert = AlertRaised(level="info", source="t", message="m", at=TS, details={"x": object()})
    with pytest.raises(DataError, match=r"cannot encode AlertRaised.*JSON values"):
        encode(alert)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not an object"),
        (b'{"type": "BarsClosed"}', "not an object"),
        (b'{"type": "Nope", "data": {}}', r"unknown type 'Nope' \(known: AlertRaised"),
        (b'{"type": 3, "data": {}}', "unknown type 3"),
        (b'{"type": "BarsClosed", "data": {"interval": "1m", "ts": "2025-01-02"}}', "'bars'"),
        (b'{"type": "BarsClosed", "data": {"interval": "7m", "ts": "x", "bars": []}}', "7m"),
        (
            b'{"type": "BarsClosed", "data": {"interval": "1m", "ts": 5, "bars": []}}',
            "ISO 8601",
        ),
        (
            b'{"type": "BarsClosed", "data": {"interval": "1m", "ts": "2025-01-02", "bars": {}}}',
            "expected a list",
        ),
        (b'{"type": "ModelsChanged", "data": {"champions": [], "at": "2025-01-02"}}', "object"),
        (
            b'{"type": "SignalsReady", "data": {"interval": "1m", "ts": "2025-01-02",'
            b' "predictions": [{"symbol": "A"}], "recommendations": []}}',
            "malformed",
        ),
        (
            b'{"type": "AlertRaised", "data": {"level": "info", "source": "s", "message": 1,'
            b' "at": "2025-01-02"}}',
            "expected a string",
        ),
    ],
)
def test_malformed_payloads_are_data_errors_that_name_the_problem(data: bytes, match: str) -> None:
    with pytest.raises(DataError, match=match) as info:
        decode(data)
    assert "nexus.bus.encode" in str(info.value)
