"""Fixed-horizon labels: the sign of the close-to-close return ``horizon`` bars ahead."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from nexus.errors import ConfigError
from nexus.labels._bars import bar_arrays, check_int, label_frame

__all__ = ["fixed_horizon"]


def fixed_horizon(bars: pd.DataFrame, *, horizon: int, threshold: float = 0.0) -> pd.DataFrame:
    """Label each bar by the sign of its log return over the next ``horizon`` bars.

    ``ret = log(close_{t+H} / close_t)`` within the symbol; ``label = sign(ret)``,
    and 0 when ``|ret| <= threshold``. Rows whose symbol has fewer than ``H``
    later bars are dropped.

    Parameters
    ----------
    bars : DataFrame, shape (n, >= 7)
        ``symbol``, ``interval``, ``ts``, ``open``, ``high``, ``low``, ``close``, any order.
    horizon : int
        ``H`` in bars (>= 1).
    threshold : float
        Dead zone around zero (>= 0).

    Returns
    -------
    DataFrame, shape (m, 7), sorted by symbol then ts
        The columns of :func:`nexus.labels.triple_barrier`: ``t_touch`` is bar
        ``t+H``, ``t_end`` its close, ``both`` always False.

    Raises
    ------
    ConfigError
        If ``horizon`` or ``threshold`` is out of range.
    DataError
        If ``bars`` is unusable (see :func:`nexus.labels.triple_barrier`).

    Examples
    --------
    >>> from nexus.sources.simulator import SimulatorConfig, simulate
    >>> bars = simulate(SimulatorConfig(symbols=2, sessions=20, interval="1d")).bars
    >>> labels = fixed_horizon(bars, horizon=5)
    >>> len(labels), sorted(set(labels["label"].tolist())) == [-1, 1]
    (30, True)
    """
    horizon = check_int(horizon, "horizon")
    if not (math.isfinite(threshold) and threshold >= 0):
        raise ConfigError(
            f"threshold={threshold!r} is not a finite number >= 0", fix="pass threshold >= 0"
        )
    b = bar_arrays(bars)
    rows = np.flatnonzero(b.after >= horizon)
    touch = rows + horizon
    ret = np.log(b.close[touch] / b.close[rows])
    label = np.where(np.abs(ret) > threshold, np.sign(ret), 0.0).astype(np.int8)
    return label_frame(b, rows, label, touch, ret, np.zeros(len(rows), dtype=bool))
