"""Dual confirmation: BUY/SELL only when every champion confirms, with readable reasons."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nexus.domain import Action, Prediction
from nexus.live import decide, warming_up

T = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)


def pred(model: str, down: float, neutral: float, up: float, threshold: float = 0.5):
    return Prediction(
        symbol="SIM00", interval="1m", ts=T, model=model, version=f"{model}-v1",
        p_down=down, p_neutral=neutral, p_up=up, threshold=threshold,
    )  # fmt: skip


def test_buy_needs_both_models_over_their_thresholds():
    rec = decide([pred("lstm", 0.1, 0.2, 0.7), pred("transformer", 0.2, 0.2, 0.6, 0.55)])
    assert rec.action is Action.BUY
    assert rec.confidence == pytest.approx(0.6)  # the weaker model
    assert rec.reasons[-1] == "all 2 models confirm UP"
    assert "transformer P(UP) 0.60 >= its threshold 0.55" in rec.reasons
    assert [p.version for p in rec.predictions] == ["lstm-v1", "transformer-v1"]


def test_sell_mirrors_buy():
    rec = decide([pred("lstm", 0.8, 0.1, 0.1), pred("transformer", 0.55, 0.25, 0.2)])
    assert rec.action is Action.SELL
    assert rec.confidence == pytest.approx(0.55)


def test_one_model_below_its_threshold_holds():
    rec = decide([pred("lstm", 0.1, 0.2, 0.7), pred("transformer", 0.2, 0.3, 0.5, 0.52)])
    assert rec.action is Action.HOLD
    assert rec.reasons == ("transformer P(UP) 0.50 < its threshold 0.52",)
    assert rec.confidence == pytest.approx(0.5)  # 1 - max(weakest P(UP) .5, weakest P(DOWN) .1)


def test_top_class_must_agree_even_over_threshold():
    # P(UP) passes a low threshold but NEUTRAL is the top class
    rec = decide([pred("lstm", 0.1, 0.2, 0.7), pred("transformer", 0.1, 0.5, 0.4, 0.35)])
    assert rec.action is Action.HOLD
    assert rec.reasons == ("transformer does not confirm UP: its top class is NEUTRAL",)


def test_disagreeing_directions_hold():
    rec = decide([pred("lstm", 0.1, 0.2, 0.7), pred("transformer", 0.7, 0.2, 0.1)])
    assert rec.action is Action.HOLD
    assert len(rec.reasons) == 1
    assert "does not confirm" in rec.reasons[0]


def test_nobody_confirms_says_so():
    rec = decide([pred("lstm", 0.2, 0.6, 0.2), pred("transformer", 0.3, 0.4, 0.3)])
    assert rec.action is Action.HOLD
    assert rec.reasons == (
        "no model confirms UP or DOWN (tops: lstm NEUTRAL, transformer NEUTRAL)",
    )


def test_recommendation_round_trips_as_json():
    rec = decide([pred("lstm", 0.1, 0.2, 0.7), pred("transformer", 0.2, 0.2, 0.6)])
    assert type(rec).from_dict(rec.to_dict()) == rec


def test_warming_up_is_a_hold_with_zero_confidence():
    rec = warming_up("SIM00", "1m", T, 3, 30)
    assert rec.action is Action.HOLD
    assert rec.confidence == 0.0
    assert rec.predictions == ()
