"""Model routes: the registry read-only, and promote, rollback and retrain behind the API key."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute

from nexus.api._auth import require_api_key
from nexus.api._errors import ERROR_RESPONSES, HTTPError
from nexus.api._rows import plain
from nexus.api._state import AppState, state_of
from nexus.client._schemas import (
    DecisionInfo,
    JobInfo,
    ModelsInfo,
    PromoteRequest,
    RetrainRequest,
    RollbackRequest,
    SlotDetail,
)
from nexus.errors import ArtifactError, ConfigError, RegistryError
from nexus.registry import Registry

__all__ = ["router"]


class _KeyFirstRoute(APIRoute):
    """Checks the API key before FastAPI reads the body, so a refused request is refused
    (401/403) whatever its body holds, and nothing about it is looked at."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            require_api_key(request, request.headers.get("x-api-key"))
            return await handler(request)

        return guarded


router = APIRouter(prefix="/api", tags=["models"], responses=ERROR_RESPONSES)
guarded = APIRouter(
    prefix="/api",
    tags=["models"],
    responses={
        **ERROR_RESPONSES,
        401: {"description": "The X-API-Key header is missing."},
        403: {"description": "The key is wrong, or the server has no NEXUS_API_KEYS."},
        409: {"description": "Refused by the registry, or a job is already running."},
    },
    route_class=_KeyFirstRoute,
    dependencies=[Depends(require_api_key)],
)

State = Annotated[AppState, Depends(state_of)]


def _require_slot(registry: Registry, slot: str) -> None:
    slots = registry.slots()
    if slot not in slots:
        raise HTTPError(
            404,
            RegistryError(
                f"model slot {slot!r} is unknown",
                fix=f"use one of {', '.join(slots)} (GET /api/models lists them)",
            ),
        )


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _created(folder: Path) -> datetime | None:
    """When a version was made: its name's UTC stamp, else the folder's mtime."""
    try:
        return datetime.strptime(folder.name[:22], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
    except ValueError:
        pass
    try:
        return datetime.fromtimestamp(folder.stat().st_mtime, UTC)
    except OSError:
        return None


def _version(registry: Registry, slot: str, version: str, role: str, missing: bool) -> dict:
    folder = registry.path(slot, version)
    summary = _read_json(folder / "metrics.json").get("summary")
    return {
        "version": version,
        "role": role,
        "created": None if missing else _created(folder),
        "missing": missing,
        "model": _read_json(folder / "model" / "model.json").get("model"),
        "metrics": plain(summary) if isinstance(summary, dict) else None,
    }


def _drift(store) -> dict[str, str]:
    """Slot -> the status of its newest drift check, for the version it judged."""
    try:
        latest = store.latest_drift()
    except Exception:  # the badge is a nicety: a store hiccup must not fail the models list
        return {}
    return {f"{r.slot}/{r.version}": str(r.status) for r in latest.itertuples()}


def _slot(
    registry: Registry,
    slot: str,
    *,
    history: bool = False,
    drift: dict[str, str] | None = None,
) -> dict[str, Any]:
    state = registry.state(slot)
    on_disk = set(registry.versions(slot))
    roles = {state.champion: "champion", state.previous: "previous"}
    named = {v for v in (state.champion, state.previous) if v}
    versions = [
        _version(registry, slot, v, roles.get(v, ""), v not in on_disk)
        for v in sorted(on_disk | named)
    ]
    created = [v["created"] for v in versions if v["created"] is not None]
    judged = [d for d in state.history if d.figures and d.action in ("promote", "keep", "refused")]
    out: dict[str, Any] = {
        "slot": slot,
        "champion": state.champion,
        "previous": state.previous,
        "versions": versions,
        "last_validation": _decision(judged[-1]) if judged else None,
        "last_retrain": max(created) if created else None,
        "drift": (drift or {}).get(f"{slot}/{state.champion}", "unknown"),
    }
    if history:
        out["history"] = [_decision(d) for d in state.history]
    return out


def _decision(decision: Any) -> dict[str, Any]:
    return plain(decision.model_dump(mode="json"))


@router.get("/models", response_model=ModelsInfo)
def models(state: State) -> dict[str, Any]:
    """Every model slot: champion, previous champion, versions, last validation and retrain."""
    registry, drift = state.registry, _drift(state.store)
    return {"slots": [_slot(registry, s, drift=drift) for s in registry.slots()]}


@router.get("/models/{slot}", response_model=SlotDetail)
def model(state: State, slot: str) -> dict[str, Any]:
    """One model slot with its whole decision history, oldest first."""
    _require_slot(state.registry, slot)
    return _slot(state.registry, slot, history=True, drift=_drift(state.store))


@guarded.post("/models/{slot}/promote", response_model=DecisionInfo)
def promote(state: State, slot: str, body: PromoteRequest) -> dict[str, Any]:
    """Make ``version`` the champion of ``slot`` (checksums verified first)."""
    registry = state.registry
    _require_slot(registry, slot)
    try:
        registry.path(slot, body.version, existing=True)
    except (ArtifactError, ConfigError) as exc:
        raise HTTPError(404, exc) from None
    return _decision(registry.promote(slot, body.version, reason=body.reason))


@guarded.post("/models/{slot}/rollback", response_model=DecisionInfo)
def rollback(state: State, slot: str, body: RollbackRequest | None = None) -> dict[str, Any]:
    """Make the previous champion of ``slot`` the champion again."""
    _require_slot(state.registry, slot)
    body = body or RollbackRequest()
    return _decision(state.registry.rollback(slot, reason=body.reason))


def _retrain_work(state: AppState, config: Path, sessions: int) -> Callable[[], dict[str, Any]]:
    def work() -> dict[str, Any]:
        from nexus.training import ExperimentConfig, ValidationConfig, retrain

        experiment = ExperimentConfig.from_yaml(config)
        report = retrain(
            state.store,
            experiment,
            state.registry,
            validation=ValidationConfig(sessions=sessions),
        )
        return plain(report.to_json())

    return work


@guarded.post("/retrain", status_code=202, response_model=JobInfo)
def retrain(state: State, body: RetrainRequest | None = None) -> dict[str, Any]:
    """Start the nightly job now in a worker thread; ``GET /api/jobs/{id}`` follows it.

    One job runs at a time: while one runs, this answers 409.
    """
    body = body or RetrainRequest()
    config = state.retrain_config
    if not config.is_file():
        raise HTTPError(
            409,
            ConfigError(
                f"the server's retrain experiment config {str(config)!r} does not exist",
                fix="start the server from the project folder, or give create_app a "
                "retrain_config that exists",
            ),
        )
    params = {"sessions": body.sessions, "config": str(config)}
    job = state.jobs.submit("retrain", _retrain_work(state, config, body.sessions), params)
    return job.to_dict()


@router.get("/jobs/{job_id}", response_model=JobInfo)
def job(state: State, job_id: str) -> dict[str, Any]:
    """A background job's status and, once finished, its result or error."""
    found = state.jobs.get(job_id)
    if found is None:
        raise HTTPError(
            404,
            ConfigError(
                f"job {job_id!r} is unknown",
                fix="use the id POST /api/retrain returned (the server keeps the last 100 jobs)",
            ),
        )
    return found.to_dict()
