"""The mail worker: claim due outbox rows, send them, record what happened.

Claims are leases: a batch of due rows is marked ``sending`` with
``locked_until`` and the worker's id, in one short write transaction (on
PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so workers never wait on each
other; on SQLite under ``BEGIN IMMEDIATE``). Rows whose lease ran out — their
worker died — are due again. Each row is marked sent in its own transaction
right after the server accepted it, so a crash resends at most the one
message in flight.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import secrets
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import Connection, Update, and_, bindparam, or_, select, update

from outreach.database import begin_write
from outreach.extensions import db
from outreach.mail.compose import LOAD_OPTIONS, Superseded, Unsendable, compose
from outreach.mail.rate import MachineRateLimiter
from outreach.mail.suppression import blocking_scope, suppress, suppression_scopes
from outreach.mail.transports import DeliveryError, Transport, transport_for
from outreach.models import (
    MessageStatus,
    OutboxMessage,
    SuppressionReason,
    SuppressionScope,
    utcnow,
)
from outreach.services import retention
from outreach.services.campaigns import enqueue_due as enqueue_due_campaigns
from outreach.services.reminders import enqueue_due_reminders

log = logging.getLogger(__name__)

# Seconds to wait before try 2, 3, …: at least 5 tries over more than 20 minutes.
BACKOFF_SECONDS = (10, 30, 60, 300, 900, 1800, 3600, 7200)
JITTER = 0.2
MAX_ERROR_LENGTH = 1000
# Retention (anonymising, purging) runs from the scheduler at most this often.
RETENTION_INTERVAL_SECONDS = 3600


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed try, plus up to 20 % jitter."""
    base = BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1]
    # Jitter only lengthens: the schedule above is the floor the tries are spread over.
    return timedelta(seconds=base * random.uniform(1, 1 + JITTER))  # noqa: S311


@functools.cache
def _outcome_statement(columns: tuple[str, ...]) -> Update:
    """UPDATE one row held by a worker, setting ``columns`` and releasing the lease.

    Built once per set of columns: building the statement cost more than
    running it, once per message.
    """
    return (
        update(OutboxMessage)
        .where(OutboxMessage.id == bindparam("row_id"))
        .where(OutboxMessage.locked_by == bindparam("holder"))
        .values(
            locked_by=None,
            locked_until=None,
            **{name: bindparam(f"new_{name}") for name in columns},
        )
    )


@dataclass
class Tally:
    """What one run did, by outcome."""

    counts: Counter = field(default_factory=Counter)

    def add(self, outcome: str) -> None:
        self.counts[outcome] += 1

    def __getitem__(self, outcome: str) -> int:
        return self.counts[outcome]

    def __str__(self) -> str:
        return (
            ", ".join(f"{n} {outcome}" for outcome, n in sorted(self.counts.items())) or "nothing"
        )


class Worker:
    def __init__(
        self,
        app: Flask,
        *,
        transport: Transport | None = None,
        worker_id: str | None = None,
        batch_size: int | None = None,
    ):
        config = app.config
        self.app = app
        self.transport = transport or transport_for(app)
        self.worker_id = worker_id or (
            f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        )
        self.batch_size = batch_size or config["MAIL_BATCH_SIZE"]
        self.lease = timedelta(seconds=config["MAIL_LEASE_SECONDS"])
        self.max_attempts = config["MAIL_MAX_ATTEMPTS"]
        self.rate = MachineRateLimiter(
            config["MAIL_SEND_RATE"], Path(app.instance_path) / "mail-rate.slot"
        )
        self.stopping = threading.Event()
        # When the lease on the batch in hand runs out (None: no batch claimed).
        self.lease_ends: datetime | None = None
        self._connection: Connection | None = None
        # When (time.monotonic()) the scheduler may run retention again.
        self.next_retention = 0.0

    # -- claiming -----------------------------------------------------------

    def claim(self, now: datetime) -> list[int]:
        """Lease up to a batch of due rows to this worker; return their ids."""
        due = or_(
            and_(
                OutboxMessage.status == MessageStatus.QUEUED,
                OutboxMessage.next_attempt_at <= now,
            ),
            and_(
                OutboxMessage.status == MessageStatus.SENDING,
                OutboxMessage.locked_until < now,
            ),
        )
        try:
            begin_write()
            ids = list(
                db.session.scalars(
                    select(OutboxMessage.id)
                    .where(due)
                    .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            )
            if ids:
                db.session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids))
                    .values(
                        status=MessageStatus.SENDING,
                        locked_by=self.worker_id,
                        locked_until=now + self.lease,
                        attempts=OutboxMessage.attempts + 1,
                    )
                    .execution_options(synchronize_session=False)
                )
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        self.lease_ends = now + self.lease
        return ids

    # -- recording outcomes ------------------------------------------------------

    def _record(self, row_id: int, /, **values) -> None:
        """Update one row in its own short transaction, if this worker still holds it."""
        statement = _outcome_statement(tuple(sorted(values)))
        parameters = {f"new_{name}": value for name, value in values.items()}
        parameters.update(row_id=row_id, holder=self.worker_id)
        if self._connection is None:
            with db.engine.begin() as connection:
                connection.execute(statement, parameters)
            return
        with self._connection.begin():
            self._connection.execute(statement, parameters)

    def _sent(self, message: OutboxMessage, message_id: str, now: datetime) -> None:
        self._record(
            message.id,
            status=MessageStatus.SENT,
            sent_at=now,
            message_id=message_id,
            last_error=None,
        )

    def _failed(self, message: OutboxMessage, reason: str) -> None:
        self._record(message.id, status=MessageStatus.FAILED, last_error=reason[:MAX_ERROR_LENGTH])

    def _retry_later(self, message: OutboxMessage, reason: str, now: datetime) -> str:
        if message.attempts >= self.max_attempts:
            self._failed(message, f"gave up after {message.attempts} tries: {reason}")
            return "failed"
        self._record(
            message.id,
            status=MessageStatus.QUEUED,
            next_attempt_at=now + retry_delay(message.attempts),
            last_error=reason[:MAX_ERROR_LENGTH],
        )
        return "retried"

    def _release(self, messages: list[OutboxMessage]) -> None:
        """Hand unsent rows back at once (stopping, lease running out): they were not tried."""
        for message in messages:
            # The lease kept everyone else off the row: attempts is what the claim made it.
            self._record(message.id, status=MessageStatus.QUEUED, attempts=message.attempts - 1)

    # -- sending ------------------------------------------------------------

    def _load(self, ids: list[int]) -> list[OutboxMessage]:
        return list(
            db.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .options(*LOAD_OPTIONS)
                .order_by(OutboxMessage.id)
            )
        )

    def process(self, ids: list[int], tally: Tally) -> None:
        """Send the claimed rows over as few connections as the server allows."""
        # One database connection records the whole batch's outcomes (still one
        # transaction per message): checking one out of the pool per message
        # cost more than the update itself.
        self._connection = db.engine.connect()
        try:
            self._process(self._load(ids), tally)
        finally:
            self._connection.close()
            self._connection = None

    def _process(self, remaining: list[OutboxMessage], tally: Tally) -> None:
        suppressed = suppression_scopes(message.recipient for message in remaining)
        while remaining:
            if self.stopping.is_set() or not self._lease_left():
                self._release(remaining)
                tally.counts["released"] += len(remaining)
                return
            try:
                with self.transport.session() as sender:
                    while remaining and not self.stopping.is_set() and self._lease_left():
                        message = remaining.pop(0)
                        lost = self._deliver(message, sender, suppressed, tally)
                        if lost:
                            break  # open a new connection for the rest
            except DeliveryError as error:  # the connection could not be opened
                now = utcnow()
                for message in remaining:
                    tally.add(self._retry_later(message, error.reason, now))
                return
        db.session.rollback()  # end the read transaction the batch was loaded in

    def _lease_left(self) -> bool:
        """Whether enough of the lease is left to send one more message.

        Past the lease another worker may take the rows over; sending them
        then could send them twice (a slow send rate can stretch a batch).
        """
        return self.lease_ends is None or utcnow() < self.lease_ends - self.lease / 4

    def _deliver(
        self, message, sender, suppressed: dict[str, set[SuppressionScope]], tally: Tally
    ) -> bool:
        """Send one message; record the outcome; return True if the connection is gone."""
        now = utcnow()
        if self._skip_suppressed(message, suppressed.get(message.recipient.lower(), ())):
            tally.add("suppressed")
            return False
        try:
            composed = compose(message, now=now)
        except Superseded as problem:
            self._record(message.id, status=MessageStatus.SKIPPED, last_error=str(problem))
            tally.add("skipped")
            return False
        except Unsendable as problem:
            self._failed(message, f"unsendable: {problem}")
            tally.add("failed")
            return False
        except Exception as problem:  # a bug in composing must not lose the message
            log.exception("composing outbox message %s failed", message.id)
            tally.add(self._retry_later(message, f"composing failed: {problem!r}", now))
            return False
        self.rate.wait()
        try:
            sender.send(composed)
        except DeliveryError as error:
            if error.hard_bounce:
                self._suppress(message.recipient, error.reason)
                # Later rows of this batch to the address stop too.
                suppressed.setdefault(message.recipient.lower(), set()).add(SuppressionScope.ALL)
                self._failed(message, f"hard bounce: {error.reason}")
                tally.add("bounced")
            elif error.permanent:
                self._failed(message, f"rejected: {error.reason}")
                tally.add("failed")
            else:
                tally.add(self._retry_later(message, error.reason, now))
            return error.session_lost
        self._sent(message, composed.message_id, utcnow())
        tally.add("sent")
        return False

    def _skip_suppressed(self, message: OutboxMessage, scopes: Iterable[SuppressionScope]) -> bool:
        """Record the row as not sent if its address is on the list for it; say whether it was.

        A dead address (scope ALL) fails the message, as a bounce would; an
        unsubscription skips bulk mail of its kind only. A test send goes to
        the staff member who asked for it, whatever they unsubscribed from.
        """
        scope = blocking_scope(scopes, message.kind)
        if scope is None:
            return False
        if scope is SuppressionScope.ALL:
            self._failed(message, "suppressed: this address bounced before")
            return True
        if (message.payload or {}).get("test") is True:
            return False
        self._record(
            message.id,
            status=MessageStatus.SKIPPED,
            last_error=f"suppressed: the recipient does not want {scope.value} mail",
        )
        return True

    def _suppress(self, address: str, reason: str) -> None:
        try:
            # A write transaction of its own: the batch's read snapshot is older than
            # the outcomes recorded since, and SQLite refuses to write from it.
            begin_write()
            suppress(address, SuppressionReason.HARD_BOUNCE, reason)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise

    # -- running ------------------------------------------------------------

    def run_once(self) -> Tally:
        """Send everything that is due now, then return."""
        tally = Tally()
        with self.app.app_context():
            while not self.stopping.is_set():
                ids = self.claim(utcnow())
                if not ids:
                    break
                self.process(ids, tally)
        return tally

    def run(self, *, poll_seconds: float = 1.0) -> None:
        """Send and schedule until stopped (SIGTERM or SIGINT: finish the message in hand)."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stopping.set())
        interval = self.app.config["SCHEDULER_INTERVAL"]
        next_schedule = 0.0
        log.info("mail worker %s started", self.worker_id)
        while not self.stopping.is_set():
            clock = time.monotonic()
            if clock >= next_schedule:
                self.schedule()
                next_schedule = clock + interval
            tally = self.run_once()
            if tally.counts:
                log.info("mail worker %s: %s", self.worker_id, tally)
            else:
                self.stopping.wait(poll_seconds)
        log.info("mail worker %s stopped", self.worker_id)

    def schedule(self) -> int:
        """The scheduler step: queue the reminders and the campaigns that are due."""
        queued = 0
        for step in (enqueue_due_reminders, enqueue_due_campaigns):
            with self.app.app_context():
                try:
                    queued += step()
                except Exception:  # a failed step is retried at the next interval
                    log.exception("scheduler step %s failed", step.__name__)
                    db.session.rollback()
        self._retain()
        return queued

    def _retain(self) -> None:
        """Anonymise and purge what is past its retention, at most once an hour."""
        clock = time.monotonic()
        if clock < self.next_retention:
            return
        self.next_retention = clock + RETENTION_INTERVAL_SECONDS
        with self.app.app_context():
            try:
                report = retention.purge(utcnow())
            except Exception:  # tried again in an hour
                log.exception("retention failed")
                db.session.rollback()
                return
        if not report.is_empty:
            log.info(
                "retention: %d registrations of %d events anonymised, %d mail rows purged",
                report.registrations,
                len(report.events),
                report.outbox_rows,
            )
