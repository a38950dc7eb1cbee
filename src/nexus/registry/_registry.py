"""The model registry: versions of each slot, and which one is champion.

``NEXUS_HOME/models/`` holds one folder per slot, one sub-folder per version
(written whole or not at all, with a checksum manifest), and
``model_config.json`` naming each slot's champion, previous champion and
history. Every change to ``model_config.json`` happens under a file lock and
lands atomically, so concurrent promote, rollback and retrain never tear it.
"""

from __future__ import annotations

import difflib
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from nexus.config import Settings
from nexus.errors import ArtifactError, ConfigError, RegistryError
from nexus.registry._alerts import Alert, AlertSink, log_alert, read_alerts, write_alert
from nexus.registry._artifact import Artifact, read_artifact
from nexus.registry._atomic import fsync_dir, fsync_tree, write_atomic
from nexus.registry._manifest import REQUIRED_FILES, ManifestCheck, check_manifest, write_manifest
from nexus.registry._names import DEFAULT_SLOTS, check_name, new_version
from nexus.registry._state import (
    Action,
    Decision,
    SlotState,
    clean_figures,
    read_state,
    render_state,
)

__all__ = ["CONFIG_FILE", "Registry"]

CONFIG_FILE = "model_config.json"
_ALERTS_FILE = "alerts.jsonl"
_LIST_HINT = "see 'nexus models list'"


class Registry:
    """Versioned model artifacts and the champion of each slot, under ``home/models``.

    Parameters
    ----------
    home : Path
        ``NEXUS_HOME``.
    slots : iterable of str
        Slots always listed, champion or not (default ``lstm``, ``transformer``).
        Any other slot with versions on disk or in ``model_config.json`` is listed too.
    alert : callable, optional
        Called with an :class:`Alert` whenever a missing or corrupt artifact is
        refused (default: a structured warning log record). Every alert is also
        appended to ``home/models/alerts.jsonl``. A sink should not raise.
    lock_timeout : float
        Seconds to wait for the ``model_config.json`` lock before giving up.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> registry = Registry(pathlib.Path(tempfile.mkdtemp()))
    >>> registry.slots(), registry.champion("lstm"), registry.versions("lstm")
    (('lstm', 'transformer'), None, ())
    >>> registry.rollback("lstm", reason="drift")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nexus.errors.RegistryError: slot 'lstm' has no previous champion to roll back to; ...
    """

    def __init__(
        self,
        home: Path | str,
        *,
        slots: Iterable[str] = DEFAULT_SLOTS,
        alert: AlertSink = log_alert,
        lock_timeout: float = 60.0,
    ) -> None:
        self.home = Path(home)
        self.root = self.home / "models"
        self.config_path = self.root / CONFIG_FILE
        self._slots = tuple(dict.fromkeys(check_name(s, what="slot") for s in slots))
        self._alert = alert
        self._lock_timeout = lock_timeout

    @classmethod
    def from_settings(cls, settings: Settings, *, alert: AlertSink = log_alert) -> Registry:
        """The registry under ``settings.home`` with ``settings.model_slots``."""
        return cls(settings.home, slots=settings.model_slots, alert=alert)

    def __repr__(self) -> str:
        return f"Registry({str(self.home)!r}, slots={self._slots!r})"

    # -- reading -------------------------------------------------------------------------

    def slots(self) -> tuple[str, ...]:
        """The configured slots, then any other slot on disk or in ``model_config.json``."""
        on_disk = [p.name for p in self._subfolders(self.root)]
        named = read_state(self.config_path).slots
        extra = sorted((set(on_disk) | set(named)) - set(self._slots))
        return self._slots + tuple(extra)

    def versions(self, slot: str) -> tuple[str, ...]:
        """The versions of ``slot``, oldest first (names sort by creation time)."""
        return tuple(sorted(p.name for p in self._subfolders(self._slot_dir(slot))))

    def path(self, slot: str, version: str, *, existing: bool = False) -> Path:
        """The folder of ``slot``'s ``version``.

        Raises
        ------
        ArtifactError
            If ``existing`` and the folder does not exist (the fix names close matches).
        """
        folder = self._slot_dir(slot) / check_name(version, what="version")
        if existing and not folder.is_dir():
            raise ArtifactError(
                f"model {slot}/{version} does not exist", fix=self._unknown_fix(slot, version)
            )
        return folder

    def state(self, slot: str) -> SlotState:
        """What ``model_config.json`` says about ``slot``: champion, previous, history."""
        return read_state(self.config_path).slot(check_name(slot, what="slot"))

    def champion(self, slot: str) -> str | None:
        """The champion version of ``slot``, or None."""
        return self.state(slot).champion

    def previous(self, slot: str) -> str | None:
        """The champion before the current one (where a rollback goes), or None."""
        return self.state(slot).previous

    def history(self, slot: str) -> tuple[Decision, ...]:
        """Every decision recorded for ``slot``, oldest first."""
        return self.state(slot).history

    def verify(self, slot: str, version: str) -> ManifestCheck:
        """Check ``slot``'s ``version`` against its manifest (never raises for a bad folder)."""
        return check_manifest(self.path(slot, version))

    def alerts(self, slot: str | None = None) -> tuple[Alert, ...]:
        """Alerts from ``alerts.jsonl`` (of ``slot`` only, if given), oldest first."""
        found = read_alerts(self.root / _ALERTS_FILE)
        return tuple(a for a in found if slot is None or a.slot == slot)

    def load(self, slot: str, version: str | None = None) -> Artifact:
        """Verify and load ``slot``'s ``version`` (default: its champion).

        Raises
        ------
        RegistryError
            If ``version`` is None and the slot has no champion.
        ArtifactError
            If the version does not exist, fails its checksums or cannot be
            loaded; an alert is raised, and the champion stays as it is.
        """
        current = self.state(slot)
        version = version or current.champion
        if version is None:
            raise RegistryError(
                f"slot {slot!r} has no champion to load",
                fix=f"promote a version first: nexus models promote {slot} VERSION",
            )
        named = version in (current.champion, current.previous)
        self._require_sound(slot, version, "load", current, alert_missing=named)
        try:
            return read_artifact(self.path(slot, version), slot, version)
        except ArtifactError as exc:
            self._raise_alert(slot, version, "load", str(exc), current)
            raise

    # -- writing -------------------------------------------------------------------------

    def add(self, slot: str, fill: Callable[[Path], None], *, tag: str = "") -> str:
        """Write a new version of ``slot``: ``fill(folder)`` writes its files; return its name.

        The folder is built as ``.tmp-<version>``, checked for every required file
        (``REQUIRED_FILES``), given ``manifest.json``, fsynced and renamed into
        place, so a failure or a crash never leaves a half-written version. The
        new version is not promoted. ``.tmp-*`` folders left by crashed writers
        more than an hour ago are removed first (writing one takes seconds).

        Raises
        ------
        ArtifactError
            If ``fill`` did not write every required file.
        """
        folder = self._slot_dir(slot)
        version = new_version(tag)
        folder.mkdir(parents=True, exist_ok=True)
        _remove_stale_tmp(folder)
        tmp = folder / f".tmp-{version}"
        tmp.mkdir()
        try:
            fill(tmp)
            self._check_complete(tmp, slot)
            write_manifest(tmp)
            fsync_tree(tmp)
            os.rename(tmp, folder / version)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        fsync_dir(folder)
        return version

    def promote(
        self,
        slot: str,
        version: str,
        *,
        reason: str,
        figures: Mapping[str, Any] | None = None,
    ) -> Decision:
        """Make ``version`` the champion of ``slot``; the old champion becomes previous.

        Raises
        ------
        ArtifactError
            If the version does not exist or fails its checksums (with an alert).
        RegistryError
            If it already is the champion.

        In both cases ``model_config.json`` is left unchanged.
        """
        check_name(version, what="version")
        note = (_check_reason(reason), clean_figures(figures))

        def change(current: SlotState) -> tuple[SlotState, Decision]:
            if current.champion == version:
                raise RegistryError(
                    f"{slot}/{version} is already the champion", fix="nothing to promote"
                )
            self._require_sound(slot, version, "promote", current, alert_missing=False)
            decision = _decision(current, "promote", version, (version, current.champion), note)
            earlier = current.earlier + ((current.previous,) if current.previous else ())
            return _after(current, decision, earlier), decision

        return self._update(slot, change)

    def rollback(
        self,
        slot: str,
        *,
        reason: str,
        figures: Mapping[str, Any] | None = None,
        expected: str | None = None,
    ) -> Decision:
        """Make the previous champion of ``slot`` the champion again.

        The rolled-back champion leaves the line of champions: a second rollback
        steps back to the champion before that one. With ``expected``, the
        rollback happens only if that version is still the champion when the lock
        is held (a monitor rolling back the model it judged never rolls back one
        promoted meanwhile).

        Raises
        ------
        RegistryError
            If the slot has no previous champion, or its champion is not ``expected``.
        ArtifactError
            If the previous champion is missing or fails its checksums (with an alert).

        In both cases ``model_config.json`` is left unchanged.
        """
        note = (_check_reason(reason), clean_figures(figures))

        def change(current: SlotState) -> tuple[SlotState, Decision]:
            if expected is not None and current.champion != expected:
                raise RegistryError(
                    f"slot {slot!r} is no longer served by {expected} (champion: "
                    f"{current.champion}); nothing rolled back",
                    fix="judge the new champion before rolling it back",
                )
            target = current.previous
            if target is None:
                raise RegistryError(
                    f"slot {slot!r} has no previous champion to roll back to",
                    fix=f"promote a specific version instead ({_LIST_HINT})",
                )
            self._require_sound(slot, target, "rollback", current, alert_missing=True)
            new_previous = current.earlier[-1] if current.earlier else None
            decision = _decision(current, "rollback", target, (target, new_previous), note)
            return _after(current, decision, current.earlier[:-1]), decision

        return self._update(slot, change)

    def record(
        self,
        slot: str,
        action: Action,
        *,
        reason: str,
        version: str | None = None,
        figures: Mapping[str, Any] | None = None,
    ) -> Decision:
        """Record a decision that leaves the champion as it is: ``keep`` or ``refused``.

        ``keep``: the challenger ``version`` did not beat the champion. ``refused``:
        it could not be used (corrupt, failed the baselines). Use :meth:`promote`
        and :meth:`rollback` to change the champion.

        Raises
        ------
        ConfigError
            If ``action`` is not ``keep`` or ``refused``.
        """
        if action not in ("keep", "refused"):
            raise ConfigError(
                f"action {action!r} cannot be recorded",
                fix="record 'keep' or 'refused'; use promote() or rollback() to change champions",
            )
        if version is not None:
            check_name(version, what="version")
        note = (_check_reason(reason), clean_figures(figures))

        def change(current: SlotState) -> tuple[SlotState, Decision]:
            after = (current.champion, current.previous)
            decision = _decision(current, action, version, after, note)
            return _after(current, decision, current.earlier), decision

        return self._update(slot, change)

    # -- internals -----------------------------------------------------------------------

    def _slot_dir(self, slot: str) -> Path:
        return self.root / check_name(slot, what="slot")

    @staticmethod
    def _subfolders(folder: Path) -> list[Path]:
        if not folder.is_dir():
            return []
        return [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.root / f"{CONFIG_FILE}.lock", timeout=self._lock_timeout)
        try:
            lock.acquire()
        except Timeout:
            raise RegistryError(
                f"{self.config_path} is locked by another process (promote, rollback or "
                f"retrain) for more than {self._lock_timeout:g} s",
                fix="wait for it to finish and try again",
            ) from None
        try:
            yield
        finally:
            lock.release()

    def _update(
        self, slot: str, change: Callable[[SlotState], tuple[SlotState, Decision]]
    ) -> Decision:
        """Read, change and atomically rewrite ``slot`` under the lock; nothing on error."""
        check_name(slot, what="slot")
        with self._locked():
            state = read_state(self.config_path)
            new_slot, decision = change(state.slot(slot))
            write_atomic(self.config_path, render_state(state.with_slot(slot, new_slot)))
        return decision

    def _require_sound(
        self, slot: str, version: str, operation: str, current: SlotState, *, alert_missing: bool
    ) -> None:
        folder = self.path(slot, version)
        if not folder.is_dir():
            problem = f"model {slot}/{version} does not exist"
            if alert_missing:
                self._raise_alert(slot, version, operation, problem, current)
            raise ArtifactError(problem, fix=self._unknown_fix(slot, version))
        check = check_manifest(folder)
        if not check.ok:
            problem = f"model {slot}/{version} is corrupt: {check.problem}"
            self._raise_alert(slot, version, operation, problem, current)
            stays = f"champion {current.champion} stays" if current.champion else "nothing changed"
            raise ArtifactError(
                f"{problem} (refused; {stays})",
                fix="retrain it, or promote another version (" + _LIST_HINT + ")",
            )

    def _unknown_fix(self, slot: str, version: str) -> str:
        versions = self.versions(slot)
        if not versions:
            known = self.slots()
            close = difflib.get_close_matches(slot, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            return f"slot {slot!r} has no versions; {hint}{_LIST_HINT}"
        close = difflib.get_close_matches(version, versions, n=1, cutoff=0.8)
        if close:
            return f"did you mean {close[0]!r}? ({_LIST_HINT})"
        return f"the newest version of {slot} is {versions[-1]} ({_LIST_HINT})"

    def _raise_alert(
        self, slot: str, version: str, operation: str, problem: str, current: SlotState
    ) -> None:
        alert = Alert.now(
            slot=slot,
            version=version,
            operation=operation,
            problem=problem,
            champion=current.champion,
        )
        self.root.mkdir(parents=True, exist_ok=True)
        write_alert(self.root / _ALERTS_FILE, alert)
        self._alert(alert)

    @staticmethod
    def _check_complete(folder: Path, slot: str) -> None:
        missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
        if missing:
            raise ArtifactError(
                f"the new version of {slot} lacks {', '.join(missing)}",
                fix="write every file of a version: " + ", ".join(REQUIRED_FILES),
            )


_STALE_TMP_S = 3600.0


def _remove_stale_tmp(folder: Path) -> None:
    """Delete ``.tmp-*`` folders untouched for an hour: a crashed writer's leftovers."""
    cutoff = datetime.now(UTC).timestamp() - _STALE_TMP_S
    for tmp in folder.glob(".tmp-*"):
        try:
            if tmp.is_dir() and tmp.stat().st_mtime < cutoff:
                shutil.rmtree(tmp, ignore_errors=True)
        except OSError:  # another writer finished or removed it meanwhile
            continue


def _check_reason(reason: str) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError("a decision needs a reason", fix="say why, e.g. reason='manual'")
    return reason.strip()


def _decision(
    current: SlotState,
    action: Action,
    version: str | None,
    after: tuple[str | None, str | None],
    note: tuple[str, dict[str, Any]],
) -> Decision:
    """The decision ``action`` on ``version``: ``after`` is (champion, previous) once made."""
    return Decision(
        time=datetime.now(UTC),
        action=action,
        version=version,
        before=current.champion,
        champion=after[0],
        previous=after[1],
        reason=note[0],
        figures=note[1],
    )


def _after(current: SlotState, decision: Decision, earlier: tuple[str, ...]) -> SlotState:
    return SlotState(
        champion=decision.champion,
        previous=decision.previous,
        earlier=earlier,
        history=(*current.history, decision),
    )
