"""One experiment, end to end: prepare, (tune,) train, score, save, track."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from nexus.models import make_model
from nexus.store import Store
from nexus.training._artifacts import save_artifact
from nexus.training._config import ExperimentConfig
from nexus.training._hpo import tune
from nexus.training._prepare import prepare
from nexus.training._reports import fold_report
from nexus.training._tracking import MlflowTracker
from nexus.training._trainer import ModelResult, Progress, train_models

__all__ = ["ExperimentReport", "run_experiment"]


@dataclass(slots=True)
class ExperimentReport:
    """What an experiment trained and how each model scored out of sample."""

    name: str
    fingerprint: str
    n_bars: int
    n_samples: int
    folds: int
    tuned: dict | None = None
    models: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """A JSON-ready summary."""
        return asdict(self)


def _model_entry(
    result: ModelResult, artifact: Path | None, run_id: str | None, report: Path | None = None
) -> dict:
    return {
        "model": result.config.model,
        "slot": result.config.slot_name,
        "artifact": str(artifact) if artifact else None,
        "report": str(report) if report else None,
        "mlflow_run": run_id,
        "summary": result.summary(),
        "folds": [asdict(f) for f in result.folds],
    }


def _with_params(config: ExperimentConfig, model: str, params: dict) -> ExperimentConfig:
    models = [
        m.model_copy(update={"params": {**m.params, **params}}) if m.model == model else m
        for m in config.models
    ]
    return config.model_copy(update={"models": models})


def run_experiment(
    store: Store,
    config: ExperimentConfig,
    *,
    home: Path,
    tracker: MlflowTracker | None = None,
    progress: Progress | None = None,
    trials: int = 0,
) -> ExperimentReport:
    """Run ``config`` on the bars in ``store``; save every model under ``home/models``.

    ``trials`` > 0 (or ``config.hpo.trials``) first searches ``config.hpo.model``'s
    hyper-parameters with Optuna on the first fold's fit/validation samples.

    Nothing is written to the model folder until every model has trained, so a
    bad config or too little data leaves no half-written version behind.
    """
    for model_config in config.models:  # unknown models and parameters fail before any work
        make_model(model_config.model, **model_config.params)
    prepared = prepare(store, config)
    tuned = None
    if trials or config.hpo.trials:
        found = tune(prepared, config, trials=trials or config.hpo.trials, progress=progress)
        tuned = found.to_dict(config.hpo.metric)
        config = _with_params(config, found.model, found.params)
    results = train_models(prepared, config, progress=progress)
    report = ExperimentReport(
        name=config.name,
        fingerprint=prepared.fingerprint,
        n_bars=len(prepared.bars),
        n_samples=len(prepared.dataset),
        folds=len(prepared.folds),
        tuned=tuned,
    )
    for result in results:
        artifact = save_artifact(home, result, prepared, config)
        run_id = tracker.log(config, result, artifact) if tracker else None
        page = home / "reports" / f"train-{artifact.parent.name}-{artifact.name}.html"
        fold_report(prepared, result, page)
        report.models.append(_model_entry(result, artifact, run_id, page))
    return report
