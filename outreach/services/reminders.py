"""Reminders before an event: the scheduler step that owes them to the people coming.

The mail worker runs :func:`enqueue_due_reminders` every SCHEDULER_INTERVAL
seconds and ``flask outreach send-due`` runs it once. Any number of them may
run at once: each reminder has the dedupe key ``reminder:<offset>:<registration>``,
is looked for before anything is written, and is inserted with ON CONFLICT DO
NOTHING, so a person gets one reminder per offset however often the step runs.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, String, cast, exists, func, insert, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from outreach.extensions import db
from outreach.models import (
    Event,
    EventStatus,
    ManageToken,
    MessageKind,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    utcnow,
)
from outreach.services.locks import lock_event
from outreach.services.tokens import TOKEN_BYTES, hash_token

# Offsets longer than this (in minutes) are ignored: it bounds the events the
# scheduler looks at every minute. Forms that edit offsets should refuse them.
LONGEST_REMINDER_OFFSET = 14 * 24 * 60
# Registrations reminded per transaction, so a big event never holds the
# event's lock (on SQLite: the database's write lock) for long.
CHUNK_SIZE = 500


def reminder_key(offset: int, registration_id: int) -> str:
    return f"reminder:{offset}:{registration_id}"


def due_offset(starts_at: datetime, offsets: Any, now: datetime) -> int | None:
    """Return the offset whose reminder is due at ``now`` for an event starting at ``starts_at``.

    A reminder is due once its window (``offset`` minutes before the start)
    has opened and until the event starts. When a later reminder's window has
    opened too (the scheduler was down for hours), the earlier one is stale
    ("tomorrow", an hour before the start), so only the latest one is due.
    """
    if starts_at <= now:
        return None
    opened = [
        offset for offset in _valid_offsets(offsets) if starts_at - timedelta(minutes=offset) <= now
    ]
    return min(opened, default=None)


def _valid_offsets(offsets: Any) -> set[int]:
    if not isinstance(offsets, list):
        return set()
    return {
        offset
        for offset in offsets
        if isinstance(offset, int)
        and not isinstance(offset, bool)
        and 0 < offset <= LONGEST_REMINDER_OFFSET
    }


def enqueue_due_reminders(*, now: datetime | None = None) -> int:
    """Queue every reminder that is due at ``now``; return how many were newly queued.

    Each person confirmed before a reminder's window opened gets that reminder
    in their language, with a fresh manage link; whoever registered or was
    promoted from the waitlist later gets only the reminders still ahead.
    Waitlisted and cancelled people get none. Commits once per event (per
    chunk of CHUNK_SIZE people), never holding the database across events.
    """
    now = now or utcnow()
    queued = 0
    try:
        for event_id, starts_at, offset in _due_reminders(now):
            if _anyone_missing(event_id, starts_at, offset):
                queued += _enqueue_for_offset(event_id, offset, now)
    finally:
        # End the last read; every write was committed by its chunk. (lock_event
        # ends a read left open before it takes the lock.)
        db.session.rollback()
    return queued


def _due_reminders(now: datetime) -> list[tuple[int, datetime, int]]:
    """(event id, start, offset) for each event with a reminder due, soonest first."""
    events = db.session.execute(
        select(Event.id, Event.starts_at, Event.reminder_offsets)
        .where(
            Event.status == EventStatus.PUBLISHED,
            Event.reminders_enabled.is_(True),
            Event.starts_at > now,
            Event.starts_at <= now + timedelta(minutes=LONGEST_REMINDER_OFFSET),
        )
        .order_by(Event.starts_at, Event.id)
    ).all()
    due = [
        (row.id, row.starts_at, due_offset(row.starts_at, row.reminder_offsets, now))
        for row in events
    ]
    return [(event_id, starts_at, offset) for event_id, starts_at, offset in due if offset]


def _missing(event_id: int, starts_at: datetime, offset: int):
    """Registrations owed the ``offset`` reminder that do not have it yet (a query)."""
    window_opened = starts_at - timedelta(minutes=offset)
    key = literal(f"reminder:{offset}:") + cast(Registration.id, String)
    return select(
        Registration.id, Registration.email, Registration.name, Registration.language
    ).where(
        Registration.event_id == event_id,
        Registration.status == RegistrationStatus.CONFIRMED,
        Registration.anonymised_at.is_(None),
        func.coalesce(Registration.promoted_at, Registration.created_at) < window_opened,
        ~exists().where(OutboxMessage.dedupe_key == key),
    )


def _anyone_missing(event_id: int, starts_at: datetime, offset: int) -> bool:
    """Look without any lock, so the usual run (nothing to do) blocks no one."""
    return bool(db.session.scalar(select(_missing(event_id, starts_at, offset).exists())))


def _enqueue_for_offset(event_id: int, offset: int, now: datetime) -> int:
    """Queue one event's ``offset`` reminders under the event's lock, a chunk per commit."""
    queued = 0
    while True:
        try:
            event = lock_event(event_id)
            # Decide again on the locked row: the event may have moved, been
            # cancelled or had reminders switched off since the first look.
            if (
                event.status is not EventStatus.PUBLISHED
                or not event.reminders_enabled
                or due_offset(event.starts_at, event.reminder_offsets, now) != offset
            ):
                db.session.rollback()
                return queued
            registrations = db.session.execute(
                _missing(event.id, event.starts_at, offset)
                .order_by(Registration.id)
                .limit(CHUNK_SIZE)
            ).all()
            if registrations:
                queued += _insert_reminders(event, offset, registrations)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        if len(registrations) < CHUNK_SIZE:
            return queued


def _insert_reminders(event: Event, offset: int, registrations: Sequence[Row]) -> int:
    tokens = _issue_tokens([registration.id for registration in registrations])
    return insert_ignoring_duplicates(
        [
            {
                "kind": MessageKind.REMINDER,
                "recipient": registration.email,
                "recipient_name": registration.name,
                "language": registration.language,
                "dedupe_key": reminder_key(offset, registration.id),
                "event_id": event.id,
                "registration_id": registration.id,
                "payload": {"token": tokens[registration.id], "offset": offset},
            }
            for registration in registrations
        ]
    )


def _issue_tokens(registration_ids: list[int]) -> dict[int, str]:
    """Mint a manage token per registration in one INSERT; return them in the clear.

    The bulk form of tokens.issue_token: the ORM would insert token rows one
    by one (it needs each new id back), which a big event cannot afford.
    """
    tokens = {
        registration_id: secrets.token_urlsafe(TOKEN_BYTES) for registration_id in registration_ids
    }
    db.session.execute(
        insert(ManageToken.__table__),
        [
            {"registration_id": registration_id, "token_hash": hash_token(token)}
            for registration_id, token in tokens.items()
        ],
    )
    return tokens


def insert_ignoring_duplicates(rows: list[dict[str, Any]]) -> int:
    """Insert outbox rows, leaving alone any whose dedupe key exists; return how many went in.

    The event lock already keeps two schedulers apart; the unique key settles
    anything else that writes the same key. A row that loses here leaves behind
    the manage token minted for it: harmless, since no one ever sees that token.
    """
    if not rows:
        return 0
    dialect = db.session.get_bind().dialect.name
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = OutboxMessage.__table__
    statement = (
        dialect_insert(table)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(table.c.id)
    )
    return len(db.session.execute(statement, rows).all())
