"""``nexus data``: what the store holds, what was quarantined, and exports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from nexus.cli._app import app, settings_of
from nexus.cli._output import emit_json, frame_table, records, stdout
from nexus.domain import DEFAULT_CALENDAR, Interval
from nexus.errors import ConfigError, UnknownSymbolError
from nexus.ingest import count_missing_bars
from nexus.store import Store, open_store

__all__ = ["data_app"]

data_app = typer.Typer(help="Inspect and export the stored data.", no_args_is_help=True)
app.add_typer(data_app, name="data")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def series_status(store: Store) -> pd.DataFrame:
    """Stored series with their gap counts (bars the sessions should hold but are missing)."""
    series = store.series()
    if series.empty:
        return series.assign(missing=pd.Series(dtype="int64"))
    calendars = dict(zip(store.symbols()["symbol"], store.symbols()["calendar"], strict=True))
    missing = [
        count_missing_bars(
            calendars.get(row.symbol, DEFAULT_CALENDAR),
            Interval.parse(row.interval),
            pd.Timestamp(row.first_ts),
            pd.Timestamp(row.last_ts),
            int(row.n_bars),
        )
        for row in series.itertuples(index=False)
    ]
    return series.assign(missing=missing)


def series_summary(series: pd.DataFrame) -> pd.DataFrame:
    """One row per (interval, source): symbol count, range, bars and missing bars."""
    grouped = series.groupby(["interval", "source"], sort=False)
    out = grouped.agg(
        symbols=("symbol", "nunique"),
        first_ts=("first_ts", "min"),
        last_ts=("last_ts", "max"),
        n_bars=("n_bars", "sum"),
        missing=("missing", "sum"),
    ).reset_index()
    order = {i.value: k for k, i in enumerate(Interval)}
    return out.sort_values("interval", key=lambda c: c.map(order)).reset_index(drop=True)


@data_app.command("status")
def status(
    ctx: typer.Context,
    detail: Annotated[
        bool, typer.Option("--detail", help="One row per symbol and interval.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Symbols, intervals, ranges, bar counts, gaps and quarantine counts."""
    settings = settings_of(ctx)
    with open_store(settings) as store:
        series = series_status(store)
        quarantine = store.quarantine_counts()
        ingests = store.ingest_log(limit=5)
        actions = len(store.read_corporate_actions())
        news = len(store.read_news())
    if as_json:
        emit_json(
            {
                "store": settings.resolved_store_url,
                "series": records(series),
                "quarantine": records(quarantine),
                "corporate_actions": actions,
                "news": news,
                "recent_ingests": records(ingests.drop(columns=["params"])),
            }
        )
        return
    stdout.print(f"store: {settings.resolved_store_url}")
    if series.empty:
        stdout.print("no bars stored yet; try `nexus ingest sim` or `nexus ingest samples`")
        return
    if (series["source"] == "simulator").any():
        stdout.print("[bold yellow]SIMULATED DATA[/]: series from the built-in simulator")
    if detail:
        stdout.print(frame_table(series, "bars by symbol and interval"))
    else:
        stdout.print(frame_table(series_summary(series), "bars by interval (--detail per symbol)"))
    stdout.print(f"corporate actions: {actions:,}   news items: {news:,}")
    if quarantine.empty:
        stdout.print("quarantine: empty")
        return
    stdout.print(frame_table(quarantine, "quarantine"))
    stdout.print("[dim]rejected rows were not stored; flagged rows were stored and marked[/]")


@data_app.command("quarantine")
def quarantine(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="Most rows to show.")] = 50,
    flagged: Annotated[
        bool, typer.Option("--flagged", help="Show flagged (stored) rows instead of rejected.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Rows that were rejected (or flagged) at ingest, with their reason."""
    disposition = "flagged" if flagged else "rejected"
    with open_store(settings_of(ctx)) as store:
        rows = store.read_quarantine(limit=limit, disposition=disposition)
    if as_json:
        emit_json(records(rows))
        return
    if rows.empty:
        stdout.print(f"no {disposition} rows")
        return
    shown = rows[["ingested_at", "source", "symbol", "interval", "ts", "reason", "detail"]]
    stdout.print(frame_table(shown, f"{disposition} rows (newest first)"))


@data_app.command("export")
def export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="Folder to write into.")] = Path("export"),
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    symbols: Annotated[
        str | None, typer.Option(help="Comma-separated symbols; default all.")
    ] = None,
    interval: Annotated[str, typer.Option(help="Bar interval.")] = "1d",
    adjust: Annotated[str, typer.Option(help="none, splits or all.")] = "none",
    as_json: JsonOpt = False,
) -> None:
    """Write stored bars (raw or adjusted) and corporate actions to Parquet or CSV."""
    if fmt not in ("parquet", "csv"):
        raise ConfigError(f"--format {fmt!r} is not supported", fix="use parquet or csv")
    if adjust not in ("none", "splits", "all"):
        raise ConfigError(f"--adjust {adjust!r} is not supported", fix="use none, splits or all")
    interval = Interval.parse(interval).value
    with open_store(settings_of(ctx)) as store:
        wanted = _export_symbols(store, symbols, interval)
        bars = store.read_bars(wanted, interval, adjust=adjust)
        actions = store.read_corporate_actions(wanted)
    out.mkdir(parents=True, exist_ok=True)
    written = {
        "bars": _write(bars, out / f"bars_{interval}_{adjust}.{fmt}", fmt),
        "corporate_actions": _write(actions, out / f"corporate_actions.{fmt}", fmt),
    }
    if as_json:
        emit_json(
            {"files": written, "rows": {"bars": len(bars), "corporate_actions": len(actions)}}
        )
        return
    stdout.print(f"wrote {len(bars):,} bars to {written['bars']}")
    stdout.print(f"wrote {len(actions):,} corporate actions to {written['corporate_actions']}")


def _export_symbols(store: Store, symbols: str | None, interval: str) -> list[str]:
    series = store.series()
    stored = sorted(series.loc[series["interval"] == interval, "symbol"])
    if not stored:
        raise ConfigError(
            f"no {interval} bars are stored",
            fix="check `nexus data status` for the stored intervals, or ingest some data first",
        )
    if symbols is None:
        return stored
    wanted = [s.strip() for s in symbols.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in stored]
    if unknown:
        raise UnknownSymbolError(
            f"symbol(s) {', '.join(unknown)} have no {interval} bars in the store",
            fix=f"choose from {', '.join(stored[:10])}{' ...' if len(stored) > 10 else ''}",
        )
    return wanted


def _write(frame: pd.DataFrame, path: Path, fmt: str) -> str:
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return str(path)


def catalog_rows(log: pd.DataFrame) -> list[dict]:
    """One entry per loaded file (files source) or per run (other sources), newest first."""
    rows = []
    for run in log.itertuples(index=False):
        params = json.loads(run.params or "{}")
        base = {
            "run_id": run.run_id,
            "source": run.source,
            "status": run.status,
            "ingested_at": run.started_at,
        }
        files = params.get("files") or [None]
        for entry in files:
            if entry is None:
                rows.append(
                    {
                        **base,
                        "path": run.target,
                        "sha256": run.checksum,
                        "bars": int(run.n_bars),
                        "rejected": int(run.n_rejected),
                    }
                )
            else:
                rows.append({**base, **entry})
    return rows


@data_app.command("catalog")
def catalog(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="Most ingest runs to include.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """What was loaded, from where: every ingest run and every file it read, with checksums."""
    with open_store(settings_of(ctx)) as store:
        rows = catalog_rows(store.ingest_log(limit=limit))
    if as_json:
        emit_json(rows)
        return
    if not rows:
        stdout.print("nothing ingested yet")
        return
    table = pd.DataFrame(rows)
    table["sha256"] = table["sha256"].fillna("").astype(str).str[:12]
    shown = [
        c
        for c in (
            "ingested_at",
            "source",
            "status",
            "path",
            "sha256",
            "format",
            "symbols",
            "interval",
            "rows",
            "bars",
            "rejected",
        )
        if c in table
    ]
    stdout.print(frame_table(table[shown], "data catalog (newest first)"))
