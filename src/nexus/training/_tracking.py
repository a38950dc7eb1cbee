"""Experiment tracking with MLflow, in a local SQLite store under ``NEXUS_HOME``.

The tracker is an object you pass in (no global MLflow state): it talks to its
own ``MlflowClient``. One MLflow run per trained model: its parameters, the
per-fold metrics (``step`` = fold), the fold-weighted summary and the artifact
folder as a tag.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from nexus.training._config import ExperimentConfig
from nexus.training._trainer import ModelResult

__all__ = ["MlflowTracker"]


def _flatten(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, out)
    else:
        out[prefix] = str(value)[:500]


class MlflowTracker:
    """Logs training runs to MLflow.

    Parameters
    ----------
    uri : str
        An MLflow tracking URI, e.g. ``sqlite:////abs/path/mlflow.db``.
    """

    def __init__(self, uri: str) -> None:
        self.uri = uri

    @classmethod
    def under(cls, home: Path) -> MlflowTracker:
        """A tracker with its SQLite store in ``home/mlflow.db``."""
        home.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{(home / 'mlflow.db').absolute()}")

    def _client(self):
        from mlflow.tracking import MlflowClient

        # MLflow and alembic narrate schema creation at INFO; keep the CLI output clean
        for name in ("mlflow", "alembic"):
            logging.getLogger(name).setLevel(logging.WARNING)
        return MlflowClient(tracking_uri=self.uri)

    def log(self, config: ExperimentConfig, result: ModelResult, artifact: Path | None) -> str:
        """Record one trained model; return the MLflow run id."""
        client = self._client()
        experiment = client.get_experiment_by_name(config.name)
        experiment_id = (
            experiment.experiment_id if experiment else client.create_experiment(config.name)
        )
        run = client.create_run(experiment_id, run_name=result.config.slot_name)
        run_id = run.info.run_id
        params: dict[str, str] = {}
        _flatten("", config.model_dump(mode="json", exclude={"models"}), params)
        _flatten("model", result.config.model_dump(mode="json"), params)
        for key, value in params.items():
            client.log_param(run_id, key, value)
        for fold in result.folds:
            for key, value in fold.metrics.items():
                client.log_metric(run_id, f"fold_{key}", float(value), step=fold.fold)
        for key, value in result.summary().items():
            client.log_metric(run_id, key, float(value))
        if artifact is not None:
            client.set_tag(run_id, "nexus.artifact", str(artifact))
        client.set_terminated(run_id)
        return run_id
