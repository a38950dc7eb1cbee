"""How many bars an exponentially smoothed indicator needs before its seed is forgotten.

TA-Lib seeds an EMA (and Wilder's smoothing in RSI and ATR) with the simple mean
of its first ``period`` inputs, then recurses ``s_t = rho * s_{t-1} + (1 - rho) * x_t``.
Two runs of the same recursion that started at different bars differ at bar ``t``
by ``rho ** k`` times their difference ``k`` steps earlier. The online mode
recomputes each indicator on a bounded buffer of the last bars; the batch mode
recurses from the first bar of the history. They agree to ``SEED_DECAY`` (relative
to the seed's error) once the buffer holds ``decay_bars(rho)`` recursion steps,
and that is what each feature's warm-up counts.
"""

from __future__ import annotations

import math

__all__ = [
    "PARITY",
    "SEED_DECAY",
    "decay_bars",
    "ema_warmup",
    "macd_warmup",
    "rsi_flat_bars",
    "wilder_warmup",
]

SEED_DECAY = 1e-13
"""The fraction of a seed's error left when a smoothed feature's warm-up ends.

1e-13 leaves four orders of magnitude between the worst realistic seed error (a
seed window holding an overnight gap or a split, ~100x a typical bar) and the
1e-9 batch/online parity guarantee."""


PARITY = 1e-9
"""The promised largest difference between a batch and an online value after warm-up."""

SEED_ERROR = 100.0
"""The largest seed error allowed for, relative to a typical smoothed value (a gap or split)."""


def decay_bars(rho: float, tolerance: float = SEED_DECAY) -> int:
    """Recursion steps after which ``rho ** steps <= tolerance``.

    Parameters
    ----------
    rho : float
        Decay per step, ``0 <= rho < 1``.
    tolerance : float
        Fraction of the seed error allowed to remain.

    Examples
    --------
    >>> decay_bars(0.5, 1e-3)
    10
    """
    if rho <= 0.0:
        return 0
    return math.ceil(math.log(tolerance) / math.log(rho))


def ema_rho(period: int) -> float:
    """TA-Lib's EMA decay ``1 - 2 / (period + 1)``."""
    return 1.0 - 2.0 / (period + 1.0)


def wilder_rho(period: int) -> float:
    """Wilder's smoothing decay ``1 - 1 / period`` (RSI, ATR)."""
    return 1.0 - 1.0 / period


def ema_warmup(period: int) -> int:
    """Warm-up of ``talib.EMA(x, period)``: lookback ``period - 1`` plus the seed's decay.

    Examples
    --------
    >>> ema_warmup(12), ema_warmup(26)
    (191, 414)
    """
    return period - 1 + decay_bars(ema_rho(period))


def wilder_warmup(period: int) -> int:
    """Warm-up of ``talib.RSI`` / ``talib.ATR``: lookback ``period`` plus the seed's decay.

    Examples
    --------
    >>> wilder_warmup(14)
    418
    """
    return period + decay_bars(wilder_rho(period))


def rsi_flat_bars(period: int) -> int:
    """Unchanged closes after which ``rsi`` stops trusting TA-Lib's ratio and reads 0.5.

    Without price changes both of RSI's Wilder averages decay by ``rho`` a bar, so
    their ratio keeps what bars before the flat stretch said, and the online
    buffer's seed error grows relative to them by ``1 / rho`` a bar. After this
    many flat bars it could pass :data:`PARITY`; the feature is 0.5 (neutral) instead.

    Examples
    --------
    >>> rsi_flat_bars(14)
    62
    """
    rho = wilder_rho(period)
    return math.floor(math.log(SEED_DECAY * SEED_ERROR / PARITY) / math.log(rho))


def macd_warmup(fast: int, slow: int, signal: int) -> int:
    """Warm-up of ``talib.MACD``: lookback ``slow + signal - 2`` plus the slowest decay.

    Counting the decay from the signal line's seed (the last of the three seeds)
    is conservative for the two price EMAs, which were seeded earlier.

    Examples
    --------
    >>> macd_warmup(12, 26, 9)
    422
    """
    rho = max(ema_rho(fast), ema_rho(slow), ema_rho(signal))
    return slow + signal - 2 + decay_bars(rho)
