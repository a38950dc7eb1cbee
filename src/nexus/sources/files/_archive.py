"""Zip archives: checksums, safety checks and reproducible staging.

An archive is extracted once into ``<staging>/<first 16 hex of its sha256>/``:
the same archive always lands in the same folder, a changed archive in a new
one. Extraction goes to a temporary folder beside it that is renamed into
place when complete, so a folder that exists is always whole and is reused.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from nexus.errors import ArchiveError, ChecksumError

__all__ = ["expected_digest", "sha256_file", "stage_archive", "verify_archive"]

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_CHUNK = 1 << 20
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, NotImplementedError)


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of the file at ``path``, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sidecar_digest(sidecar: Path) -> str:
    """Read ``<hex>`` or ``<hex>  <name>`` from a ``.sha256`` sidecar file."""
    text = sidecar.read_text(encoding="utf-8", errors="replace").strip()
    token = text.split()[0] if text else ""
    if not _HEX64.match(token):
        raise ChecksumError(
            f"checksum file {sidecar} does not start with a SHA-256 (64 hex digits)",
            fix=f"write it with `sha256sum {sidecar.stem} > {sidecar.name}` or delete it",
        )
    return token.lower()


def expected_digest(archive: Path, configured: str | None) -> list[tuple[str, str]]:
    """Return the checksums ``archive`` must match, with where each came from.

    Parameters
    ----------
    archive : Path
        The zip archive.
    configured : str, optional
        The ``sha256`` from the configuration.

    Returns
    -------
    list of (digest, origin)
        From the configuration and from a sidecar ``<archive>.sha256`` file.
    """
    out = []
    if configured:
        out.append((configured, "the configured sha256"))
    sidecar = archive.with_name(archive.name + ".sha256")
    if sidecar.is_file():
        out.append((_sidecar_digest(sidecar), f"checksum file {sidecar}"))
    return out


def verify_archive(archive: Path, expected: list[tuple[str, str]]) -> str:
    """Return the archive's SHA-256 after checking it against ``expected``.

    Raises
    ------
    ChecksumError
        If the archive does not match one of the expected digests.
    """
    actual = sha256_file(archive)
    for digest, origin in expected:
        if digest != actual:
            raise ChecksumError(
                f"archive {archive} has sha256 {actual}, but {origin} expects {digest}",
                fix="download the archive again, or correct the expected checksum",
            )
    return actual


def _unsafe(name: str) -> bool:
    """True for an entry that would land outside the extraction folder."""
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return True
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return ".." in parts


def _check_entries(archive: Path, zf: zipfile.ZipFile) -> None:
    bad = [info.filename for info in zf.infolist() if _unsafe(info.filename)]
    if bad:
        raise ArchiveError(
            f"archive {archive} has entries that point outside it: {bad[:5]}",
            fix="re-create the archive with relative paths (no leading '/' and no '..')",
        )
    corrupt = zf.testzip()
    if corrupt is not None:
        raise ArchiveError(
            f"archive {archive} is corrupt: entry {corrupt!r} fails its CRC check",
            fix="download or copy the archive again",
        )


def _extract(archive: Path, target: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            _check_entries(archive, zf)
            zf.extractall(target)
    except _ZIP_ERRORS as exc:
        raise ArchiveError(
            f"archive {archive} cannot be read as a zip file ({exc})",
            fix="check that it is a complete .zip archive; download or copy it again",
        ) from exc


def stage_archive(archive: Path, digest: str, staging: Path) -> Path:
    """Extract ``archive`` into ``staging/<digest[:16]>`` unless already there.

    Parameters
    ----------
    archive : Path
        A verified zip archive.
    digest : str
        Its SHA-256.
    staging : Path
        The staging root (``Settings.staging_dir``).

    Returns
    -------
    Path
        The folder holding the extracted files.

    Raises
    ------
    ArchiveError
        If the archive is unreadable, corrupt or has unsafe entry names.
    """
    final = staging / digest[:16]
    if final.is_dir():
        return final
    staging.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{digest[:16]}-", dir=staging))
    try:
        _extract(archive, tmp)
        os.rename(tmp, final)
    except OSError:
        if not final.is_dir():  # not a lost race with another process
            raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(tmp)
    return final
