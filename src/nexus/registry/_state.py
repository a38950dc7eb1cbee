"""``model_config.json``: champion, previous champion and decision history of every slot.

Read defensively: a missing file is an empty registry; a torn, garbled or
hand-broken file is an error naming the file and the fix, never a silent reset.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationError, field_validator, model_validator

from nexus.config import FrozenConfig
from nexus.errors import ConfigError, RegistryError
from nexus.registry._names import check_name

__all__ = [
    "ACTIONS",
    "FORMAT",
    "Action",
    "Decision",
    "RegistryState",
    "SlotState",
    "clean_figures",
    "read_state",
    "render_state",
]

FORMAT = 1
Action = Literal["promote", "rollback", "keep", "refused"]
ACTIONS: tuple[str, ...] = ("promote", "rollback", "keep", "refused")


def _version_or_none(value: str | None) -> str | None:
    return None if value is None else check_name(value, what="version")


class Decision(FrozenConfig):
    """One entry of a slot's history.

    Attributes
    ----------
    time : datetime
        When it was recorded (UTC).
    action : {"promote", "rollback", "keep", "refused"}
        ``promote`` and ``rollback`` changed the champion; ``keep`` (the challenger
        lost) and ``refused`` (the challenger could not be used) did not.
    version : str or None
        The version decided about: the one promoted, rolled back to, or the challenger.
    before : str or None
        The champion before the decision.
    champion, previous : str or None
        The champion and previous champion after it.
    reason : str
        Why, in words.
    figures : dict
        The numbers behind it (metrics, margins, p-values), JSON values only.
    """

    time: datetime
    action: Action
    version: str | None = None
    before: str | None = None
    champion: str | None = None
    previous: str | None = None
    reason: str
    figures: dict[str, Any] = Field(default_factory=dict)

    _versions = field_validator("version", "before", "champion", "previous")(_version_or_none)


class SlotState(FrozenConfig):
    """What ``model_config.json`` says about one slot.

    ``earlier`` holds the champions before ``previous``, oldest first: each
    rollback steps back one (champion <- previous <- last of earlier).
    """

    champion: str | None = None
    previous: str | None = None
    earlier: tuple[str, ...] = ()
    history: tuple[Decision, ...] = ()

    _versions = field_validator("champion", "previous")(_version_or_none)

    @field_validator("earlier")
    @classmethod
    def _check_earlier(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_name(v, what="version") for v in value)

    @model_validator(mode="after")
    def _chain(self) -> SlotState:
        if self.previous and not self.champion:
            raise ValueError("a previous champion without a champion")
        if self.earlier and not self.previous:
            raise ValueError("earlier champions without a previous champion")
        return self


class RegistryState(FrozenConfig):
    """The whole ``model_config.json``."""

    format: Literal[1] = FORMAT
    updated_at: datetime | None = None
    slots: dict[str, SlotState] = Field(default_factory=dict)

    @field_validator("slots")
    @classmethod
    def _check_slots(cls, value: dict[str, SlotState]) -> dict[str, SlotState]:
        for slot in value:
            check_name(slot, what="slot")
        return value

    def slot(self, name: str) -> SlotState:
        """The state of slot ``name`` (empty if it has none yet)."""
        return self.slots.get(name, SlotState())

    def with_slot(self, name: str, state: SlotState) -> RegistryState:
        """A copy with slot ``name`` replaced and ``updated_at`` set to now."""
        slots = {**self.slots, name: state}
        return RegistryState(updated_at=datetime.now(UTC), slots=dict(sorted(slots.items())))


def _fix(path: Path) -> str:
    return (
        f"restore {path.name} from a backup, or move it aside (the versions under "
        f"{path.parent} are kept) and name the champions again with "
        "'nexus models promote SLOT VERSION'"
    )


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


def read_state(path: Path) -> RegistryState:
    """Read ``model_config.json`` at ``path``; an absent file is an empty registry.

    Raises
    ------
    RegistryError
        If the file cannot be read, is not JSON, or does not follow the schema.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return RegistryState()
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{path} cannot be read ({exc})", fix=_fix(path)) from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise RegistryError(f"{path} is not valid JSON ({exc})", fix=_fix(path)) from None
    if isinstance(data, dict) and data.get("format", FORMAT) != FORMAT:
        raise RegistryError(
            f"{path} has format {data.get('format')!r}; this Nexus reads format {FORMAT}",
            fix="upgrade Nexus to the version that wrote it",
        )
    try:
        return RegistryState.model_validate(data)
    except (ValidationError, ConfigError) as exc:
        detail = _describe(exc) if isinstance(exc, ValidationError) else str(exc)
        raise RegistryError(
            f"{path} does not follow the model_config.json schema ({detail})", fix=_fix(path)
        ) from None


def render_state(state: RegistryState) -> str:
    """``state`` as the text of ``model_config.json`` (indented JSON, strict: no NaN)."""
    return json.dumps(state.model_dump(mode="json"), indent=2, allow_nan=False) + "\n"


def _plain(value: Any, where: str) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(list(value))]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise ConfigError(
        f"figure {where} is a {type(value).__name__}, not a JSON value",
        fix="pass numbers, strings, booleans, lists and mappings of them",
    )


def clean_figures(figures: Mapping[str, Any] | None) -> dict[str, Any]:
    """``figures`` as plain JSON values: NumPy scalars unwrapped, NaN and inf as null.

    Examples
    --------
    >>> clean_figures({"macro_f1": np.float64(0.41), "p": float("nan"), "folds": (1, 2)})
    {'macro_f1': 0.41, 'p': None, 'folds': [1, 2]}
    """
    return _plain(dict(figures or {}), "figures")
