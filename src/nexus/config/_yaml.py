"""Reading a YAML config file into a mapping, with one readable error per problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from nexus.errors import ConfigError, SourceNotFoundError

__all__ = ["read_yaml"]


def read_yaml(path: Path | str, *, what: str = "config file", example: str = "") -> dict[str, Any]:
    """The mapping a YAML file holds.

    Parameters
    ----------
    path : Path or str
        The file.
    what : str
        What the file is, for messages ("experiment config", "feature spec", ...).
    example : str
        A file to point to in the fix, e.g. ``configs/simulator/default.yaml``.

    Raises
    ------
    SourceNotFoundError
        If ``path`` is not a file (a ``ConfigError`` subclass would hide that it is missing).
    ConfigError
        If the file is not YAML (with the line of the problem) or not a mapping.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "sim.yaml"
    >>> _ = path.write_text("seed: 7")
    >>> read_yaml(path)
    {'seed': 7}
    """
    path = Path(path)
    see = f" (see {example})" if example else ""
    if not path.is_file():
        raise SourceNotFoundError(f"{what} {path} does not exist", fix=f"check the path{see}")
    try:
        loaded = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{what} {path} is not valid YAML{where}", fix="fix its syntax") from None
    if not isinstance(loaded, dict):
        raise ConfigError(
            f"{what} {path} does not hold a mapping", fix=f"write it as `key: value` lines{see}"
        )
    return loaded
