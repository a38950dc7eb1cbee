"""The job runner: one job at a time in a worker thread, with its status."""

from __future__ import annotations

import threading

import pytest

from nexus.api import JobBusyError, Jobs
from nexus.errors import DataError, RegistryError


def test_a_job_runs_in_a_worker_thread_and_succeeds() -> None:
    jobs = Jobs()
    caller = threading.get_ident()
    job = jobs.submit("demo", lambda: {"thread": threading.get_ident()}, {"n": 1})
    assert job.done.wait(5)
    assert job.status == "succeeded"
    assert job.result is not None
    assert job.result["thread"] != caller
    assert job.params == {"n": 1}
    assert job.submitted <= job.started <= job.finished
    assert jobs.get(job.id) is job
    assert jobs.running is None


def test_a_failing_job_keeps_its_error_message() -> None:
    def fail() -> dict:
        raise DataError("the store holds 2 sessions", fix="ingest more")

    jobs = Jobs()
    job = jobs.submit("demo", fail, {})
    assert job.done.wait(5)
    assert job.status == "failed"
    assert job.error == "the store holds 2 sessions; ingest more"
    assert job.to_dict()["error"] == job.error


def test_a_second_job_is_refused_while_one_runs() -> None:
    release = threading.Event()
    jobs = Jobs()
    first = jobs.submit("demo", lambda: {"ok": release.wait(5)}, {})
    with pytest.raises(JobBusyError, match=f"{first.id} is still") as caught:
        jobs.submit("demo", dict, {})
    assert isinstance(caught.value, RegistryError)
    release.set()
    assert first.done.wait(5)
    second = jobs.submit("demo", dict, {})
    assert second.done.wait(5)
    assert second.status == "succeeded"


def test_only_the_newest_jobs_are_kept() -> None:
    jobs = Jobs(keep=2)
    ids = []
    for _ in range(3):
        job = jobs.submit("demo", dict, {})
        assert job.done.wait(5)
        ids.append(job.id)
    assert jobs.get(ids[0]) is None
    assert [jobs.get(i).id for i in ids[1:]] == ids[1:]
    assert jobs.get("unknown") is None
