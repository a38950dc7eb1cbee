"""The checksum manifest of a version folder: SHA-256 of every file, and checking it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MANIFEST", "REQUIRED_FILES", "ManifestCheck", "check_manifest", "write_manifest"]

MANIFEST = "manifest.json"

REQUIRED_FILES: tuple[str, ...] = (
    "model/model.json",
    "model.onnx",
    "scaler.json",
    "features.yaml",
    "metrics.json",
    "fingerprint.json",
    "experiment.yaml",
)
"""Files every version holds (besides the manifest); ``model/`` may hold more."""

_CHUNK = 1 << 20


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files(folder: Path) -> list[str]:
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != MANIFEST
    )


def write_manifest(folder: Path) -> dict[str, str]:
    """Write ``folder/manifest.json``: relative path -> SHA-256 of every other file."""
    manifest = {name: _sha256(folder / name) for name in _files(folder)}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


@dataclass(frozen=True, slots=True)
class ManifestCheck:
    """The result of checking a version folder against its manifest.

    Attributes
    ----------
    ok : bool
        True when the manifest is readable, names every required file, and every
        file it names exists with its recorded SHA-256.
    missing : tuple of str
        Files the manifest (or the required set) names that are not there.
    changed : tuple of str
        Files whose SHA-256 differs from the manifest's.
    unlisted : tuple of str
        Required files the manifest does not list (their content is unchecked).
    extra : tuple of str
        Other files present but not in the manifest (reported, not fatal: never loaded).
    problem : str
        One line describing what is wrong; empty when ``ok``.
    """

    ok: bool
    missing: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    unlisted: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    problem: str = ""

    def to_dict(self) -> dict:
        """A JSON-ready form."""
        return {
            "ok": self.ok,
            "missing": list(self.missing),
            "changed": list(self.changed),
            "unlisted": list(self.unlisted),
            "extra": list(self.extra),
            "problem": self.problem,
        }


def _read(folder: Path) -> dict[str, str] | str:
    """The manifest, or a description of why it cannot be used."""
    path = folder / MANIFEST
    if not folder.is_dir():
        return f"the folder {folder} does not exist"
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        return f"{path} is missing"
    except (OSError, ValueError) as exc:
        return f"{path} is unreadable ({exc})"
    if not isinstance(manifest, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in manifest.items()
    ):
        return f"{path} is not a mapping of file names to SHA-256 digests"
    return manifest


def check_manifest(folder: Path) -> ManifestCheck:
    """Check every file of ``folder`` against ``manifest.json`` (never raises).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "model.onnx").write_bytes(b"onnx")
    >>> _ = write_manifest(folder)
    >>> check = check_manifest(folder)
    >>> check.ok, check.missing[:2]
    (False, ('experiment.yaml', 'features.yaml'))
    >>> _ = (folder / "model.onnx").write_bytes(b"ONNX")
    >>> check_manifest(folder).changed
    ('model.onnx',)
    """
    manifest = _read(folder)
    if isinstance(manifest, str):
        return ManifestCheck(ok=False, problem=manifest)
    wanted = sorted(set(manifest) | set(REQUIRED_FILES))
    missing = tuple(n for n in wanted if not (folder / n).is_file())
    changed = tuple(
        n for n in sorted(manifest) if (folder / n).is_file() and _sha256(folder / n) != manifest[n]
    )
    unlisted = tuple(n for n in REQUIRED_FILES if n not in manifest and n not in missing)
    extra = tuple(n for n in _files(folder) if n not in manifest and n not in unlisted)
    parts = []
    if missing:
        parts.append("missing " + ", ".join(missing))
    if changed:
        parts.append("checksum mismatch in " + ", ".join(changed))
    if unlisted:
        parts.append(f"{MANIFEST} does not list " + ", ".join(unlisted))
    return ManifestCheck(
        ok=not parts,
        missing=missing,
        changed=changed,
        unlisted=unlisted,
        extra=extra,
        problem="; ".join(parts),
    )
