"""Read-only routes of the drift monitor: stored alerts and drift checks."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Path, Query

from nexus.api._errors import ERROR_RESPONSES
from nexus.api._params import as_utc
from nexus.api._rows import plain
from nexus.api._state import AppState, state_of
from nexus.client._schemas import AlertInfo, DriftInfo

__all__ = ["drift_rows", "router"]

router = APIRouter(prefix="/api", tags=["monitoring"], responses=ERROR_RESPONSES)
State = Annotated[AppState, Depends(state_of)]


def _details(text: object) -> dict[str, Any]:
    try:
        found = json.loads(text) if isinstance(text, str) and text else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def drift_rows(frame: pd.DataFrame, *, features: bool = True) -> list[dict[str, Any]]:
    """Stored drift checks as :class:`~nexus.client.DriftInfo` dicts, in frame order."""
    out = []
    for row in frame.to_dict("records"):
        details = _details(row.pop("details", ""))
        scored = [
            {"name": name, **values} for name, values in (details.get("features") or {}).items()
        ]
        scored.sort(key=lambda f: -(f.get("psi") or 0.0))
        row["bar_ts"] = None if pd.isna(row.get("bar_ts")) else row["bar_ts"]
        out.append(
            plain(
                {
                    **row,
                    "action": details.get("action", ""),
                    "accuracy_base": details.get("accuracy_base"),
                    "events": details.get("events", []),
                    "features": scored if features else scored[:5],
                }
            )
        )
    return out


@router.get("/alerts", response_model=list[AlertInfo])
def alerts(
    state: State,
    limit: Annotated[int, Query(ge=1, le=1000, description="The newest N alerts.")] = 50,
    level: Annotated[Literal["info", "warning", "critical"] | None, Query()] = None,
    slot: Annotated[str | None, Query(max_length=64, description="Of this slot only.")] = None,
    since: Annotated[
        datetime | None, Query(description="Only alerts raised at or after this time.")
    ] = None,
) -> list[dict[str, Any]]:
    """Stored alerts (drift, rollbacks, monitor faults), newest first."""
    frame = state.store.read_alerts(
        start=as_utc(since, "since"), level=level, slot=slot, limit=limit
    )
    rows = frame.iloc[::-1].to_dict("records")
    return [plain({**r, "details": _details(r["details"])}) for r in rows]


@router.get("/drift", response_model=list[DriftInfo])
def drift(state: State) -> list[dict[str, Any]]:
    """The newest drift check of each slot (empty until a monitor has checked)."""
    return drift_rows(state.store.latest_drift())


@router.get("/drift/{slot}", response_model=list[DriftInfo])
def drift_history(
    state: State,
    slot: Annotated[str, Path(max_length=64, description="The model slot, e.g. lstm.")],
    limit: Annotated[int, Query(ge=1, le=5000, description="The newest N checks.")] = 200,
) -> list[dict[str, Any]]:
    """A slot's drift checks, oldest first, each with its five highest-PSI features."""
    return drift_rows(state.store.read_drift(slot, limit=limit), features=False)
