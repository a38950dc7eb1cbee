"""How the CLI prints: JSON for machines, rich tables and progress for people."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from nexus.ingest import BatchReport

__all__ = [
    "METRIC_COLUMNS",
    "batch_progress",
    "emit_json",
    "emit_json_line",
    "frame_table",
    "stderr",
    "stdout",
]

METRIC_COLUMNS = (
    "accuracy",
    "macro_f1",
    "precision_up",
    "recall_up",
    "precision_down",
    "recall_down",
    "log_loss",
    "brier",
)
"""The classification scores the CLI shows per model and fold, in this order."""


def _console(*, to_stderr: bool) -> Console:
    console = Console(stderr=to_stderr)
    if not console.is_terminal:  # logs and pipes: do not wrap tables at 80 columns
        console = Console(stderr=to_stderr, width=200)
    return console


stdout = _console(to_stderr=False)
stderr = _console(to_stderr=True)


def _default(value: Any) -> Any:
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    if value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value)


def emit_json(payload: Any) -> None:
    """Print ``payload`` as JSON on stdout."""
    sys.stdout.write(json.dumps(payload, default=_default, indent=2) + "\n")
    sys.stdout.flush()


def emit_json_line(payload: Any) -> None:
    """Print ``payload`` as one compact JSON line on stdout (streams: one line per event)."""
    sys.stdout.write(json.dumps(payload, default=_default, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def records(frame: pd.DataFrame) -> list[dict]:
    """``frame`` as JSON-ready records (timestamps as ISO strings, NaN as null)."""
    clean = frame.astype(object).where(frame.notna(), None)
    return json.loads(json.dumps(clean.to_dict("records"), default=_default))


def frame_table(frame: pd.DataFrame, title: str) -> Table:
    """A rich table of ``frame``."""
    table = Table(title=title, title_justify="left")
    for col in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[col])
        table.add_column(str(col), justify="right" if numeric else "left")
    for row in frame.itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    return table


def _cell(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M") if value.tzinfo else str(value.date())
    if isinstance(value, float):
        if value.is_integer():
            return f"{value:,.0f}"
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int | np.integer):
        return f"{value:,}"
    return "" if value is None else str(value)


def describe_batch(report: BatchReport, done: int, total: int | None) -> str:
    """One log line for a stored batch."""
    of = f"{done}/{total}" if total else str(done)
    if is_feed(report.stored + report.already_stored, report.news, report.macro):
        return (
            f"[{of}] {report.label}: {report.news:,} new stories, {report.macro:,} new "
            f"vintages, {report.rejected:,} rejected"
        )
    return (
        f"[{of}] {report.label}: {report.stored:,} new bars, {report.already_stored:,} already"
        f" stored, {report.rejected:,} rejected, {report.flagged:,} flagged"
    )


def is_feed(bars: int, news: int, macro: int) -> bool:
    """Whether an ingest brought news or macro data and no bars (a feed, not prices)."""
    return bars == 0 and (news > 0 or macro > 0)


@contextmanager
def batch_progress(description: str, *, quiet: bool) -> Iterator:
    """Yield an ``on_batch`` callback showing progress: a bar on a terminal, log lines otherwise."""
    if quiet:
        yield None
        return
    if not stderr.is_terminal:

        def log(report: BatchReport, done: int, total: int | None) -> None:
            print(describe_batch(report, done, total), file=sys.stderr, flush=True)

        yield log
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[label]}"),
        TimeElapsedColumn(),
        console=stderr,
        transient=False,
    ) as progress:
        task = progress.add_task(description, total=None, label="")

        def advance(report: BatchReport, done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total, label=report.label)

        yield advance
