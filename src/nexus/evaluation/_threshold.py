"""The probability a model's calls need, chosen on validation data."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from nexus.errors import DataError

__all__ = ["ThresholdChoice", "select_threshold"]

_DOWN, _UP = 0, 2
DEFAULT_GRID = tuple(round(0.34 + 0.02 * i, 2) for i in range(29))  # 0.34 ... 0.90


@dataclass(frozen=True, slots=True)
class ThresholdChoice:
    """The chosen threshold and how the calls scored at it on the validation samples.

    ``score`` is the mean F-beta of the UP and DOWN calls; ``call_rate`` the share
    of samples that got an UP or DOWN call; ``precision`` the share of those calls
    that were right.
    """

    value: float
    score: float
    call_rate: float
    precision: float
    n: int
    beta: float

    def to_dict(self) -> dict:
        """JSON-able fields."""
        return asdict(self)


def _fbeta(tp: np.ndarray, called: np.ndarray, actual: float, beta: float) -> np.ndarray:
    precision = np.divide(tp, called, out=np.zeros_like(tp), where=called > 0)
    recall = tp / actual if actual else np.zeros_like(tp)
    b2 = beta * beta
    denom = b2 * precision + recall
    return np.divide((1 + b2) * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)


def select_threshold(
    y: np.ndarray,
    proba: np.ndarray,
    *,
    grid: tuple[float, ...] = DEFAULT_GRID,
    beta: float = 0.5,
    min_call_rate: float = 0.01,
) -> ThresholdChoice:
    """The threshold that maximises the F-beta of a model's UP and DOWN calls.

    A model calls UP on a sample when UP is its top class and ``P(UP) >= t``
    (DOWN likewise); otherwise it makes no call. ``beta = 0.5`` weighs precision
    twice as much as recall: a wrong trade costs money, a missed one only an
    opportunity. Among thresholds that keep at least ``min_call_rate`` of the
    samples called, the best score wins (the higher threshold on a tie); if none
    does, the lowest threshold (plain arg-max calls) is returned.

    Parameters
    ----------
    y : ndarray of int, shape (n,)
        True classes (0 DOWN, 1 NEUTRAL, 2 UP).
    proba : ndarray of float, shape (n, 3)
        Calibrated probabilities of the samples, out of sample for the model.
    grid : tuple of float
        Candidate thresholds, ascending.
    beta : float
        The F-beta weight of recall against precision.
    min_call_rate : float
        Smallest share of samples a threshold must still call.

    Returns
    -------
    ThresholdChoice

    Examples
    --------
    >>> y = np.array([2, 2, 0, 1, 1, 2])
    >>> p = np.array([[.1, .2, .7], [.2, .3, .5], [.6, .2, .2],
    ...               [.2, .35, .45], [.3, .4, .3], [.1, .3, .6]])
    >>> select_threshold(y, p).value
    0.5
    """
    y = np.asarray(y, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape != (len(y), 3) or not len(y):
        raise DataError(
            f"threshold selection got labels {y.shape} and probabilities {proba.shape}",
            fix="pass n labels and an (n, 3) probability array, n > 0",
        )
    t = np.asarray(grid, dtype=np.float64)[:, None]
    top = proba.argmax(axis=1)
    scores, calls, hits = np.zeros(len(t)), np.zeros(len(t)), np.zeros(len(t))
    for cls in (_DOWN, _UP):
        called = (top == cls) & (proba[:, cls] >= t)  # (grid, n)
        tp = (called & (y == cls)).sum(axis=1).astype(np.float64)
        n_called = called.sum(axis=1).astype(np.float64)
        scores += _fbeta(tp, n_called, float((y == cls).sum()), beta) / 2
        calls += n_called
        hits += tp
    rate = calls / len(y)
    ok = np.flatnonzero(rate >= min_call_rate)
    i = 0 if not len(ok) else int(ok[np.flatnonzero(scores[ok] == scores[ok].max())[-1]])
    return ThresholdChoice(
        value=float(grid[i]),
        score=float(scores[i]),
        call_rate=float(rate[i]),
        precision=float(hits[i] / calls[i]) if calls[i] else 0.0,
        n=len(y),
        beta=beta,
    )
