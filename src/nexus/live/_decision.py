"""Dual confirmation: BUY or SELL only when every champion model agrees."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from nexus.domain import Action, Prediction, Recommendation

__all__ = ["decide", "warming_up"]

_DIRECTION = {Action.BUY: "UP", Action.SELL: "DOWN"}


class _Call:
    """One model's view of one direction: its probability and whether it confirms."""

    __slots__ = ("confirms", "model", "prob", "threshold", "top")

    def __init__(self, p: Prediction, top: str, direction: str) -> None:
        self.model, self.top, self.threshold = p.model, top, p.threshold
        self.prob = p.p_up if direction == "UP" else p.p_down
        self.confirms = top == direction and self.prob >= p.threshold


def _why_not(c: _Call, direction: str) -> str:
    if c.top != direction:
        return f"{c.model} does not confirm {direction}: its top class is {c.top}"
    return f"{c.model} P({direction}) {c.prob:.2f} < its threshold {c.threshold:.2f}"


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
    tops = [p.top for p in predictions]
    calls = {
        d: [_Call(p, top, d) for p, top in zip(predictions, tops, strict=True)]
        for d in _DIRECTION.values()
    }
    weakest = {d: min(c.prob for c in calls[d]) for d in calls}
    for action, direction in _DIRECTION.items():
        if all(c.confirms for c in calls[direction]):
            reasons = [
                f"{c.model} P({direction}) {c.prob:.2f} >= its threshold {c.threshold:.2f}"
                for c in calls[direction]
            ]
            reasons.append(f"all {len(predictions)} models confirm {direction}")
            return _recommendation(first, action, weakest[direction], predictions, reasons)
    leaning = max(calls, key=lambda d: sum(c.confirms for c in calls[d]))
    reasons = [_why_not(c, leaning) for c in calls[leaning] if not c.confirms]
    if not any(c.confirms for c in calls[leaning]):
        tops_text = ", ".join(f"{p.model} {t}" for p, t in zip(predictions, tops, strict=True))
        reasons = [f"no model confirms UP or DOWN (tops: {tops_text})"]
    return _recommendation(first, Action.HOLD, 1.0 - max(weakest.values()), predictions, reasons)


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
