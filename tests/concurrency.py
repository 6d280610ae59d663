"""Running test jobs at the same moment, each with its own database connection."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from outreach.extensions import db


def run_together(app, jobs: list[Callable[[], Any]]) -> list[tuple[str, Any]]:
    """Run each job in its own thread and app context, all released at once.

    Returns ("ok", result) or ("error", exception) per job, in job order.
    """
    barrier = threading.Barrier(len(jobs))
    results: list[tuple[str, Any] | None] = [None] * len(jobs)

    def work(index: int, job: Callable[[], Any]) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[index] = ("ok", job())
            except BaseException as error:
                results[index] = ("error", error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a job hung"
    return results  # type: ignore[return-value]
