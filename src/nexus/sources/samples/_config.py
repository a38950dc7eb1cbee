"""Configuration of the samples source."""

from __future__ import annotations

from pydantic import Field, field_validator

from nexus.config import FrozenConfig
from nexus.errors import UnknownSymbolError
from nexus.sources.samples._registry import SAMPLES

__all__ = ["SamplesConfig"]


class SamplesConfig(FrozenConfig):
    """Which shipped samples to load.

    Parameters
    ----------
    names : list of str
        Sample names, case-insensitive: ``GOOG``, ``EURUSD``, ``SPX``,
        ``NASDAQ``. Default: all of them.

    Raises
    ------
    UnknownSymbolError
        If a name is not a known sample.

    Examples
    --------
    >>> SamplesConfig(names=["goog"]).names
    ['GOOG']
    >>> SamplesConfig(names=["NDX"])
    Traceback (most recent call last):
    ...
    nexus.errors.UnknownSymbolError: sample 'NDX' is not known; use one of GOOG, EURUSD, SPX, NASDAQ
    """

    names: list[str] = Field(default_factory=lambda: list(SAMPLES), min_length=1)

    @field_validator("names")
    @classmethod
    def _check_names(cls, value: list[str]) -> list[str]:
        out = []
        for name in value:
            key = name.strip().upper()
            if key not in SAMPLES:
                raise UnknownSymbolError(
                    f"sample {name!r} is not known", fix=f"use one of {', '.join(SAMPLES)}"
                )
            if key not in out:
                out.append(key)
        return out
