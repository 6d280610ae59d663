"""Retention: people leave the registrations of past events, and old mail loses its content.

An event's registrations are anonymised ``RETENTION_DAYS`` (default 90) days
after it ends, or after the event's own ``retention_days`` (0: as soon as it
has ended). All of them, cancelled ones too: names, addresses, answers and
private links go (``services/anonymisation.py``), while statuses, guests and
check-ins stay, so every count and attendance figure stays as it was. One
audit entry per event (``event.registrations_anonymised``) says how many of
its registrations are anonymised, and nothing about whom.

Finished outbox rows (sent, failed, skipped) lose address, name, payload and
error ``OUTBOX_RETENTION_DAYS`` (default 30) days after their last attempt.
Rows still queued or being sent are never touched.

:func:`purge` works in chunks of CHUNK_SIZE rows, each in a short transaction
of its own: an event's chunks under the event's lock, the outbox's with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL. Every statement re-checks what it
changes (``anonymised_at IS NULL``, ``purged_at IS NULL``), so running it
twice, or in two workers at once, changes nothing twice. The mail worker runs
it at most once an hour; ``flask outreach purge [--dry-run]`` runs it by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select

from outreach.database import begin_write
from outreach.extensions import db
from outreach.mail.suppression import hashed_address
from outreach.models import Event, MessageStatus, OutboxMessage, PrivacyRequest, Registration
from outreach.services import audit
from outreach.services.anonymisation import anonymise_registrations, purge_outbox_rows
from outreach.services.event_editing import MAX_RETENTION_DAYS
from outreach.services.locks import lock_event
from outreach.services.privacy_requests import EXPORT_WINDOW, max_age

# Rows changed per transaction, so no purge holds a lock (on SQLite: the database's) for long.
CHUNK_SIZE = 500
AUDIT_ACTION = "event.registrations_anonymised"
FINISHED = (MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.SKIPPED)


@dataclass(frozen=True)
class EventDue:
    """An event whose registrations are due for anonymising, and how many there are."""

    event_id: int
    slug: str
    ends_at: datetime
    due_at: datetime
    registrations: int


@dataclass(frozen=True)
class RetentionReport:
    """What goes (a plan or a dry run) or what went (a purge)."""

    events: list[EventDue] = field(default_factory=list)
    outbox_rows: int = 0
    # Data-protection requests whose address goes (only its salted hash stays).
    privacy_requests: int = 0
    dry_run: bool = False

    @property
    def registrations(self) -> int:
        return sum(event.registrations for event in self.events)

    @property
    def is_empty(self) -> bool:
        return not self.events and not self.outbox_rows and not self.privacy_requests


# -- the rules ----------------------------------------------------------------------------


def default_days() -> int:
    """Return the configured retention in days (RETENTION_DAYS), never below 0."""
    return max(0, int(current_app.config["RETENTION_DAYS"]))


def outbox_days() -> int:
    """Return the days a finished outbox row keeps its content (OUTBOX_RETENTION_DAYS)."""
    return max(0, int(current_app.config["OUTBOX_RETENTION_DAYS"]))


def retention_days(event: Event) -> int:
    """Return the days after its end that ``event``'s registrations are kept."""
    return _days(event.retention_days, default_days())


def _days(override: int | None, default: int) -> int:
    return default if override is None else max(0, min(override, MAX_RETENTION_DAYS))


def anonymise_on(event: Event) -> datetime:
    """Return when ``event``'s registrations are (or were) due for anonymising."""
    return event.ends_at + timedelta(days=retention_days(event))


@dataclass(frozen=True)
class RetentionState:
    """What the staff event page says: when the registrations go, or when they went."""

    due_at: datetime
    # When retention (or erasures) last anonymised a registration of the event, once none
    # is left with a person in it; None while some are.
    anonymised_at: datetime | None


def state(event: Event) -> RetentionState:
    """Return when ``event``'s registrations will be anonymised, or were."""
    total, left, last = db.session.execute(
        select(
            func.count(Registration.id),
            func.coalesce(func.sum(case((Registration.anonymised_at.is_(None), 1), else_=0)), 0),
            func.max(Registration.anonymised_at),
        ).where(Registration.event_id == event.id)
    ).one()
    done = bool(total) and not left
    return RetentionState(due_at=anonymise_on(event), anonymised_at=last if done else None)


def _has_people(event_id) -> ColumnElement[bool]:
    return exists().where(Registration.event_id == event_id, Registration.anonymised_at.is_(None))


def _outbox_due(now: datetime) -> ColumnElement[bool]:
    """Select finished rows, not purged yet, last tried OUTBOX_RETENTION_DAYS ago or longer.

    A finished row was last tried at ``sent_at``, or (failed and skipped rows)
    no earlier than ``next_attempt_at``.
    """
    cutoff = now - timedelta(days=outbox_days())
    return and_(
        OutboxMessage.status.in_(FINISHED),
        OutboxMessage.purged_at.is_(None),
        func.coalesce(OutboxMessage.sent_at, OutboxMessage.next_attempt_at) <= cutoff,
    )


def _requests_due(now: datetime) -> ColumnElement[bool]:
    """Select requests still holding an address, made OUTBOX_RETENTION_DAYS ago or longer.

    Never before their link has expired (and a confirmed export's window closed):
    the address is what the link acts on.
    """
    keep = max(timedelta(days=outbox_days()), max_age() + EXPORT_WINDOW)
    return and_(PrivacyRequest.email.is_not(None), PrivacyRequest.requested_at <= now - keep)


# -- what goes ----------------------------------------------------------------------------


def plan(now: datetime) -> RetentionReport:
    """Return what a purge at ``now`` would do: events with their counts, and outbox rows.

    Only reads; ends the read transaction it used.
    """
    try:
        return RetentionReport(
            events=_due_events(now),
            outbox_rows=db.session.scalar(
                select(func.count(OutboxMessage.id)).where(_outbox_due(now))
            ),
            privacy_requests=db.session.scalar(
                select(func.count(PrivacyRequest.id)).where(_requests_due(now))
            ),
            dry_run=True,
        )
    finally:
        db.session.rollback()


def _due_events(now: datetime) -> list[EventDue]:
    # Events with their own period are checked in Python (adding a per-row interval to a
    # time differs on every database); the rest are narrowed down in SQL.
    default = default_days()
    candidates = db.session.execute(
        select(Event.id, Event.slug, Event.ends_at, Event.retention_days)
        .where(
            or_(
                and_(
                    Event.retention_days.is_(None),
                    Event.ends_at <= now - timedelta(days=default),
                ),
                and_(Event.retention_days.is_not(None), Event.ends_at <= now),
            ),
            _has_people(Event.id),
        )
        .order_by(Event.ends_at, Event.id)
    ).all()
    due = []
    for row in candidates:
        due_at = row.ends_at + timedelta(days=_days(row.retention_days, default))
        if due_at <= now:
            due.append((row, due_at))
    if not due:
        return []
    counts = dict(
        db.session.execute(
            select(Registration.event_id, func.count(Registration.id))
            .where(
                Registration.event_id.in_([row.id for row, _due_at in due]),
                Registration.anonymised_at.is_(None),
            )
            .group_by(Registration.event_id)
        ).all()
    )
    return [
        EventDue(row.id, row.slug, row.ends_at, due_at, counts.get(row.id, 0))
        for row, due_at in due
    ]


# -- making it go -------------------------------------------------------------------------


def purge(now: datetime, *, dry_run: bool = False) -> RetentionReport:
    """Purge the outbox rows and anonymise the registrations that are due at ``now``.

    Returns what was done (with ``dry_run``: what would be, changing nothing).
    Commits in chunks; safe to run again, and in several workers at once.
    """
    if dry_run:
        return plan(now)
    outbox_rows = _purge_outbox(now)
    requests = _forget_request_addresses(now)
    events = []
    for event in plan(now).events:
        anonymised = _anonymise_event(event.event_id, now)
        if anonymised:
            events.append(
                EventDue(event.event_id, event.slug, event.ends_at, event.due_at, anonymised)
            )
    return RetentionReport(
        events=events, outbox_rows=outbox_rows, privacy_requests=requests, dry_run=False
    )


def _purge_outbox(now: datetime) -> int:
    purged = 0
    while True:
        try:
            begin_write()
            ids = list(
                db.session.scalars(
                    select(OutboxMessage.id)
                    .where(_outbox_due(now))
                    .order_by(OutboxMessage.id)
                    .limit(CHUNK_SIZE)
                    # Two workers share the rows out instead of waiting for each other.
                    .with_for_update(skip_locked=True)
                )
            )
            if ids:
                purged += purge_outbox_rows(OutboxMessage.id.in_(ids), now=now)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        if len(ids) < CHUNK_SIZE:
            return purged


def _forget_request_addresses(now: datetime) -> int:
    """Keep only the salted hash of old requests' addresses; return how many changed."""
    try:
        begin_write()
        requests = list(db.session.scalars(select(PrivacyRequest).where(_requests_due(now))))
        for request in requests:
            request.email_hash = request.email_hash or hashed_address(request.email or "")
            request.email = None
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return len(requests)


def _anonymise_event(event_id: int, now: datetime) -> int:
    """Anonymise the event's registrations chunk by chunk, under its lock; return how many.

    The transaction that anonymises the last of them writes the audit entry,
    so an event gets one entry however many runs share the work.
    """
    anonymised = 0
    while True:
        try:
            event = lock_event(event_id)
            # Decide again on the locked row: its end or its period may have changed.
            if anonymise_on(event) > now:
                db.session.rollback()
                return anonymised
            ids = list(
                db.session.scalars(
                    select(Registration.id)
                    .where(Registration.event_id == event_id, Registration.anonymised_at.is_(None))
                    .order_by(Registration.id)
                    .limit(CHUNK_SIZE)
                )
            )
            if not ids:
                db.session.rollback()
                return anonymised
            anonymised += anonymise_registrations(ids, now=now)
            finished = not db.session.scalar(select(_has_people(event_id)))
            if finished:
                _record(event)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        if finished:
            return anonymised


def _record(event: Event) -> None:
    total = db.session.scalar(
        select(func.count(Registration.id)).where(
            Registration.event_id == event.id, Registration.anonymised_at.is_not(None)
        )
    )
    audit.record(
        AUDIT_ACTION, event, actor=None, changes={"registrations_anonymised": [None, total]}
    )
