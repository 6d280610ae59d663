"""Fixtures for the mail tests: a real SMTP server on loopback, and queues to drain.

``smtp`` is an aiosmtpd server in a thread of the test process, listening on
127.0.0.1. It records every message it accepts and can be told to refuse
(``answer("451 …", at="RCPT")``), to hang up mid-transaction (``drop()``),
or to go away altogether (``stop()``; ``start()`` brings it back on the same
port). Nothing about SMTP is mocked: the worker talks to it through smtplib
exactly as it talks to a production relay.
"""

from __future__ import annotations

import email.policy
import itertools
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from functools import cached_property

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, update

from outreach.extensions import db, mail
from outreach.mail.outbox import enqueue_for_registrations
from outreach.models import (
    Event,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    utcnow,
)
from outreach.services.registrations import CONSENT_VERSION

LOOPBACK = "127.0.0.1"
_parser = BytesParser(policy=email.policy.default)


@dataclass
class Received:
    """One message the server accepted (it answered 250 to its DATA)."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    connection: int

    @cached_property
    def message(self) -> EmailMessage:
        return _parser.parsebytes(self.content)

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


@dataclass
class Rule:
    """An answer the server gives instead of accepting, at one stage of a transaction."""

    stage: str  # "RCPT" or "DATA"
    reply: str | None  # None: hang up without answering
    to: str | None  # only for this recipient (any when None)
    times: int | None  # how often, for ever when None

    def matches(self, stage: str, recipients: list[str]) -> bool:
        if self.stage != stage or self.times == 0:
            return False
        return self.to is None or self.to in (address.lower() for address in recipients)


class RecordingHandler:
    """The aiosmtpd handler: apply the rules, record what is accepted."""

    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_MAIL(self, smtp, session, envelope, address, mail_options):
        if not hasattr(session, "outreach_connection"):
            session.outreach_connection = self.server._new_connection()
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):
        reply = self.server._apply_rules("RCPT", [address], smtp)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, smtp, session, envelope):
        reply = self.server._apply_rules("DATA", envelope.rcpt_tos, smtp)
        if reply is not None:
            return reply
        self.server._record(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                content=bytes(envelope.original_content or envelope.content),
                connection=session.outreach_connection,
            )
        )
        return "250 2.0.0 Message accepted for delivery"


# A hung-up connection's unanswered command: aiosmtpd pushes it into a dead socket.
_HUNG_UP = "421 4.3.0 (connection already closed)"


@dataclass
class SmtpServer:
    """A real SMTP server on 127.0.0.1 that remembers what it received."""

    port: int
    host: str = LOOPBACK
    received: list[Received] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    connections: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._controller: Controller | None = None

    # -- up and down --------------------------------------------------------

    def start(self) -> None:
        """Listen (again) on the same port."""
        if self._controller is not None:
            return
        controller = Controller(RecordingHandler(self), hostname=self.host, port=self.port)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Go away: connections to the port are refused until ``start()``."""
        if self._controller is None:
            return
        self._controller.stop()
        self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    # -- misbehaving --------------------------------------------------------

    def answer(
        self, reply: str, *, at: str = "RCPT", to: str | None = None, times: int | None = None
    ) -> None:
        """Answer ``reply`` (e.g. ``"451 4.3.0 try later"``) instead of accepting."""
        self._add(Rule(at, reply, to.lower() if to else None, times))

    def drop(self, *, at: str = "DATA", to: str | None = None, times: int | None = 1) -> None:
        """Hang up instead of answering (after the client sent the data, for DATA)."""
        self._add(Rule(at, None, to.lower() if to else None, times))

    def behave(self) -> None:
        """Forget every rule: accept everything again."""
        with self._lock:
            self.rules.clear()

    def _add(self, rule: Rule) -> None:
        with self._lock:
            self.rules.append(rule)

    def _apply_rules(self, stage: str, recipients: list[str], smtp) -> str | None:
        with self._lock:
            for rule in self.rules:
                if rule.matches(stage, recipients):
                    if rule.times is not None:
                        rule.times -= 1
                    if rule.reply is None:
                        smtp.transport.abort()
                        return _HUNG_UP
                    return rule.reply
        return None

    # -- what arrived -------------------------------------------------------

    def _new_connection(self) -> int:
        with self._lock:
            self.connections += 1
            return self.connections

    def _record(self, received: Received) -> None:
        with self._changed:
            self.received.append(received)
            self._changed.notify_all()

    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return [received.message for received in self.received]

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def message_ids(self) -> Counter[str]:
        return Counter(message["Message-ID"] for message in self.messages())

    def recipients(self) -> Counter[str]:
        with self._lock:
            return Counter(address.lower() for r in self.received for address in r.rcpt_tos)

    def to(self, address: str) -> list[EmailMessage]:
        """The messages received for ``address``, in order."""
        with self._lock:
            found = [r for r in self.received if address.lower() in map(str.lower, r.rcpt_tos)]
        return [received.message for received in found]

    def wait_for(self, count: int, *, timeout: float = 30) -> int:
        """Wait until at least ``count`` messages arrived; return how many did."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            return len(self.received)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A running SMTP server on loopback; see SmtpServer."""
    server = SmtpServer(port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mail_app(app, smtp):
    """The ``app``, sending through the ``smtp`` server (Flask-Mail settings, as configured)."""
    app.config.update(MAIL_SERVER=smtp.host, MAIL_PORT=smtp.port, MAIL_SMTP_TIMEOUT=5)
    mail.init_app(app)  # Flask-Mail reads its settings when bound
    return app


_people = itertools.count(1)


@pytest.fixture
def queue_confirmations(app):
    """Register ``count`` people for ``event`` at once and owe each a confirmation.

    The rows are what ``register`` writes (a confirmed registration with a
    manage token, a ``registration_confirmed`` outbox row with it), written in
    one transaction so that queues of thousands take a moment, not minutes.
    Returns the outbox rows' ids.
    """

    def queue(event: Event, count: int, *, language: str = "de") -> list[int]:
        now = utcnow()
        registrations = []
        for _ in range(count):
            number = next(_people)
            registrations.append(
                Registration(
                    event_id=event.id,
                    name=f"Guest {number}",
                    email=f"guest{number}@example.org",
                    language=language,
                    status=RegistrationStatus.CONFIRMED,
                    consent_version=CONSENT_VERSION,
                    consented_at=now,
                )
            )
        db.session.add_all(registrations)
        db.session.flush()
        enqueue_for_registrations(MessageKind.REGISTRATION_CONFIRMED, registrations)
        db.session.commit()
        ids = [registration.id for registration in registrations]
        return list(
            db.session.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.registration_id.in_(ids))
                .order_by(OutboxMessage.id)
            )
        )

    return queue


@pytest.fixture
def time_passes(app):
    """Make every queued message due now, as if its back-off had run out."""

    def advance() -> int:
        db.session.rollback()
        result = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == MessageStatus.QUEUED)
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        return result.rowcount

    return advance


@pytest.fixture
def statuses(app):
    """Count the outbox rows by status, from a fresh snapshot."""

    def count() -> Counter[str]:
        db.session.rollback()
        rows = db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
        return Counter({status.value: n for status, n in rows})

    return count
