"""``nexus train``: walk-forward training of the configured models, with honest scores."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nexus.cli._app import app, settings_of
from nexus.cli._output import METRIC_COLUMNS, emit_json, frame_table, stderr, stdout
from nexus.store import open_store

__all__ = ["train"]


@app.command("train")
def train(
    ctx: typer.Context,
    config: Annotated[Path, typer.Option(help="Experiment config (YAML).")] = Path(
        "configs/experiments/default.yaml"
    ),
    hpo: Annotated[
        int,
        typer.Option(help="Optuna trials for the config's hpo.model before training (0: none)."),
    ] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Train the experiment's models on stored bars: features, labels, purged walk-forward folds.

    Prints, per model and fold, out-of-sample accuracy, macro-F1, precision and
    recall for UP and DOWN, log-loss and Brier score, beside two baselines
    (majority class, sign of the last return). Each trained model is saved as a
    versioned artifact under NEXUS_HOME/models and logged to MLflow.
    """
    from nexus.training import ExperimentConfig, MlflowTracker, run_experiment

    settings = settings_of(ctx)
    experiment = ExperimentConfig.from_yaml(config)
    with open_store(settings) as store, _progress(quiet=as_json) as progress:
        report = run_experiment(
            store,
            experiment,
            home=settings.home,
            tracker=MlflowTracker.under(settings.home),
            progress=progress,
            trials=hpo,
        )
    if as_json:
        emit_json(report.to_dict())
        return
    _print(report.to_dict())


def _progress(*, quiet: bool):
    from contextlib import nullcontext

    from rich.progress import Progress, TextColumn, TimeElapsedColumn

    if quiet:
        return nullcontext(None)
    return _ProgressContext(
        Progress(
            TextColumn("{task.description}"), TimeElapsedColumn(), console=stderr, transient=True
        )
    )


class _ProgressContext:
    """Shows the model, fold and epoch being trained."""

    def __init__(self, progress) -> None:
        self._progress = progress
        self._task = None

    def __enter__(self):
        self._progress.__enter__()
        self._task = self._progress.add_task("preparing features, labels and folds")
        return self._update

    def __exit__(self, *exc) -> None:
        self._progress.__exit__(*exc)

    def _update(self, event: str, details: dict) -> None:
        where = f"{details.get('model')} fold {details.get('fold', 0) + 1}"
        if event == "trial":
            text = (
                f"tuning {details['model']}: trial {details['trial'] + 1}/{details['trials']}, "
                f"{details['metric']} {details['score']:.4f}"
            )
        elif event == "fold_start":
            text = f"training {where}/{details['folds']}"
        elif event == "epoch":
            text = (
                f"training {where}: epoch {details['epoch'] + 1}, "
                f"valid loss {details['valid_loss']:.4f}"
            )
        else:
            text = f"scored {where}: accuracy {details['metrics']['accuracy']:.3f}"
        self._progress.update(self._task, description=text)


def _print(report: dict) -> None:
    import pandas as pd

    stdout.print(
        f"experiment {report['name']}: {report['n_bars']:,} bars, {report['n_samples']:,} "
        f"samples, {report['folds']} walk-forward folds [dim](data {report['fingerprint'][:12]})[/]"
    )
    if report.get("tuned"):
        tuned = report["tuned"]
        stdout.print(
            f"tuned {tuned['model']} over {tuned['n_trials']} trials: {tuned['params']}; "
            f"probability of backtest overfitting {tuned['pbo']:.2f}, "
            f"deflated Sharpe {tuned['deflated_sharpe']:.2f}"
        )
    for model in report["models"]:
        rows = []
        for fold in model["folds"]:
            rows.append(
                {
                    "fold": fold["fold"],
                    "who": model["model"],
                    "n_test": fold["n_test"],
                    **{k: fold["metrics"][k] for k in METRIC_COLUMNS},
                    "p_vs_majority": fold["p_value_vs_majority"],
                    "p_f1": fold["p_value_macro_f1"],
                }
            )
            for name, metrics in fold["baselines"].items():
                rows.append(
                    {
                        "fold": fold["fold"],
                        "who": f"  {name}",
                        "n_test": fold["n_test"],
                        **{k: metrics[k] for k in METRIC_COLUMNS},
                    }
                )
        stdout.print(frame_table(pd.DataFrame(rows), f"{model['model']} (out of sample)"))
        stdout.print(f"  saved {model['artifact']}  [dim](MLflow run {model['mlflow_run']})[/]")
        stdout.print(f"  report {model['report']}")
