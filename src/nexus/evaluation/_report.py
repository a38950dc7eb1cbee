"""One self-contained HTML file per backtest: plotly charts, tables, no network needed to open it.

The page holds, in order: headline metrics; equity against buy-and-hold;
drawdown; monthly returns as a heatmap; rolling Sharpe; and, when the backtest
traded a model's probabilities, the confusion matrix, the calibration curves of
UP and DOWN and the feature importance; then the trade list. plotly.js is
inlined once, so the file opens offline.
"""

from __future__ import annotations

import html
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from nexus.errors import ConfigError
from nexus.evaluation._backtest import BacktestResult
from nexus.evaluation._performance import drawdown

__all__ = ["ReportInputs", "buy_and_hold", "write_report"]

_CLASSES = ("DOWN", "NEUTRAL", "UP")
_MAX_TRADES = 500
_SHOWN_METRICS = (
    ("total_return", "Total return", "{:.2%}"),
    ("cagr", "CAGR", "{:.2%}"),
    ("volatility", "Volatility", "{:.2%}"),
    ("sharpe", "Sharpe", "{:.2f}"),
    ("sortino", "Sortino", "{:.2f}"),
    ("calmar", "Calmar", "{:.2f}"),
    ("max_drawdown", "Max drawdown", "{:.2%}"),
    ("max_drawdown_days", "Longest drawdown (days)", "{:.1f}"),
    ("turnover", "Turnover (annual)", "{:.1f}"),
    ("exposure", "Exposure", "{:.1%}"),
    ("hit_rate", "Hit rate", "{:.1%}"),
    ("avg_trade_return", "Average trade", "{:.3%}"),
    ("n_trades", "Trades", "{:,.0f}"),
    ("total_costs", "Costs", "{:,.2f}"),
)


@dataclass(frozen=True)
class ReportInputs:
    """What a report shows beside the backtest itself.

    Attributes
    ----------
    title : str
        The page's heading.
    benchmark : Series, optional
        Buy-and-hold equity on the same timestamps (see :func:`buy_and_hold`).
    y_true : ndarray of int, shape (n,), optional
        True classes (0 DOWN, 1 NEUTRAL, 2 UP) of the model's decisions.
    proba : ndarray, shape (n, 3), optional
        The model's calibrated probabilities for those decisions.
    importance : Series, optional
        Feature importance by feature name (gain, or permutation loss increase).
    importance_kind : str
        How ``importance`` was measured, for its axis title.
    details : dict
        Shown as a key/value table (model, version, window, costs, ...).
    """

    title: str
    benchmark: pd.Series | None = None
    y_true: np.ndarray | None = None
    proba: np.ndarray | None = None
    importance: pd.Series | None = None
    importance_kind: str = "importance"
    details: dict[str, Any] = field(default_factory=dict)


def buy_and_hold(bars: pd.DataFrame, initial_cash: float, index: pd.Index) -> pd.Series:
    """Equal-weight buy-and-hold equity of every symbol in ``bars``, on ``index``, no costs.

    Each symbol gets an equal share of ``initial_cash`` at its first close;
    its value follows its close (carried over bars it lacks).
    """
    closes = bars.pivot_table(index="ts", columns="symbol", values="close").sort_index()
    closes = closes.reindex(closes.index.union(index)).ffill()
    growth = closes / closes.bfill().iloc[0]
    return (growth.mean(axis=1) * initial_cash).reindex(index)


def write_report(path: Path, result: BacktestResult, inputs: ReportInputs) -> Path:
    """Write the report to ``path`` (atomically) and return it.

    Raises
    ------
    ConfigError
        If ``path`` cannot be written (a missing folder is created; a folder
        in the way, or no permission, is refused).
    """
    path = Path(path)
    page = _page(result, inputs)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(page)
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the report to {path} ({exc.strerror or exc})",
            fix="choose a writable file path, e.g. --report reports/backtest.html",
        ) from None
    return path


def _page(result: BacktestResult, inputs: ReportInputs) -> str:
    breaks = _closed_periods(result.equity.index)
    figures = [
        _equity(result, inputs.benchmark),
        _drawdown(result),
        _monthly(result),
        _rolling_sharpe(result),
    ]
    for fig in (figures[0], figures[1], figures[3]):
        fig.update_xaxes(rangebreaks=breaks)
    if inputs.y_true is not None and inputs.proba is not None:
        figures += [
            _confusion(inputs.y_true, inputs.proba),
            _calibration(inputs.y_true, inputs.proba),
        ]
    if inputs.importance is not None and len(inputs.importance):
        figures.append(_importance(inputs.importance, inputs.importance_kind))
    charts = "\n".join(
        f"<section>{fig.to_html(full_html=False, include_plotlyjs=False)}</section>"
        for fig in figures
    )
    return _TEMPLATE.format(
        title=html.escape(inputs.title),
        plotly=get_plotlyjs(),
        metrics=_metrics_table(result.metrics),
        details=_details_table(inputs.details),
        charts=charts,
        trades=_trades_table(result.trades),
    )


def _closed_periods(index: pd.Index, max_breaks: int = 500) -> list[dict[str, Any]]:
    """Plotly range breaks over the gaps between sessions (nights, weekends, holidays).

    A gap is a step longer than three times the typical bar spacing; the axis
    skips it instead of drawing a straight line across it. None for daily bars
    (weekends are a three-bar gap at most) or beyond ``max_breaks`` gaps.
    """
    ts = pd.DatetimeIndex(index)
    if len(ts) < 3:
        return []
    step = ts[1:] - ts[:-1]
    typical = step.median()
    gaps = np.flatnonzero(step > 3 * typical)
    if not len(gaps) or len(gaps) > max_breaks:
        return []
    return [{"bounds": [ts[i] + typical, ts[i + 1]]} for i in gaps]


def _equity(result: BacktestResult, benchmark: pd.Series | None) -> go.Figure:
    fig = go.Figure(go.Scatter(x=result.equity.index, y=result.equity, name="strategy"))
    if benchmark is not None:
        fig.add_scatter(x=benchmark.index, y=benchmark, name="buy and hold", line={"dash": "dot"})
    return _layout(fig, "Equity (after costs) against buy-and-hold", "equity")


def _drawdown(result: BacktestResult) -> go.Figure:
    dd = drawdown(result.returns.to_numpy())
    fig = go.Figure(go.Scatter(x=result.returns.index, y=dd, fill="tozeroy", name="drawdown"))
    return _layout(fig, "Drawdown", "from the running peak", percent=True)


def _monthly(result: BacktestResult) -> go.Figure:
    returns = result.returns.copy()
    returns.index = pd.DatetimeIndex(returns.index).tz_convert(None)
    monthly = (1 + returns).resample("ME").prod() - 1
    table = pd.DataFrame(
        {"year": monthly.index.year, "month": monthly.index.month, "r": monthly.to_numpy()}
    ).pivot_table(index="year", columns="month", values="r")
    table = table.reindex(columns=range(1, 13))
    names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    text = [[("" if np.isnan(v) else f"{v:.1%}") for v in row] for row in table.to_numpy()]
    fig = go.Figure(
        go.Heatmap(
            z=table.to_numpy(), x=names, y=[str(y) for y in table.index], text=text,
            texttemplate="%{text}", colorscale="RdYlGn", zmid=0, hoverongaps=False,
        )
    )  # fmt: skip
    return _layout(fig, "Monthly returns", "year")


def _rolling_sharpe(result: BacktestResult) -> go.Figure:
    returns = result.returns
    window = int(max(5, min(len(returns) // 4, round(result.periods_per_year / 4))))
    mean = returns.rolling(window).mean()
    std = returns.rolling(window).std()
    sharpe = mean / std.where(std > 0) * np.sqrt(result.periods_per_year)
    fig = go.Figure(go.Scatter(x=returns.index, y=sharpe, name=f"{window} bars"))
    return _layout(fig, f"Rolling Sharpe ({window} bars, annualised)", "Sharpe")


def _confusion(y_true: np.ndarray, proba: np.ndarray) -> go.Figure:
    pred = np.asarray(proba).argmax(axis=1)
    matrix = np.zeros((3, 3), dtype=int)
    np.add.at(matrix, (np.asarray(y_true, dtype=int), pred), 1)
    fig = go.Figure(
        go.Heatmap(
            z=matrix, x=list(_CLASSES), y=list(_CLASSES), text=matrix, texttemplate="%{text}",
            colorscale="Blues", showscale=False,
        )
    )  # fmt: skip
    fig.update_xaxes(title="predicted")
    return _layout(fig, "Confusion matrix (rows: what happened)", "actual")


def _calibration(y_true: np.ndarray, proba: np.ndarray, bins: int = 10) -> go.Figure:
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], name="perfect", line={"dash": "dot"}))
    y_true = np.asarray(y_true, dtype=int)
    edges = np.linspace(0, 1, bins + 1)
    for cls in (0, 2):
        p = np.asarray(proba)[:, cls]
        which = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
        count = np.bincount(which, minlength=bins)
        mean_p = np.bincount(which, weights=p, minlength=bins)
        hits = np.bincount(which, weights=(y_true == cls).astype(float), minlength=bins)
        shown = count > 0
        fig.add_scatter(
            x=mean_p[shown] / count[shown], y=hits[shown] / count[shown], mode="lines+markers",
            name=f"P({_CLASSES[cls]})", text=[f"n = {c}" for c in count[shown]],
        )  # fmt: skip
    fig.update_xaxes(title="predicted probability", range=[0, 1])
    return _layout(
        fig, "Calibration (observed frequency per predicted-probability bin)", "observed"
    )


def _importance(importance: pd.Series, kind: str) -> go.Figure:
    top = importance.sort_values().tail(30)
    fig = go.Figure(go.Bar(x=top.to_numpy(), y=[str(i) for i in top.index], orientation="h"))
    fig.update_layout(height=max(300, 22 * len(top)))
    fig.update_xaxes(title=kind)
    return _layout(fig, f"Feature importance ({kind})", "")


def _layout(fig: go.Figure, title: str, y_title: str, *, percent: bool = False) -> go.Figure:
    fig.update_layout(title=title, template="plotly_white", margin={"l": 60, "r": 20, "t": 50})
    fig.update_yaxes(title=y_title, tickformat=".1%" if percent else None)
    return fig


def _metrics_table(metrics: dict[str, float]) -> str:
    rows = []
    for key, label, fmt in _SHOWN_METRICS:
        value = metrics.get(key)
        if value is None:
            continue
        shown = "n/a" if isinstance(value, float) and not np.isfinite(value) else fmt.format(value)
        rows.append(f"<tr><th>{label}</th><td>{shown}</td></tr>")
    return "<table class='kv'>" + "".join(rows) + "</table>"


def _details_table(details: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in details.items()
    )
    return f"<table class='kv'>{rows}</table>" if rows else ""


def _trades_table(trades: pd.DataFrame) -> str:
    if trades.empty:
        return "<p>No closed trades.</p>"
    shown = trades.head(_MAX_TRADES)
    more = len(trades) - len(shown)
    note = f"<p>{more:,} more trades not shown.</p>" if more > 0 else ""
    return shown.to_html(index=False, float_format=lambda v: f"{v:,.4f}", border=0) + note


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<script>{plotly}</script>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }}
table {{ border-collapse: collapse; font-size: 0.9rem; }}
th, td {{ padding: 0.2rem 0.8rem; text-align: right; border-bottom: 1px solid #eee; }}
table.kv th {{ text-align: left; font-weight: 600; }}
.grid {{ display: flex; gap: 3rem; flex-wrap: wrap; }}
section {{ margin: 1.5rem 0; }}
</style>
</head>
<body>
<h1>{title}</h1>
<div class="grid">{metrics}{details}</div>
{charts}
<h2>Trades</h2>
{trades}
</body>
</html>
"""
