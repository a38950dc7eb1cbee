"""``nexus validate``, ``nexus retrain`` and ``nexus schedule``: the champion/challenger loop."""

from __future__ import annotations

import shlex
import shutil
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from nexus.cli._app import app, settings_of
from nexus.cli._output import emit_json, stderr, stdout
from nexus.store import open_store

__all__ = ["retrain", "schedule", "validate"]

_CONFIG = Path("configs/experiments/default.yaml")
ConfigOption = Annotated[Path, typer.Option(help="Experiment config (YAML).")]
SessionsOption = Annotated[
    int, typer.Option(min=1, help="Validation window: the newest N trading sessions.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


@app.command("validate")
def validate(
    ctx: typer.Context,
    slot: Annotated[str, typer.Argument(help="Model slot, e.g. lstm.")],
    challenger: Annotated[
        str | None, typer.Option(help="Version to judge (default: the newest non-champion).")
    ] = None,
    sessions: SessionsOption = 5,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Judge but record nothing, promote nothing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Judge a challenger against the slot's champion on the newest unseen sessions.

    Promotes it only if its macro-F1 over UP and DOWN is better by the margin
    (0.02) with a paired bootstrap p < 0.05; a first challenger must beat the
    baselines the same way. The decision and its figures go to model_config.json.
    """
    from nexus.registry import Registry
    from nexus.training import (
        ExperimentConfig,
        ValidationConfig,
        apply_decision,
        judge,
        load_bars,
        load_context,
        slot_specs,
        validation_start,
    )

    settings = settings_of(ctx)
    registry = Registry.from_settings(settings)
    version = challenger or _newest_challenger(registry, slot)
    config = ValidationConfig(sessions=sessions)
    experiment = ExperimentConfig.model_validate(registry.load(slot, version).experiment)
    with open_store(settings) as store:
        start = validation_start(store, experiment, sessions)
        bars = load_bars(store, experiment.data.model_copy(update={"end": None}))
        context = load_context(store, bars, slot_specs(registry, slot, version))
    verdict = judge(registry, slot, version, bars, start, config, context)
    if not dry_run:
        apply_decision(registry, slot, version, verdict)
    result = {
        "slot": slot,
        "challenger": version,
        "action": verdict.action,
        "recorded": not dry_run,
        "reason": verdict.reason,
        "champion": registry.champion(slot),
        "figures": verdict.figures,
    }
    if as_json:
        emit_json(result)
        return
    _print_verdict(result)


def _newest_challenger(registry, slot: str) -> str:
    from nexus.errors import RegistryError

    champion = registry.champion(slot)
    others = [v for v in registry.versions(slot) if v != champion]
    if not others:
        raise RegistryError(
            f"slot {slot!r} has no version besides its champion to validate",
            fix="train one first (nexus train or nexus retrain)",
        )
    return sorted(others)[-1]


def _print_verdict(result: dict) -> None:
    figures = result["figures"]
    colour = "green" if result["action"] == "promote" else "yellow"
    done = "" if result["recorded"] else " [dim](dry run: nothing recorded)[/]"
    stdout.print(f"{result['slot']}: [{colour}]{result['action']}[/] {result['challenger']}{done}")
    stdout.print(f"  {result['reason']}")
    stdout.print(f"  window {figures['window'][0]} .. {figures['window'][1]}, n = {figures['n']:,}")
    for who, metrics in figures["metrics"].items():
        stdout.print(
            f"  {who:<10} macro-F1 (UP/DOWN) {metrics['macro_f1_updown']:.4f}  "
            f"precision UP {metrics['precision_up']:.4f}  DOWN {metrics['precision_down']:.4f}"
        )
    sharpes = ", ".join(f"{k} {v:.2f}" for k, v in figures["sharpe_after_costs"].items())
    stdout.print(f"  backtest Sharpe after costs: {sharpes}")
    stdout.print(f"  champion now: {result['champion']}")


@app.command("retrain")
def retrain(
    ctx: typer.Context,
    config: ConfigOption = _CONFIG,
    sessions: SessionsOption = 5,
    as_json: JsonOption = False,
) -> None:
    """The nightly job: train challengers on all but the newest sessions, validate, promote.

    In order: corporate-action check, features, labels, training of one challenger
    per registry slot (NEXUS_MODEL_SLOTS, default lstm,transformer), validation on
    the newest sessions, promotion or not, and a report. Idempotent (nothing new,
    nothing done) and locked (two runs never overlap).
    """
    from nexus.cli._train import _progress
    from nexus.registry import Registry
    from nexus.training import ExperimentConfig, ValidationConfig
    from nexus.training import retrain as run_retrain

    settings = settings_of(ctx)
    experiment = ExperimentConfig.from_yaml(config)
    registry = Registry.from_settings(settings)
    validation = ValidationConfig(sessions=sessions)
    with open_store(settings) as store, _progress(quiet=as_json) as progress:
        report = run_retrain(store, experiment, registry, validation=validation, progress=progress)
    if as_json:
        emit_json(report.to_json())
        return
    since = report.actions_since
    when = f"since {since}" if since else "stored (no champion yet)"
    stdout.print(
        f"retrain: validation window from {report.window_start}; "
        f"{len(report.corporate_actions)} corporate action(s) {when}, applied by adjusted reads"
    )
    for entry in report.slots:
        if entry["action"] == "up to date":
            stdout.print(f"  {entry['slot']}: up to date (already trained on these bars)")
            continue
        stdout.print(
            f"  {entry['slot']}: {entry['action']} {entry['challenger']}: {entry['reason']}"
            f"  (champion {entry['champion_before']} -> {entry['champion_after']})"
        )
        stdout.print(f"    report: {entry['report']}")


@app.command("schedule")
def schedule(
    ctx: typer.Context,
    config: ConfigOption = _CONFIG,
    calendar: Annotated[str, typer.Option(help="Exchange calendar of the sessions.")] = "XNYS",
    after: Annotated[
        int, typer.Option(min=0, help="Minutes after the close to start the job.")
    ] = 30,
    cron: Annotated[
        bool, typer.Option("--cron", help="Print the equivalent crontab line and exit.")
    ] = False,
    sessions: SessionsOption = 5,
) -> None:
    """Run `nexus retrain` after the close of every trading session (APScheduler).

    Half days and holidays come from the exchange calendar. --cron prints the
    nearest crontab line instead (regular close, Monday to Friday).
    """
    from nexus.training import SessionCloseTrigger, crontab_line, run_schedule

    offset = timedelta(minutes=after)
    settings = settings_of(ctx)
    env = f"NEXUS_HOME={shlex.quote(str(settings.home.resolve()))}"
    if settings.store_url:
        env += f" NEXUS_STORE_URL={shlex.quote(settings.store_url)}"
    command = (
        f"cd {shlex.quote(str(Path.cwd()))} && {env} {shlex.quote(_nexus_command())}"
        f" retrain --config {shlex.quote(str(config.resolve()))} --sessions {sessions}"
    )
    if cron:
        typer.echo(crontab_line(calendar, offset, command))
        return
    trigger = SessionCloseTrigger(calendar, offset)

    def job() -> None:
        ctx.invoke(retrain, ctx=ctx, config=config, sessions=sessions, as_json=False)

    def started(first) -> None:
        stderr.print(f"nexus schedule: `{command}` at {trigger}; next run {first}; Ctrl-C stops")

    try:
        run_schedule(job, trigger, on_start=started)
    except KeyboardInterrupt:
        stderr.print("nexus schedule: stopped")


def _nexus_command() -> str:
    """This ``nexus`` executable's absolute path (cron has no virtualenv on its PATH)."""
    found = shutil.which("nexus")
    here = Path(sys.argv[0])
    if here.name == "nexus" and here.exists():
        return str(here.resolve())
    return found or "nexus"
