"""Dual confirmation: BUY or SELL only when every champion model agrees."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from nexus.domain import Action, Prediction, Recommendation

__all__ = ["decide", "warming_up"]

_DIRECTION = {Action.BUY: "UP", Action.SELL: "DOWN"}


def _prob(p: Prediction, direction: str) -> float:
    return p.p_up if direction == "UP" else p.p_down


def _confirms(p: Prediction, direction: str) -> bool:
    return p.top == direction and _prob(p, direction) >= p.threshold


def _why_not(p: Prediction, direction: str) -> str:
    prob = _prob(p, direction)
    if p.top != direction:
        return f"{p.model} does not confirm {direction}: its top class is {p.top}"
    return f"{p.model} P({direction}) {prob:.2f} < its threshold {p.threshold:.2f}"


def decide(predictions: Sequence[Prediction]) -> Recommendation:
    """The recommendation of one symbol and bar from its champions' predictions.

    BUY only if every model's calibrated P(UP) reaches that model's threshold and
    UP is each model's top class; SELL the same for DOWN; HOLD otherwise.
    Confidence is the weakest model's probability of the chosen direction; for
    HOLD, one minus the larger of those two weakest probabilities.

    Parameters
    ----------
    predictions : sequence of Prediction
        One per champion model (at least two), all of one symbol, interval and ts.

    Returns
    -------
    Recommendation

    Examples
    --------
    >>> from datetime import datetime
    >>> t = datetime(2024, 1, 2, 15)
    >>> def pred(model, up):
    ...     return Prediction(symbol="A", interval="1m", ts=t, model=model, version="v",
    ...                       p_down=(1 - up) / 2, p_neutral=(1 - up) / 2, p_up=up,
    ...                       threshold=0.5)
    >>> r = decide([pred("lstm", 0.7), pred("transformer", 0.6)])
    >>> r.action.value, r.confidence
    ('BUY', 0.6)
    >>> decide([pred("lstm", 0.7), pred("transformer", 0.45)]).reasons[0]
    'transformer P(UP) 0.45 < its threshold 0.50'
    """
    first = predictions[0]
    weakest = {d: min(_prob(p, d) for p in predictions) for d in ("UP", "DOWN")}
    for action, direction in _DIRECTION.items():
        if all(_confirms(p, direction) for p in predictions):
            reasons = [
                f"{p.model} P({direction}) {_prob(p, direction):.2f} >= its threshold "
                f"{p.threshold:.2f}"
                for p in predictions
            ]
            reasons.append(f"all {len(predictions)} models confirm {direction}")
            return _recommendation(first, action, weakest[direction], predictions, reasons)
    leaning = max(_DIRECTION.values(), key=lambda d: sum(_confirms(p, d) for p in predictions))
    reasons = [_why_not(p, leaning) for p in predictions if not _confirms(p, leaning)]
    if not any(_confirms(p, leaning) for p in predictions):
        reasons = [f"no model confirms UP or DOWN (tops: {_tops(predictions)})"]
    return _recommendation(first, Action.HOLD, 1.0 - max(weakest.values()), predictions, reasons)


def _tops(predictions: Sequence[Prediction]) -> str:
    return ", ".join(f"{p.model} {p.top}" for p in predictions)


def _recommendation(
    first: Prediction,
    action: Action,
    confidence: float,
    predictions: Sequence[Prediction],
    reasons: list[str],
) -> Recommendation:
    return Recommendation(
        symbol=first.symbol,
        interval=first.interval,
        ts=first.ts,
        action=action,
        confidence=float(confidence),
        predictions=tuple(predictions),
        reasons=tuple(reasons),
    )


def warming_up(symbol: str, interval: str, ts: datetime, have: int, need: int) -> Recommendation:
    """HOLD for a symbol whose features are not ready: ``have`` of ``need`` window rows.

    Examples
    --------
    >>> from datetime import datetime
    >>> warming_up("A", "1m", datetime(2024, 1, 2), 12, 60).reasons
    ('features warming up: 12 of 60 complete bars',)
    """
    return Recommendation(
        symbol=symbol,
        interval=interval,
        ts=ts,
        action=Action.HOLD,
        confidence=0.0,
        reasons=(f"features warming up: {have} of {need} complete bars",),
    )
