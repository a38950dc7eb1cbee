"""Triple-barrier labels (López de Prado, *Advances in Financial Machine Learning*, ch. 3).

The decision for bar ``t`` is taken at its close. Two horizontal barriers sit at
``close_t * exp(+upper * sigma_t)`` and ``close_t * exp(-lower * sigma_t)``, where
``sigma_t`` is the EWM standard deviation of one-bar log returns up to and
including bar ``t``; the vertical barrier is the ``horizon``-th bar after ``t``.
Bars ``t+1 .. t+horizon`` are scanned in order; the first whose range reaches a
barrier ends the label. The exact rules (gaps, bars that reach both barriers,
``t_end``) are in :func:`triple_barrier` and ``docs/labels_and_splits.md``.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd

from nexus.errors import ConfigError
from nexus.labels._bars import BarArrays, bar_arrays, check_int, label_frame

__all__ = ["ewm_volatility", "triple_barrier"]


def _check_positive(value: float, name: str, *, allow_zero: bool = False) -> float:
    ok = math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(
            f"{name}={value!r} is not a finite number {bound}", fix=f"pass {name} {bound}"
        )
    return float(value)


def _sigma(b: BarArrays, span: int, min_periods: int) -> np.ndarray:
    """EWM std of one-bar log returns per symbol (pandas ``ewm(span).std()``), shape (n,)."""
    returns = pd.Series(b.log_returns())
    sigma = returns.groupby(b.code, sort=True).ewm(span=span, min_periods=min_periods).std()
    # b is sorted by code, so the groups come back in row order
    return sigma.to_numpy(dtype=np.float64)


def ewm_volatility(bars: pd.DataFrame, *, span: int = 100, min_periods: int = 20) -> pd.Series:
    """Per-symbol EWM standard deviation of one-bar log returns, without lookahead.

    ``sigma_t`` uses the returns of bars up to and including ``t`` only:
    ``log(close_t / close_{t-1})`` within the symbol, pandas
    ``ewm(span=span, min_periods=min_periods).std()`` (bias-corrected, ``adjust=True``).
    A symbol's first bar has no return; ``sigma_t`` is NaN until ``min_periods``
    returns have been seen.

    Parameters
    ----------
    bars : DataFrame, shape (n, >= 7)
        Bars in any row order (see :data:`nexus.domain.BAR_COLUMNS`).
    span : int
        EWM span in bars (decay ``2 / (span + 1)``).
    min_periods : int
        Returns needed before ``sigma`` is defined (at least 2).

    Returns
    -------
    Series of float64, shape (n,)
        Aligned with ``bars`` (same index, same row order).

    Examples
    --------
    >>> from nexus.sources.simulator import SimulatorConfig, simulate
    >>> bars = simulate(SimulatorConfig(symbols=2, sessions=30, interval="1d")).bars
    >>> sigma = ewm_volatility(bars, span=10, min_periods=5)
    >>> int(sigma.isna().sum())     # per symbol: the first bar, then 4 returns
    10
    """
    span = check_int(span, "span")
    min_periods = check_int(min_periods, "min_periods", low=2)
    b = bar_arrays(bars)
    out = np.empty(len(b))
    out[b.order] = _sigma(b, span, min_periods)
    return pd.Series(out, index=bars.index, name="sigma")


def triple_barrier(
    bars: pd.DataFrame,
    *,
    horizon: int,
    upper: float = 2.0,
    lower: float = 2.0,
    vol_span: int = 100,
    vol_min_periods: int = 20,
    vertical: Literal["neutral", "sign"] = "neutral",
    min_return: float = 0.0,
) -> pd.DataFrame:
    """Triple-barrier labels: +1 up barrier first, -1 down barrier first, 0 otherwise.

    For each symbol and bar ``t`` (decision at the close of ``t``):

    * barriers ``U = close_t * exp(upper * sigma_t)`` and
      ``D = close_t * exp(-lower * sigma_t)`` with ``sigma_t`` from
      :func:`ewm_volatility` (returns up to and including ``t``);
    * bars ``k = t+1 .. t+horizon`` of the same symbol are read in order; bar
      ``k`` *touches* the upper barrier when ``high_k >= U`` and the lower one when
      ``low_k <= D``. The first touching bar ends the label:

      - it opened at or beyond a barrier (``open_k >= U`` or ``open_k <= D``, a
        gap): that barrier's label, exit at ``open_k`` (the barrier price was
        never tradable);
      - it touches one barrier: that barrier's label, exit at the barrier price;
      - it touches **both** and opened between them (the order inside the bar
        is unknown): label **0**, exit at ``close_k``, ``both = True``.
        Conservative: the label claims no direction that the data cannot show.
        ``labels["both"].sum()`` counts them;
    * no touch by bar ``t+horizon`` (the vertical barrier): label 0, exit at
      ``close_{t+horizon}``; with ``vertical="sign"`` the label is instead the
      sign of the return when ``|ret| > min_return``.

    Labels never cross symbols. Rows are **dropped** (not labelled NaN) when
    ``sigma_t`` is undefined or zero (fewer than ``vol_min_periods`` returns) or
    when the symbol has fewer than ``horizon`` bars after ``t``.

    Parameters
    ----------
    bars : DataFrame, shape (n, >= 7)
        ``symbol``, ``interval``, ``ts``, ``open``, ``high``, ``low``, ``close``
        (:data:`nexus.domain.BAR_COLUMNS`), any row order, one interval per symbol.
    horizon : int
        ``H``, the vertical barrier in bars (>= 1).
    upper, lower : float
        Barrier widths in units of ``sigma_t`` (> 0).
    vol_span : int
        EWM span of ``sigma``.
    vol_min_periods : int
        Returns needed before ``sigma`` is defined (>= 2).
    vertical : {"neutral", "sign"}
        Label at the vertical barrier: always 0, or the sign of ``ret`` when
        ``|ret| > min_return``.
    min_return : float
        Dead zone of ``vertical="sign"`` (>= 0); unused otherwise.

    Returns
    -------
    DataFrame, shape (m, 7), sorted by symbol then ts
        ``symbol`` (str); ``ts`` (bar ``t``); ``label`` (int8, -1/0/+1);
        ``t_touch`` (ts of the bar that ended the label: the touching bar or the
        vertical barrier); ``t_end`` (when the label is known: ``t_touch`` plus the
        interval, the close of that bar; for ``1d`` bars the next midnight UTC,
        at or after every session's close); ``ret`` (float64,
        ``log(exit / close_t)``); ``both`` (bool).

    Raises
    ------
    ConfigError
        If a parameter is out of range.
    DataError
        If ``bars`` lacks a column, has non-positive or missing prices, or
        repeats a (symbol, ts).

    Examples
    --------
    >>> from nexus.sources.simulator import SimulatorConfig, simulate
    >>> bars = simulate(SimulatorConfig(symbols=2, sessions=2, interval="5m")).bars
    >>> labels = triple_barrier(bars, horizon=6, vol_span=20, vol_min_periods=10)
    >>> list(labels.columns)
    ['symbol', 'ts', 'label', 't_touch', 't_end', 'ret', 'both']
    >>> len(labels) == len(bars) - 2 * (10 + 6)   # per symbol: warm-up and horizon
    True
    """
    horizon = check_int(horizon, "horizon")
    widths = (_check_positive(upper, "upper"), _check_positive(lower, "lower"))
    min_return = _check_positive(min_return, "min_return", allow_zero=True)
    if vertical not in ("neutral", "sign"):
        raise ConfigError(f"vertical={vertical!r} is not known", fix="use 'neutral' or 'sign'")
    vol_span = check_int(vol_span, "vol_span")
    vol_min_periods = check_int(vol_min_periods, "vol_min_periods", low=2)
    b = bar_arrays(bars)
    sigma = _sigma(b, vol_span, vol_min_periods)
    rows = np.flatnonzero((sigma > 0) & (b.after >= horizon))  # NaN compares False
    label, touch, exit_price, both = _scan(b, rows, sigma[rows], horizon, widths)
    ret = np.log(exit_price / b.close[rows])
    if vertical == "sign":
        vertical_rows = (touch - rows == horizon) & (label == 0) & ~both
        signed = np.where(np.abs(ret) > min_return, np.sign(ret), 0.0).astype(np.int8)
        label = np.where(vertical_rows, signed, label)
    return label_frame(b, rows, label, touch, ret, both)


def _scan(
    b: BarArrays,
    rows: np.ndarray,
    sigma: np.ndarray,
    horizon: int,
    widths: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Walk bars ``t+1 .. t+H`` for every row at once; first touch wins.

    Returns
    -------
    label : ndarray of int8, shape (m,)
    touch : ndarray of int64, shape (m,)
        Sorted position of the bar that ended each label.
    exit_price : ndarray of float64, shape (m,)
    both : ndarray of bool, shape (m,)
    """
    close = b.close[rows]
    up = close * np.exp(widths[0] * sigma)
    down = close * np.exp(-widths[1] * sigma)
    label = np.zeros(len(rows), dtype=np.int8)
    touch = rows + horizon
    exit_price = b.close[touch]
    both = np.zeros(len(rows), dtype=bool)
    pending = np.arange(len(rows))
    for k in range(1, horizon + 1):
        if not len(pending):
            break
        bar = rows[pending] + k
        hit, lab, price, amb = _resolve(b, bar, up[pending], down[pending])
        done = pending[hit]
        label[done], touch[done] = lab, bar[hit]
        exit_price[done], both[done] = price, amb
        pending = pending[~hit]
    return label, touch, exit_price, both


def _resolve(
    b: BarArrays, bar: np.ndarray, up: np.ndarray, down: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Which of ``bar`` touch a barrier, and how each touch resolves (see triple_barrier).

    Returns ``hit`` (shape (p,)) and, for the hit bars only, label, exit price
    and the both-touched flag.
    """
    o, h, lo = b.open[bar], b.high[bar], b.low[bar]
    gap_up, gap_down = o >= up, o <= down
    hit_up, hit_down = (h >= up) | gap_up, (lo <= down) | gap_down
    hit = hit_up | hit_down
    gap_up, gap_down, hit_up, hit_down = gap_up[hit], gap_down[hit], hit_up[hit], hit_down[hit]
    o, c, up, down = o[hit], b.close[bar[hit]], up[hit], down[hit]
    gap = gap_up | gap_down
    amb = hit_up & hit_down & ~gap
    label = np.select([gap_up, gap_down, amb, hit_up], [1, -1, 0, 1], default=-1)
    price = np.select([gap, amb, hit_up], [o, c, up], default=down)
    return hit, label.astype(np.int8), price, amb
