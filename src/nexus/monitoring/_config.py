"""The drift monitor's settings: windows, thresholds, persistence, rollback and cooldown."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import Field, model_validator

from nexus.config import FrozenConfig, read_yaml
from nexus.errors import ConfigError

__all__ = ["MonitorConfig"]


class MonitorConfig(FrozenConfig):
    """How the drift monitor watches each champion.

    Parameters
    ----------
    window_minutes : float
        The rolling live window, in minutes of bar time (default 60): the
        features of the bars that closed in it and the predictions made in it.
    outcome_minutes : float
        The rolling window of resolved predictions (those whose triple-barrier
        outcome is known, a horizon after they were made) that realised
        accuracy and macro-F1 are measured on (default 240).
    every_seconds : float
        How often the monitor looks for new bars (wall-clock seconds). A look that
        finds no new bar is not a check: it counts towards no alarm.
    psi_enter, psi_exit : float
        A feature drifts once its PSI reaches its enter level (or its KS statistic
        its own) and calms once both fall under their exit levels. A level is the
        larger of this floor and what the training period's own windows reach by
        chance: their 99th percentile to enter, their 90th to exit (measured at
        training time and saved in ``reference.json``).
    ks_enter, ks_exit : float
        The same floors for the Kolmogorov-Smirnov statistic.
    min_values : int
        Finite live values a feature needs in the window to be scored.
    drift_share, severe_share : float
        The share of scored features drifting that is data drift (an alert) and
        severe data drift (a rollback), once held long enough (below).
    drift_minutes, severe_minutes : float
        How long (bar time) the share must hold for data drift (default 120) and
        for severe data drift (default 240). A window of normal data can stray
        for a while (a turbulent hour); a regime that has changed stays changed.
    persistence : int
        Consecutive checks a condition must hold to raise an alarm (and to clear it).
        A concept alarm must also hold for a whole window of bar time: the
        confidence for ``window_minutes``, realised accuracy and macro-F1 for
        ``outcome_minutes`` (their figures come from rolling windows that long, so
        checks in a row share most of their data).
    concept_minutes : float, optional
        How long (bar time) a concept alarm must hold; default: its own window
        (``window_minutes`` for the confidence, ``outcome_minutes`` for realised
        accuracy and macro-F1). 0 judges on the checks alone.
    severe_persistence : int
        Consecutive checks severe data drift, or an accuracy under the floor (for
        ``outcome_minutes`` of bar time as well), must hold before the monitor
        rolls back.
    confidence_tolerance : float
        A gap between the live mean calibrated confidence and its validation
        reference that raises a concept-drift alert (or ``chance_sd`` standard
        deviations of the validation window's own sub-windows, if larger).
    accuracy_drop : float
        The floor is the validation accuracy minus this (or minus ``floor_sd``
        standard deviations of its sub-windows, if larger); a realised accuracy
        under it for ``severe_persistence`` checks rolls back. Realised macro-F1
        this far (or ``chance_sd`` standard deviations) under its reference raises
        an alert.
    chance_sd : float
        Standard deviations of chance variation the confidence and the macro-F1
        may stray before they raise an alert.
    floor_sd : float
        The same for the accuracy floor. It is lower because the floor must
        also hold for ``severe_persistence`` checks before it acts.
    min_predictions, min_resolved : int
        Predictions (resolved ones) the window needs before confidence
        (accuracy and macro-F1) are judged.
    rollback : bool
        Roll back on severe, persistent drift; False only alerts.
    cooldown_minutes : float
        No rollback of a slot within this many wall-clock minutes of its last
        rollback (read from ``model_config.json``, so it survives restarts), and
        none within this long of a refused one.
    retry_seconds, max_retry_seconds : float
        After a failed check (the store unreachable), wait this long, doubling up
        to the maximum, before the next try.

    Examples
    --------
    >>> MonitorConfig().window_minutes, MonitorConfig(persistence=5).persistence
    (60.0, 5)
    """

    window_minutes: float = Field(60.0, gt=0)
    outcome_minutes: float = Field(240.0, gt=0)
    every_seconds: float = Field(10.0, gt=0)
    psi_enter: float = Field(0.25, gt=0)
    psi_exit: float = Field(0.1, gt=0)
    ks_enter: float = Field(0.2, gt=0, le=1)
    ks_exit: float = Field(0.1, gt=0, le=1)
    min_values: int = Field(50, ge=1)
    drift_share: float = Field(0.3, gt=0, le=1)
    severe_share: float = Field(0.3, gt=0, le=1)
    drift_minutes: float = Field(120.0, ge=0)
    severe_minutes: float = Field(240.0, ge=0)
    persistence: int = Field(3, ge=1)
    severe_persistence: int = Field(10, ge=1)
    concept_minutes: float | None = Field(None, ge=0)
    confidence_tolerance: float = Field(0.1, gt=0, le=1)
    accuracy_drop: float = Field(0.1, gt=0, le=1)
    chance_sd: float = Field(3.0, ge=0)
    floor_sd: float = Field(2.0, ge=0)
    min_predictions: int = Field(50, ge=1)
    min_resolved: int = Field(200, ge=1)
    rollback: bool = True
    cooldown_minutes: float = Field(360.0, ge=0)
    retry_seconds: float = Field(5.0, gt=0)
    max_retry_seconds: float = Field(120.0, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        for name, low, high in (
            ("psi", self.psi_exit, self.psi_enter),
            ("ks", self.ks_exit, self.ks_enter),
        ):
            if low > high:
                raise ConfigError(
                    f"{name}_exit={low} is above {name}_enter={high}",
                    fix=f"set {name}_exit <= {name}_enter (the gap is the hysteresis)",
                )
        if self.drift_share > self.severe_share:
            raise ConfigError(
                f"drift_share={self.drift_share} is above severe_share={self.severe_share}",
                fix="set drift_share <= severe_share",
            )
        return self

    @classmethod
    def from_yaml(cls, path: Path | str) -> MonitorConfig:
        """Read a monitor config (the keys above; a ``monitor:`` top level is accepted)."""
        data = read_yaml(path, what="monitor config", example="configs/monitor/default.yaml")
        if set(data) == {"monitor"}:
            data = data["monitor"] or {}
        return cls(**data)
