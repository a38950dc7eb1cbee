"""``nexus backtest``: trade a model's calls, or a file of signals, with costs; write the report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nexus.cli._app import app, settings_of
from nexus.cli._output import emit_json, stdout
from nexus.store import open_store

__all__ = ["backtest"]


@app.command("backtest")
def backtest(
    ctx: typer.Context,
    slot: Annotated[str | None, typer.Option(help="Backtest this slot's model.")] = None,
    version: Annotated[
        str | None, typer.Option(help="The slot's version (default: its champion).")
    ] = None,
    signals: Annotated[
        Path | None,
        typer.Option(help="CSV or Parquet: symbol, ts, signal (or p_down, p_neutral, p_up)."),
    ] = None,
    interval: Annotated[str, typer.Option(help="Bar interval of --signals.")] = "1d",
    start: Annotated[
        str | None,
        typer.Option(help="First decision time (a model: at the earliest after its data)."),
    ] = None,
    sizing: Annotated[str, typer.Option(help="fixed, volatility or kelly.")] = "fixed",
    cash: Annotated[float, typer.Option(help="Initial cash.")] = 100_000.0,
    commission_bps: Annotated[float, typer.Option(help="Commission, bps of value.")] = 1.0,
    half_spread_bps: Annotated[float, typer.Option(help="Half the bid-ask spread, bps.")] = 1.0,
    slippage_bps: Annotated[float, typer.Option(help="Slippage, bps.")] = 0.0,
    impact: Annotated[float, typer.Option(help="Square-root impact coefficient.")] = 0.1,
    report: Annotated[Path | None, typer.Option(help="Write the HTML report here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """Backtest a model (--slot) or signals (--signals): next-bar-open fills, costs, a report.

    A model is scored with its ONNX file on the bars after its training data;
    its calibrated probabilities are traded (the arg-max class, sized by
    --sizing). The report is one self-contained HTML file (plotly).
    """
    import pandas as pd

    from nexus.errors import ConfigError
    from nexus.evaluation import BacktestConfig, CostModel, SizingConfig

    if (slot is None) == (signals is None):
        raise ConfigError("give either --slot or --signals", fix="e.g. nexus backtest --slot lstm")
    config = BacktestConfig(
        initial_cash=cash,
        sizing=SizingConfig(method=sizing),
        costs=CostModel(
            commission_bps=commission_bps,
            half_spread_bps=half_spread_bps,
            slippage_bps=slippage_bps,
            impact_coef=impact,
        ),
    )
    first = None if start is None else pd.Timestamp(start, tz="UTC")
    settings = settings_of(ctx)
    with open_store(settings) as store:
        if slot is not None:
            summary = _model(settings, store, slot, version, first, config, report)
        else:
            summary = _signals(store, signals, interval, first, config, report)
    if as_json:
        emit_json(summary)
        return
    metrics = summary["metrics"]
    stdout.print(f"backtest of {summary['what']}: {summary['window'][0]} .. {summary['window'][1]}")
    stdout.print(
        f"  total return {metrics['total_return']:.2%}, Sharpe {metrics['sharpe']:.2f}, "
        f"max drawdown {metrics['max_drawdown']:.2%}, {metrics['n_trades']:.0f} trades, "
        f"costs {metrics['total_costs']:,.2f}"
    )
    if summary["report"]:
        stdout.print(f"  report: {summary['report']}")


def _model(settings, store, slot, version, first, config, report) -> dict:
    from nexus.registry import Registry
    from nexus.training import model_backtest

    artifact = Registry.from_settings(settings).load(slot, version)
    done = model_backtest(store, artifact, start=first, config=config, report=report)
    return _summary(f"{slot}/{artifact.version}", done.result, done.report)


def _signals(store, path: Path, interval, first, config, report) -> dict:
    from nexus.errors import UnknownSymbolError
    from nexus.evaluation import PROBA_COLUMNS, backtest
    from nexus.evaluation._report import ReportInputs, buy_and_hold, write_report

    frame = _read_signals(path)
    if first is not None:
        frame = frame.loc[frame["ts"] >= first]
    symbols = sorted(frame["symbol"].astype(str).unique())
    series = store.series()
    stored = set(series.loc[series["interval"] == interval, "symbol"])
    unknown = [s for s in symbols if s not in stored]
    if unknown:
        raise UnknownSymbolError(
            f"signals file {path} names symbols with no stored {interval} bars: "
            f"{', '.join(unknown[:5])}",
            fix="ingest their bars first, or pass the --interval of the signals",
        )
    bars = store.read_bars(symbols, interval, adjust="all")
    bars = bars.loc[bars["ts"] >= frame["ts"].min()]
    kind = "probabilities" if set(PROBA_COLUMNS) <= set(frame.columns) else "signals"
    result = backtest(bars, config=config, **{kind: frame})
    written = None
    if report is not None:
        inputs = ReportInputs(
            title=f"{path.name}: backtest",
            benchmark=buy_and_hold(bars, config.initial_cash, result.equity.index),
            details={"signals": str(path), "interval": interval, "sizing": config.sizing.method},
        )
        written = write_report(report, result, inputs)
    return _summary(str(path), result, written)


def _read_signals(path: Path):
    import pandas as pd

    from nexus.errors import DataError, SourceNotFoundError

    if not path.is_file():
        raise SourceNotFoundError(f"signals file {path} does not exist", fix="check the path")
    try:
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except (ValueError, OSError) as exc:
        raise DataError(
            f"cannot read signals file {path} ({exc})", fix="write CSV or Parquet"
        ) from None
    missing = {"symbol", "ts"} - set(frame.columns)
    if missing:
        raise DataError(
            f"signals file {path} lacks columns {sorted(missing)}",
            fix="columns: symbol, ts, signal (or p_down, p_neutral, p_up)",
        )
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame


def _summary(what: str, result, report) -> dict:
    return {
        "what": what,
        "window": [str(result.equity.index[0]), str(result.equity.index[-1])],
        "metrics": result.metrics,
        "n_trades": len(result.trades),
        "report": None if report is None else str(report),
    }
