"""Configuration of the files source."""

from __future__ import annotations

import re
import zoneinfo
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from nexus.config import FrozenConfig
from nexus.domain import FOREX_CALENDAR, Interval
from nexus.errors import ConfigError

__all__ = ["FilesConfig"]

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class FilesConfig(FrozenConfig):
    """What to read and how to interpret its timestamps.

    Parameters
    ----------
    paths : list of Path
        Files (``.csv``, ``.csv.gz``, ``.parquet``, ``.pq``), folders (searched
        recursively) or ``.zip`` archives holding such files.
    symbol : str, optional
        The symbol of files that have no symbol column. Default: the file name
        without its extensions, upper-cased (``aapl.csv.gz`` -> ``AAPL``).
    interval : str, optional
        ``1m``, ``5m``, ``15m``, ``30m``, ``1h`` or ``1d``. Default: date-only
        timestamps mean ``1d``; otherwise the median spacing of the timestamps
        must match one of those intervals.
    tz : str
        The time zone of timestamps written without an offset. Timestamps with an
        offset (``...-05:00``, ``...Z``) are converted from their own.
    label : {"open", "close"}
        Whether the vendor labels intraday bars by their open or their close
        time; close labels are moved back by one interval. Daily bars are
        labelled by their date either way.
    sha256 : str, optional
        The expected SHA-256 of the (single) zip archive among ``paths``. A
        sidecar ``<archive>.sha256`` file next to an archive is checked as well.
    calendar : str
        The exchange calendar of the symbols (``XNYS``, ``FX``, ``24/7``, ...).
    kind : str, optional
        What the symbols are (``equity``, ``index``, ``fx``, ``crypto``).
        Default: ``fx`` for an ``FX`` or ``24/5`` calendar, ``crypto`` for ``24/7``,
        otherwise ``equity``.

    Examples
    --------
    >>> FilesConfig(paths=["data/aapl.csv"]).label
    'open'
    >>> FilesConfig(paths=["x.csv"], interval="7m")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for FilesConfig
    ...
    """

    paths: list[Path] = Field(min_length=1)
    symbol: str | None = None
    interval: str | None = None
    tz: str = "America/New_York"
    label: Literal["open", "close"] = "open"
    sha256: str | None = None
    calendar: str = "XNYS"
    kind: str | None = None

    @field_validator("symbol")
    @classmethod
    def _check_symbol(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.strip():
            raise ConfigError(
                "symbol '' is empty", fix="give a ticker such as AAPL, or leave symbol out"
            )
        return value.strip().upper()

    @field_validator("interval")
    @classmethod
    def _check_interval(cls, value: str | None) -> str | None:
        return None if value is None else Interval.parse(value).value

    @field_validator("tz")
    @classmethod
    def _check_tz(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"tz {value!r} is not a known time zone",
                fix="use an IANA name such as America/New_York, Europe/London or UTC",
            ) from None
        return value

    @field_validator("sha256")
    @classmethod
    def _check_sha256(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digest = value.strip().lower()
        if not _HEX64.match(digest):
            raise ConfigError(
                f"sha256 {value!r} is not a SHA-256 checksum",
                fix="give the 64 hex digits printed by `sha256sum ARCHIVE.zip`",
            )
        return digest

    @property
    def symbol_kind(self) -> str:
        """The ``kind`` recorded for the symbols read."""
        if self.kind:
            return self.kind
        return {FOREX_CALENDAR: "fx", "24/5": "fx", "24/7": "crypto"}.get(self.calendar, "equity")
