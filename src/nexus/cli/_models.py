"""``nexus models``: list, inspect, promote and roll back model versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from nexus.cli._app import app, settings_of
from nexus.cli._output import METRIC_COLUMNS, emit_json, stdout
from nexus.errors import RegistryError
from nexus.registry import Alert, Decision, Registry, SlotState

__all__ = ["models_app"]

models_app = typer.Typer(
    help="List, inspect, promote and roll back model versions.", no_args_is_help=True
)
app.add_typer(models_app, name="models")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
ReasonOpt = Annotated[str | None, typer.Option(help="Why; kept in the slot's history.")]

_LISTED = ("macro_f1", "accuracy", "log_loss")


def _journal_only(alert: Alert) -> None:
    """The CLI's alert sink: the alert is journaled and the error line says it already."""


def _registry(ctx: typer.Context) -> Registry:
    return Registry.from_settings(settings_of(ctx), alert=_journal_only)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _describe(folder: Path) -> dict[str, Any]:
    """What a version's own files say about it (best effort: unreadable parts are None)."""
    meta = _read_json(folder / "model" / "model.json") or {}
    metrics = _read_json(folder / "metrics.json") or {}
    return {
        "model": meta.get("model"),
        "lookback": meta.get("lookback"),
        "n_features": meta.get("n_features"),
        "metrics": metrics.get("summary"),
        "fingerprint": _read_json(folder / "fingerprint.json"),
    }


def _role(state: SlotState, version: str) -> str:
    if version == state.champion:
        return "champion"
    if version == state.previous:
        return "previous"
    return ""


def _slot_entry(registry: Registry, slot: str) -> dict[str, Any]:
    state = registry.state(slot)
    on_disk = registry.versions(slot)
    named = [v for v in (state.champion, state.previous) if v and v not in on_disk]
    versions = []
    for version in sorted({*on_disk, *named}):
        info = _describe(registry.path(slot, version))
        versions.append(
            {
                "version": version,
                "role": _role(state, version),
                "missing": version not in on_disk,
                "model": info["model"],
                "metrics": info["metrics"],
                "data": (info["fingerprint"] or {}).get("sha256"),
            }
        )
    return {
        "slot": slot,
        "champion": state.champion,
        "previous": state.previous,
        "versions": versions,
        "history": [d.model_dump(mode="json") for d in state.history],
    }


@models_app.command("list")
def list_models(
    ctx: typer.Context,
    slot: Annotated[str | None, typer.Argument(help="Only this slot.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every slot and its versions, champion and previous marked, with key out-of-sample scores."""
    registry = _registry(ctx)
    slots = (slot,) if slot else registry.slots()
    entries = [_slot_entry(registry, s) for s in slots]
    alerts = registry.alerts()
    if as_json:
        emit_json(
            {
                "models": str(registry.root),
                "slots": entries,
                "alerts": [a.to_dict() for a in alerts],
            }
        )
        return
    stdout.print(_list_table(entries, registry.root))
    for entry in entries:
        if entry["history"]:
            stdout.print(f"{entry['slot']}: last decision {_decision_line(entry['history'][-1])}")
    if alerts:
        last = alerts[-1]
        stdout.print(
            f"[yellow]{len(alerts)} alert(s)[/]; latest {last.time}: {escape(last.problem)}"
        )


def _list_table(entries: list[dict[str, Any]], root: Path) -> Table:
    table = Table(title=f"models in {root}", title_justify="left")
    for name in ("slot", "version", "role", "model", *_LISTED, "data"):
        table.add_column(name, justify="right" if name in _LISTED else "left")
    for entry in entries:
        if not entry["versions"]:
            table.add_row(entry["slot"], "[dim](no versions)[/]", *[""] * (3 + len(_LISTED)))
        for v in entry["versions"]:
            role = v["role"] + (" (missing)" if v["missing"] else "")
            if v["role"] == "champion":
                role = f"[bold green]{role}[/]"
            metrics = v["metrics"] or {}
            table.add_row(
                entry["slot"],
                v["version"],
                role,
                v["model"] or "",
                *[_number(metrics.get(k)) for k in _LISTED],
                (v["data"] or "")[:12],
            )
    return table


def _number(value: Any) -> str:
    return "" if not isinstance(value, int | float) else f"{value:.4f}"


def _decision_line(decision: dict[str, Any]) -> str:
    return (
        f"{decision['time']} {decision['action']} {decision['version']} "
        f"(champion {decision['champion']}, previous {decision['previous']}): "
        f"{escape(decision['reason'])}"
    )


@models_app.command("show")
def show(
    ctx: typer.Context,
    slot: Annotated[str, typer.Argument(help="The slot, e.g. lstm.")],
    version: Annotated[
        str | None, typer.Argument(help="The version; default the champion.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """One version: its checksum check, scores, training data and decisions.

    Exits 1 (after printing) when the version fails its checksum manifest.
    """
    registry = _registry(ctx)
    state = registry.state(slot)
    version = version or state.champion
    if version is None:
        raise RegistryError(
            f"slot {slot!r} has no champion", fix="name a version: nexus models show SLOT VERSION"
        )
    folder = registry.path(slot, version, existing=True)
    check = registry.verify(slot, version)
    info = _describe(folder)
    report = {
        "slot": slot,
        "version": version,
        "path": str(folder),
        "role": _role(state, version),
        "check": check.to_dict(),
        **info,
        "decisions": [d.model_dump(mode="json") for d in state.history if d.version == version],
    }
    if as_json:
        emit_json(report)
    else:
        _print_show(report)
    if not check.ok:
        raise typer.Exit(1)


def _print_show(report: dict[str, Any]) -> None:
    role = f" [bold green]{report['role']}[/]" if report["role"] else ""
    stdout.print(f"[bold]{report['slot']}/{report['version']}[/]{role}")
    check = report["check"]
    verdict = "[green]ok[/]" if check["ok"] else f"[bold red]FAILED[/]: {escape(check['problem'])}"
    stdout.print(f"  folder     {report['path']}")
    stdout.print(f"  checksums  {verdict}")
    stdout.print(
        f"  model      {report['model']} (lookback {report['lookback']}, "
        f"{report['n_features']} features)"
    )
    fp = report["fingerprint"] or {}
    if fp:
        symbols = fp.get("symbols") or []
        stdout.print(
            f"  data       {str(fp.get('sha256'))[:16]}: {len(symbols)} symbols, "
            f"{fp.get('interval')} bars {fp.get('first_ts')} .. {fp.get('last_ts')}, "
            f"{fp.get('n_bars')} bars, {fp.get('n_samples')} samples"
        )
    metrics = report["metrics"] or {}
    if metrics:
        table = Table(title="out-of-sample scores (mean over folds)", title_justify="left")
        for key in METRIC_COLUMNS:
            table.add_column(key, justify="right")
        table.add_row(*[_number(metrics.get(k)) for k in METRIC_COLUMNS])
        stdout.print(table)
    for decision in report["decisions"]:
        stdout.print(f"  decision   {_decision_line(decision)}")


def _print_decision(decision: Decision, *, as_json: bool) -> None:
    if as_json:
        emit_json(decision.model_dump(mode="json"))
        return
    stdout.print(
        f"{decision.action}: champion is now {decision.champion} "
        f"(was {decision.before}; previous {decision.previous})"
    )


@models_app.command("promote")
def promote(
    ctx: typer.Context,
    slot: Annotated[str, typer.Argument(help="The slot, e.g. lstm.")],
    version: Annotated[str, typer.Argument(help="The version to make champion.")],
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Make VERSION the champion of SLOT (its checksums verified); the old one becomes previous."""
    decision = _registry(ctx).promote(
        slot, version, reason=reason or "promoted by hand (nexus models promote)"
    )
    _print_decision(decision, as_json=as_json)


@models_app.command("rollback")
def rollback(
    ctx: typer.Context,
    slot: Annotated[str, typer.Argument(help="The slot, e.g. lstm.")],
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Make the previous champion of SLOT the champion again."""
    decision = _registry(ctx).rollback(
        slot, reason=reason or "rolled back by hand (nexus models rollback)"
    )
    _print_decision(decision, as_json=as_json)
