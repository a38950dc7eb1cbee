"""Running test work in threads that start together."""

from __future__ import annotations

import threading
from collections.abc import Callable


def run_together(*work: Callable[[], None], timeout: float = 120) -> None:
    """Run each callable in its own thread, all released at once; re-raise the first error."""
    start = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        try:
            start.wait()
            job()
        except BaseException as exc:  # re-raised in the test's thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    if errors:
        raise errors[0]
