"""Durable, atomic file writes: a reader sees the old content or the new, never a mix."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

__all__ = ["append_line", "fsync_dir", "fsync_tree", "write_atomic"]


def fsync_dir(path: Path) -> None:
    """Flush ``path``'s directory entries (renames, new files) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """Flush every file and directory under ``root`` (and ``root``) to disk."""
    for path in sorted(root.rglob("*")):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
        elif path.is_dir():
            fsync_dir(path)
    fsync_dir(root)


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically and durably.

    The text goes to a temporary file in the same directory, which is flushed,
    fsynced and renamed over ``path`` (``os.replace``); then the directory is
    fsynced so the rename survives a crash.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "state.json"
    >>> write_atomic(path, "{}")
    >>> path.read_text(), [p.name for p in path.parent.iterdir()]
    ('{}', ['state.json'])
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def append_line(path: Path, line: str) -> None:
    """Append one line to ``path`` with a single ``O_APPEND`` write, then fsync."""
    data = (line.rstrip("\n") + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
