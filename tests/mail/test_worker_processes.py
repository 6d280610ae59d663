"""Worker processes as operators run them: killed, stopped, and two at once.

Each test starts ``flask --app wsgi outreach worker`` as a real subprocess
against the test database (committed rows only: the worker has its own
connection) and the in-process SMTP server on loopback. The subprocess runs
the development configuration with DATABASE_URL set, since the testing one
ignores it. Every wait is bounded; leftover processes are killed.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import MessageStatus, OutboxMessage

REPO_ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    """A ``flask outreach worker`` subprocess and its output."""

    def __init__(self, arguments: list[str], env: dict[str, str], log: Path):
        self.log = log
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "outreach", "worker", *arguments],
                cwd=REPO_ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise AssertionError(
                f"worker still running after {timeout} s:\n{self.output()}"
            ) from None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def sent(self) -> int:
        """What ``--once`` reported: ``Mail: 480 sent.``"""
        found = re.search(r"(\d+) sent", self.output())
        return int(found.group(1)) if found else 0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def start_worker(app, database_url, smtp, tmp_path) -> Iterator:
    """Start worker subprocesses: ``start_worker("--once", MAIL_SEND_RATE=50)``."""
    started: list[WorkerProcess] = []

    def start(*arguments: str, **settings) -> WorkerProcess:
        db.session.rollback()  # nothing of ours may hold a lock the worker waits for
        env = {
            **os.environ,
            "OUTREACH_ENV": "development",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "testing-secret",
            "BASE_URL": app.config["BASE_URL"],
            "MAIL_SERVER": smtp.host,
            "MAIL_PORT": str(smtp.port),
            "MAIL_SMTP_TIMEOUT": "5",
            "MAIL_USE_TLS": "false",
            "MAIL_USE_SSL": "false",
            "MAIL_USERNAME": "",
            "MAIL_SEND_RATE": "0",
            "MAIL_BATCH_SIZE": "100",
            "MAIL_LEASE_SECONDS": "300",
            "MAILBOX_DIR": str(tmp_path / "mailbox"),
            "PYTHONUNBUFFERED": "1",
        }
        env.update({name: str(value) for name, value in settings.items()})
        worker = WorkerProcess(list(arguments), env, tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()


def _rows() -> list[OutboxMessage]:
    db.session.rollback()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_worker_killed_mid_batch_loses_nothing_and_doubles_at_most_one_message(
    app, smtp, make_event, queue_confirmations, start_worker, statuses
):
    queue_confirmations(make_event(), 200)
    expected = {row.recipient for row in _rows()}
    lease = 2
    first = start_worker(MAIL_SEND_RATE=50, MAIL_LEASE_SECONDS=lease)

    assert smtp.wait_for(40, timeout=30) >= 40, first.output()
    first.signal(signal.SIGKILL)
    assert first.wait(timeout=10) == -signal.SIGKILL
    before = statuses()
    assert smtp.count() < 200
    assert before["sending"] > 0, "killed mid-batch, holding claimed rows"

    time.sleep(lease + 0.5)  # the dead worker's lease runs out
    second = start_worker("--once", MAIL_LEASE_SECONDS=lease)
    assert second.wait(timeout=60) == 0, second.output()

    received = smtp.recipients()
    assert set(received) == expected, "no message lost"
    doubled = sum(count - 1 for count in received.values())
    assert doubled <= 1, f"only the message in flight may go twice, {doubled} did"
    assert statuses() == {"sent": 200}
    assert len(smtp.message_ids()) >= 200


def test_sigterm_stops_a_worker_promptly_and_hands_back_what_it_claimed(
    app, smtp, make_event, queue_confirmations, start_worker, statuses
):
    queue_confirmations(make_event(), 200)
    worker = start_worker(MAIL_SEND_RATE=20)
    assert smtp.wait_for(10, timeout=30) >= 10, worker.output()

    asked = time.monotonic()
    worker.signal(signal.SIGTERM)
    assert worker.wait(timeout=15) == 0, worker.output()
    assert time.monotonic() - asked < 5, "it finishes the message in hand, not the batch"

    counts = statuses()
    assert counts["sending"] == 0, "nothing stays claimed by a worker that is gone"
    assert counts["sent"] == smtp.count(), "the message in hand was sent and recorded"
    assert counts["queued"] == 200 - counts["sent"] > 0
    for row in _rows():
        if row.status is MessageStatus.QUEUED:
            assert row.attempts == 0 and row.locked_by is None and row.last_error is None
    assert set(smtp.recipients().values()) == {1}
    assert "stopped" in worker.output()


def test_two_workers_at_once_deliver_each_message_exactly_once(
    app, smtp, make_event, queue_confirmations, start_worker, statuses
):
    queue_confirmations(make_event(), 500)
    queue_confirmations(make_event(), 500, language="en")

    workers = [start_worker("--once", MAIL_BATCH_SIZE=50) for _ in range(2)]
    for worker in workers:
        assert worker.wait(timeout=120) == 0, worker.output()

    assert statuses() == {"sent": 1000}
    assert smtp.count() == 1000
    assert len(smtp.message_ids()) == 1000
    assert len(smtp.recipients()) == 1000
    assert set(smtp.recipients().values()) == {1}
    sent = [worker.sent() for worker in workers]
    assert sum(sent) == 1000
    assert all(sent), f"both workers took part: {sent}"
    assert {row.message_id for row in _rows()} == set(smtp.message_ids())
