"""Operations routes: health, readiness, Prometheus metrics and the HTML reports."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import FileResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from nexus.api._errors import ERROR_RESPONSES, HTTPError
from nexus.api._rows import plain
from nexus.api._state import AppState, state_of
from nexus.client._schemas import Health, Readiness, ReportInfo
from nexus.errors import SourceNotFoundError

__all__ = ["router"]

router = APIRouter(tags=["operations"])
State = Annotated[AppState, Depends(state_of)]

_REPORT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,200}\.html")
_ENGINE_DOWN = ("error", "failed", "stopped")


def _check(probe: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return {"status": "ok", "info": plain(probe())}
    except Exception as exc:  # a health check reports failures, it does not raise them
        return {"status": "error", "detail": str(exc) or type(exc).__name__}


def _store_info(state: AppState) -> dict[str, Any]:
    series = state.store.series()
    return {"backend": state.store.backend, "series": len(series)}


def _bus_info(state: AppState) -> dict[str, Any]:
    bus = state.bus
    status = dict(bus.status()) if hasattr(bus, "status") else {}
    if status.get("connected") is False:
        raise ConnectionError(f"{type(bus).__name__} is not connected: {plain(status)}")
    return {"kind": type(bus).__name__, **status, "stream": _stream(state)}


def _stream(state: AppState) -> dict[str, Any]:
    stats = state.hub.stats()
    return {k: v for k, v in stats.items() if k != "per_client"} | {"running": state.hub.started}


def _registry_info(state: AppState) -> dict[str, Any]:
    registry = state.registry
    return {"champions": {s: registry.champion(s) for s in registry.slots()}}


def _engine(state: AppState) -> dict[str, Any]:
    if state.engine_status is None:
        return {"status": "absent", "detail": "no live engine in this process"}
    checked = _check(lambda: dict(state.engine_status()))
    engine_state = str(checked.get("info", {}).get("state", ""))
    if checked["status"] == "ok" and engine_state in _ENGINE_DOWN:
        checked["status"], checked["detail"] = "error", f"engine is {engine_state}"
    return checked


def _monitor(state: AppState) -> dict[str, Any]:
    """The drift monitor in this process, or else the newest check a monitor stored."""
    if state.monitor_status is not None:
        checked = _check(lambda: _monitor_info(state.monitor_status()))
        monitor_state = str(checked.get("info", {}).get("state", ""))
        if checked["status"] == "ok" and monitor_state != "running":
            problem = checked["info"].get("problem") or f"monitor is {monitor_state}"
            checked["status"], checked["detail"] = "error", problem
        return checked
    try:
        latest = state.store.latest_drift()
    except Exception as exc:  # a health check reports failures, it does not raise them
        return {"status": "error", "detail": str(exc) or type(exc).__name__}
    if latest.empty:
        return {"status": "absent", "detail": "no drift check stored (run nexus monitor)"}
    newest = latest["at"].max()
    age = (datetime.now(UTC) - newest.to_pydatetime()).total_seconds()
    statuses = dict(zip(latest["slot"], latest["status"], strict=True))
    return {"status": "ok", "info": plain({"last_check": newest, "age_s": age, "slots": statuses})}


def _monitor_info(status: Mapping[str, Any]) -> dict[str, Any]:
    slots = status.get("slots") or {}
    return {
        "state": status.get("state"),
        "problem": status.get("problem", ""),
        "failures": status.get("failures", 0),
        "slots": {slot: check.get("status") for slot, check in slots.items()},
    }


def champions_of(status: Mapping[str, Any]) -> dict[str, str | None]:
    """Slot -> served version from an engine status.

    ``champions`` may be a mapping (slot -> version) or a list of dicts with
    ``slot`` and ``version``; slots listed in ``slots`` without one map to None.

    Examples
    --------
    >>> champions_of({"slots": ["lstm", "gru"], "champions": [{"slot": "lstm", "version": "v1"}]})
    {'lstm': 'v1', 'gru': None}
    """
    found = status.get("champions") or {}
    if isinstance(found, Mapping):
        out = {str(k): (None if v is None else str(v)) for k, v in found.items()}
    else:
        out = {str(c["slot"]): c.get("version") for c in found}
    for slot in status.get("slots") or ():
        out.setdefault(str(slot), None)
    return out


@router.get("/api/health", response_model=Health)
def health(state: State) -> dict[str, Any]:
    """Each component's status: store, bus (with the stream hub), registry, engine, monitor."""
    components = {
        "store": _check(lambda: _store_info(state)),
        "bus": _check(lambda: _bus_info(state)),
        "registry": _check(lambda: _registry_info(state)),
        "engine": _engine(state),
        "monitor": _monitor(state),
    }
    bad = any(c["status"] == "error" for c in components.values())
    return {"status": "degraded" if bad else "ok", "components": components}


@router.get(
    "/api/ready",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready; reasons say why."}},
)
def ready(state: State) -> Any:
    """200 when the store answers and the engine (if any) serves a champion in every slot."""
    reasons = []
    store = _check(lambda: _store_info(state))
    if store["status"] != "ok":
        reasons.append(f"the store does not answer: {store['detail']}")
    if state.engine_status is not None:
        try:
            champions = champions_of(state.engine_status())
        except Exception as exc:  # readiness reports, it does not raise
            champions, reasons = {}, [*reasons, f"the engine status fails: {exc}"]
        missing = sorted(s for s, v in champions.items() if v is None)
        if not champions:
            reasons.append("the engine serves no champions yet")
        elif missing:
            reasons.append(f"the engine has no champion for {', '.join(missing)}")
    body = {"ready": not reasons, "reasons": reasons}
    return body if not reasons else JSONResponse(body, status_code=503)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(state: State) -> Response:
    """Prometheus metrics in the text exposition format."""
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/reports", response_model=list[ReportInfo])
def reports(state: State) -> list[dict[str, Any]]:
    """The HTML reports in ``NEXUS_HOME/reports``, newest first."""
    folder = state.reports_dir
    if not folder.is_dir():
        return []
    out = []
    for path in folder.iterdir():
        if not _REPORT_NAME.fullmatch(path.name) or not path.is_file():
            continue
        stat = path.stat()
        out.append(
            {
                "name": path.name,
                "url": f"/reports/{path.name}",
                "modified": datetime.fromtimestamp(stat.st_mtime, UTC),
                "size": stat.st_size,
            }
        )
    return sorted(out, key=lambda r: (r["modified"], r["name"]), reverse=True)


def _report_path(folder: FilePath, name: str) -> FilePath:
    """``folder / name`` if ``name`` is a plain report name of a file inside ``folder``."""
    missing = HTTPError(
        404,
        SourceNotFoundError(
            f"report {name!r} does not exist", fix="GET /api/reports lists the reports"
        ),
    )
    if not _REPORT_NAME.fullmatch(name) or ".." in name:
        raise missing
    try:
        root = folder.resolve(strict=True)
        path = (folder / name).resolve(strict=True)
    except OSError:
        raise missing from None
    if path.parent != root or not path.is_file():
        raise missing
    return path


@router.get(
    "/reports/{name}",
    response_class=FileResponse,
    responses={200: {"content": {"text/html": {}}}, **ERROR_RESPONSES},
)
def report(state: State, name: Annotated[str, Path(max_length=256)]) -> FileResponse:
    """One HTML report from ``NEXUS_HOME/reports`` (nothing outside that folder)."""
    return FileResponse(_report_path(state.reports_dir, name), media_type="text/html")
