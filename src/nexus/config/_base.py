"""The base of every Nexus configuration object."""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel, ConfigDict

__all__ = ["FrozenConfig"]


class FrozenConfig(BaseModel):
    """A frozen, keyword-only configuration that rejects unknown fields.

    ``config_id`` is a short hash of the values, usable as a run or cache key.

    Examples
    --------
    >>> class Window(FrozenConfig):
    ...     length: int = 60
    >>> Window(length=30).length
    30
    >>> Window(lenght=30)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for Window
    ...
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    @property
    def config_id(self) -> str:
        """A 16-hex-digit hash of this configuration's JSON form."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]
