"""Background jobs (the retrain) in a worker thread, one at a time, with their status."""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nexus.errors import RegistryError

__all__ = ["Job", "JobBusyError", "Jobs"]

_log = logging.getLogger("nexus.api")


class JobBusyError(RegistryError):
    """A job was submitted while another one runs."""


@dataclass(slots=True)
class Job:
    """One job and how it went (``queued``, ``running``, ``succeeded`` or ``failed``)."""

    id: str
    kind: str
    params: dict[str, Any]
    submitted: datetime
    status: str = "queued"
    started: datetime | None = None
    finished: datetime | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The job as its wire dict (``JobInfo``)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "params": self.params,
            "submitted": self.submitted,
            "started": self.started,
            "finished": self.finished,
            "result": self.result,
            "error": self.error,
        }


class Jobs:
    """Runs one job at a time in a daemon thread; remembers the last ``keep`` jobs.

    Examples
    --------
    >>> jobs = Jobs()
    >>> job = jobs.submit("add", lambda: {"sum": 1 + 1}, {})
    >>> job.done.wait(5), jobs.get(job.id).status, job.result
    (True, 'succeeded', {'sum': 2})
    """

    def __init__(self, *, keep: int = 100) -> None:
        self._keep = keep
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._running: Job | None = None
        self._lock = threading.Lock()

    def submit(
        self, kind: str, work: Callable[[], Mapping[str, Any]], params: Mapping[str, Any]
    ) -> Job:
        """Start ``work()`` in a worker thread and return its job at once.

        Raises
        ------
        JobBusyError
            If a job is still running (nothing is started).
        """
        with self._lock:
            if self._running is not None:
                running = self._running
                raise JobBusyError(
                    f"{running.kind} job {running.id} is still {running.status}",
                    fix=f"wait for it to finish (GET /api/jobs/{running.id}) and try again",
                )
            job = Job(
                id=uuid.uuid4().hex[:16],
                kind=kind,
                params=dict(params),
                submitted=datetime.now(UTC),
            )
            self._running = job
            self._jobs[job.id] = job
            while len(self._jobs) > self._keep:
                self._jobs.popitem(last=False)
        thread = threading.Thread(
            target=self._run, args=(job, work), name=f"nexus-job-{job.id}", daemon=True
        )
        thread.start()
        return job

    def _run(self, job: Job, work: Callable[[], Mapping[str, Any]]) -> None:
        job.status, job.started = "running", datetime.now(UTC)
        try:
            job.result = dict(work())
            job.status = "succeeded"
        except Exception as exc:  # the job's failure is its status, not the server's
            _log.warning("%s job %s failed: %s", job.kind, job.id, exc)
            job.status, job.error = "failed", str(exc) or type(exc).__name__
        finally:
            job.finished = datetime.now(UTC)
            with self._lock:
                self._running = None
            job.done.set()

    def get(self, job_id: str) -> Job | None:
        """The job ``job_id``, or None if unknown (or forgotten)."""
        with self._lock:
            return self._jobs.get(job_id)

    @property
    def running(self) -> Job | None:
        """The job that runs now, if any."""
        return self._running
