"""Slot and version names: safe single path components, versions sortable by time."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from nexus.errors import ConfigError

__all__ = ["DEFAULT_SLOTS", "check_name", "new_version"]

DEFAULT_SLOTS: tuple[str, ...] = ("lstm", "transformer")
"""The slots of the dual-confirmation decision (seed 004): listed even before any training."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def check_name(name: str, *, what: str) -> str:
    """``name`` if it is a safe folder name (letters, digits, ``_.-``, not starting with ``.``).

    Raises
    ------
    ConfigError
        Otherwise, naming ``what`` (``"slot"`` or ``"version"``).

    Examples
    --------
    >>> check_name("lstm", what="slot")
    'lstm'
    >>> check_name("../x", what="slot")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nexus.errors.ConfigError: slot '../x' is not a valid name; use letters, digits, ...
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise ConfigError(
            f"{what} {name!r} is not a valid name",
            fix="use letters, digits, '_', '.' and '-', starting with a letter or digit",
        )
    return name


def new_version(tag: str = "") -> str:
    """A new version name: UTC time to the microsecond, then ``tag`` (e.g. a data hash).

    Names sort in the order they were made.

    Examples
    --------
    >>> v = new_version("ab12cd34")
    >>> len(v), v[8], v.endswith("-ab12cd34")
    (30, 'T', True)
    """
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
    return check_name(f"{stamp}-{tag}" if tag else stamp, what="version")
