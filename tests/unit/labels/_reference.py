"""Random bars and plain-Python reference implementations of the labelling rules.

The references loop bar by bar over one symbol at a time, the way the rules
read in ``docs/labels_and_splits.md``; the library must agree with them exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from nexus.domain import bars_frame


def random_bars(
    seed: int, lengths: tuple[int, ...] = (400, 250, 333), interval: str = "1m"
) -> pd.DataFrame:
    """Bars of ``len(lengths)`` symbols with gaps, wide bars and different start times, shuffled."""
    rng = np.random.default_rng(seed)
    step = pd.Timedelta(interval)
    frames = []
    for i, n in enumerate(lengths):
        vol = 0.002 * (1 + i)
        ret = rng.standard_t(4, n) * vol
        gap = np.where(rng.random(n) < 0.03, rng.normal(0, 8 * vol, n), 0.0)
        close = 50.0 * (1 + i) * np.exp(np.cumsum(ret + gap))
        open_ = np.concatenate([[close[0]], close[:-1]]) * np.exp(gap)
        wide = np.where(rng.random(n) < 0.05, 6.0, 1.0)  # some bars reach both barriers
        high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, vol, n)) * wide)
        low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, vol, n)) * wide)
        start = pd.Timestamp("2025-01-02 14:30", tz="UTC") + i * 7 * step
        frames.append(
            pd.DataFrame(
                {
                    "symbol": f"S{i}",
                    "interval": interval,
                    "ts": pd.date_range(start, periods=n, freq=step),
                    "open": open_,
                    "high": high,
                    "low": low,
                    "close": close,
                    "volume": 100.0,
                    "source": "test",
                }
            )
        )
    bars = pd.concat(frames, ignore_index=True)
    return bars_frame(bars.sample(frac=1.0, random_state=seed))


def _symbol_rows(bars: pd.DataFrame):
    for symbol, group in bars.groupby("symbol", sort=True):
        g = group.sort_values("ts")
        step = pd.Timedelta(g["interval"].iloc[0])
        yield symbol, g, step


def reference_sigma(close: list[float], span: int, min_periods: int) -> list[float]:
    """EWM std of one-bar log returns of one symbol, as pandas computes it for a single series."""
    returns = pd.Series(np.log(np.asarray(close))).diff()
    return returns.ewm(span=span, min_periods=min_periods).std().tolist()


def _first_touch(o, h, lo, c, t, horizon, up, down):
    """(label, touch row, exit price, both) of the first bar in t+1..t+horizon that touches."""
    for k in range(t + 1, t + horizon + 1):
        if o[k] >= up:
            return 1, k, o[k], False
        if o[k] <= down:
            return -1, k, o[k], False
        if h[k] >= up and lo[k] <= down:
            return 0, k, c[k], True
        if h[k] >= up:
            return 1, k, up, False
        if lo[k] <= down:
            return -1, k, down, False
    return None


def reference_triple_barrier(
    bars: pd.DataFrame,
    *,
    horizon: int,
    upper: float,
    lower: float,
    span: int,
    min_periods: int,
    vertical: str = "neutral",
    min_return: float = 0.0,
) -> pd.DataFrame:
    """The triple-barrier rule, one bar at a time."""
    out = []
    for symbol, g, step in _symbol_rows(bars):
        o, h, lo, c = (g[col].tolist() for col in ("open", "high", "low", "close"))
        ts = list(g["ts"])
        sigma = reference_sigma(c, span, min_periods)
        for t in range(len(c)):
            if not sigma[t] > 0 or t + horizon >= len(c):
                continue
            up = c[t] * np.exp(upper * sigma[t])
            down = c[t] * np.exp(-lower * sigma[t])
            hit = _first_touch(o, h, lo, c, t, horizon, up, down)
            label, k, exit_price, both = hit or (0, t + horizon, c[t + horizon], False)
            ret = float(np.log(exit_price / c[t]))
            if hit is None and vertical == "sign" and abs(ret) > min_return:
                label = int(math.copysign(1, ret))
            out.append((symbol, ts[t], label, ts[k], ts[k] + step, ret, both))
    return pd.DataFrame(out, columns=["symbol", "ts", "label", "t_touch", "t_end", "ret", "both"])


def reference_fixed_horizon(bars: pd.DataFrame, *, horizon: int, threshold: float) -> pd.DataFrame:
    """The fixed-horizon rule, one bar at a time."""
    out = []
    for symbol, g, step in _symbol_rows(bars):
        c, ts = g["close"].tolist(), list(g["ts"])
        for t in range(len(c) - horizon):
            ret = float(np.log(c[t + horizon] / c[t]))
            label = 0 if abs(ret) <= threshold else int(math.copysign(1, ret))
            out.append((symbol, ts[t], label, ts[t + horizon], ts[t + horizon] + step, ret, False))
    return pd.DataFrame(out, columns=["symbol", "ts", "label", "t_touch", "t_end", "ret", "both"])


def reference_uniqueness(labels: pd.DataFrame, bars: pd.DataFrame) -> list[float]:
    """Average uniqueness over the bars of each label's span, counted bar by bar."""
    grids = {s: sorted(set(g["ts"])) for s, g in bars.groupby("symbol")}
    spans = []
    alive: dict[tuple[str, pd.Timestamp], int] = {}
    for symbol, ts, t_touch in zip(labels["symbol"], labels["ts"], labels["t_touch"], strict=True):
        grid = grids[symbol]
        span = [(symbol, u) for u in grid if ts < u <= t_touch]
        for key in span:
            alive[key] = alive.get(key, 0) + 1
        spans.append(span)
    return [sum(1.0 / alive[key] for key in span) / len(span) for span in spans]
