"""Registering, changing and cancelling, and promoting from the waitlist.

Every function here owns its transaction: it takes the event's write lock,
decides on fresh data, writes the registration and the messages it owes in
one commit, and leaves nothing behind when it refuses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.mail.outbox import enqueue_for_registration
from outreach.models import (
    ACTIVE_STATUSES,
    Event,
    MessageKind,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    RegistrationWindow,
    User,
    utcnow,
)
from outreach.services import audit, consent
from outreach.services.errors import (
    DomainError,
    EventFull,
    NotEnoughSeats,
    RegistrationClosed,
    RegistrationNotChangeable,
)
from outreach.services.locks import lock_event
from outreach.services.registration_input import (
    RegistrationChanges,
    RegistrationDetails,
    clean_changes,
    clean_details,
)
from outreach.services.tokens import issue_token

# What the web form's consent checkbox says now (the texts are in services/consent.py).
CONSENT_VERSION = consent.CURRENT_VERSIONS[consent.Purpose.REGISTRATION]


class NotWaitlisted(DomainError):
    """Only someone waiting for a seat can be moved up."""

    default_message = _l("This person is not on the waitlist.")


@dataclass
class RegistrationOutcome:
    """What happened; ``token`` is the new manage token, None for a duplicate."""

    registration: Registration
    token: str | None

    @property
    def is_duplicate(self) -> bool:
        return self.token is None

    @property
    def status(self) -> RegistrationStatus:
        return self.registration.status


def _supported_languages() -> tuple[str, ...]:
    return tuple(current_app.config["LANGUAGES"])


def _seats_taken(event_id: int) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(1 + Registration.guests), 0)).where(
            Registration.event_id == event_id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
    )


def _next_waitlist_seq(event_id: int) -> int:
    highest = db.session.scalar(
        select(func.max(Registration.waitlist_seq)).where(Registration.event_id == event_id)
    )
    return (highest or 0) + 1


def _active_registration(event_id: int, email: str) -> Registration | None:
    return db.session.scalar(
        select(Registration).where(
            Registration.event_id == event_id,
            Registration.email == email,
            Registration.status.in_(ACTIVE_STATUSES),
        )
    )


def _resend_bucket(now: datetime) -> str:
    minutes = current_app.config["MANAGE_LINK_RESEND_MINUTES"]
    return str(math.floor(now.timestamp() / (minutes * 60)))


def _manage_link_sent_recently(registration_id: int, now: datetime) -> bool:
    """Whether a manage link was queued within the resend window before ``now``.

    The window slides from the last link; clock-aligned buckets alone would let
    two links through seconds apart when a bucket boundary falls between them.
    """
    window = timedelta(minutes=current_app.config["MANAGE_LINK_RESEND_MINUTES"])
    recent = db.session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.registration_id == registration_id,
            OutboxMessage.kind == MessageKind.MANAGE_LINK,
            OutboxMessage.created_at > now - window,
        )
        .limit(1)
    )
    return recent is not None


def register(
    event: Event,
    details: RegistrationDetails,
    *,
    now: datetime | None = None,
    consent_language: str | None = None,
    consent_purpose: consent.Purpose = consent.Purpose.REGISTRATION,
) -> RegistrationOutcome:
    """Register a person for ``event``: confirmed while seats remain, else waitlisted.

    A second registration by the same address takes no seat; the person is
    sent their manage link instead and the outcome carries no token.
    The registration records the current consent text of ``consent_purpose``
    in the language it was shown in: ``consent_language`` (the page's), or
    the person's language when none is given. Raises InvalidInput,
    RegistrationClosed or EventFull.
    """
    now = now or utcnow()
    details = clean_details(event, details, _supported_languages())
    agreed = consent.given(consent_purpose, consent_language or details.language)
    event_id = event.id
    try:
        event = lock_event(event_id)
        window = event.registration_window(now)
        if window is not RegistrationWindow.OPEN:
            raise RegistrationClosed(window)

        existing = _active_registration(event_id, details.email)
        if existing is not None:
            if not _manage_link_sent_recently(existing.id, now):
                token = issue_token(existing)
                message = enqueue_for_registration(
                    MessageKind.MANAGE_LINK,
                    existing,
                    dedupe_suffix=_resend_bucket(now),
                    payload={"token": token},
                )
                if message is None:  # a link went out moments ago; do not mint another
                    existing.tokens.pop()
            db.session.commit()
            return RegistrationOutcome(existing, None)

        seats = 1 + details.guests
        fits = event.capacity is None or _seats_taken(event_id) + seats <= event.capacity
        if not fits and not event.waitlist_enabled:
            raise EventFull()
        waitlist_seq = None if fits else _next_waitlist_seq(event_id)
        registration = Registration(
            event=event,
            name=details.name,
            email=details.email,
            language=details.language,
            guests=details.guests,
            answers=dict(details.answers),
            consent_version=agreed.version,
            consent_language=agreed.language,
            consented_at=now,
        )
        if fits:
            registration.status = RegistrationStatus.CONFIRMED
            kind = MessageKind.REGISTRATION_CONFIRMED
        else:
            registration.status = RegistrationStatus.WAITLISTED
            registration.waitlist_seq = waitlist_seq
            kind = MessageKind.REGISTRATION_WAITLISTED
        token = issue_token(registration)
        db.session.add(registration)
        db.session.flush()
        enqueue_for_registration(kind, registration, payload={"token": token})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return RegistrationOutcome(registration, token)


def promote_waitlist(event: Event, *, now: datetime | None = None) -> list[Registration]:
    """Confirm waitlisted people in order while their party fits; tell each one.

    Call inside a transaction that holds the event's lock. Someone whose
    guests do not fit is skipped, and a smaller party behind them goes first.
    """
    now = now or utcnow()
    waiting = db.session.scalars(
        select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.WAITLISTED,
        )
        .order_by(Registration.waitlist_seq)
    ).all()
    free = None if event.capacity is None else event.capacity - _seats_taken(event.id)
    promoted = []
    for registration in waiting:
        if free is not None and registration.seats > free:
            continue
        registration.status = RegistrationStatus.CONFIRMED
        registration.promoted_at = now
        token = issue_token(registration)
        enqueue_for_registration(
            MessageKind.WAITLIST_PROMOTED, registration, payload={"token": token}
        )
        promoted.append(registration)
        if free is not None:
            free -= registration.seats
            if free <= 0:
                break
    db.session.flush()
    return promoted


def _lock_registration(registration: Registration) -> Registration:
    registration_id = registration.id
    event = lock_event(registration.event_id)
    fresh = db.session.get(Registration, registration_id, populate_existing=True)
    assert fresh is not None and fresh.event_id == event.id
    return fresh


def cancel_registration(
    registration: Registration, *, now: datetime | None = None, by: User | None = None
) -> list[Registration]:
    """Cancel a registration, free its seats and promote the waitlist.

    Returns the people promoted. Cancelling twice is harmless. ``by`` is the
    staff member cancelling on the person's behalf; that is audited.
    """
    now = now or utcnow()
    try:
        registration = _lock_registration(registration)
        if not registration.is_active:
            db.session.rollback()
            return []
        if not registration.is_changeable_at(now):
            raise RegistrationNotChangeable()
        was_confirmed = registration.status is RegistrationStatus.CONFIRMED
        before = registration.status
        registration.status = RegistrationStatus.CANCELLED
        registration.cancelled_at = now
        db.session.flush()
        if by is not None:
            audit.record(
                "registration.cancelled",
                registration,
                actor=by,
                changes={"status": [before, registration.status]},
            )
        enqueue_for_registration(MessageKind.REGISTRATION_CANCELLED, registration)
        promoted = promote_waitlist(registration.event, now=now) if was_confirmed else []
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return promoted


def withdraw_quietly(registration: Registration, *, now: datetime) -> list[Registration]:
    """Cancel an active registration without a word to its person; promote the waitlist.

    For an erasure (services/privacy.py): the person asked to be forgotten, so
    no cancellation mail goes to them, while their seat still goes to the next
    in line, who is told. Call inside a transaction that holds the event's
    lock; does not commit. Returns the people promoted.
    """
    if not registration.is_changeable_at(now):
        return []
    was_confirmed = registration.status is RegistrationStatus.CONFIRMED
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = now
    db.session.flush()
    return promote_waitlist(registration.event, now=now) if was_confirmed else []


def promote_manually(
    registration: Registration, *, by: User, now: datetime | None = None
) -> Registration:
    """Confirm a waitlisted person out of turn, if their party fits; tell them. Commits.

    For staff who know why someone should go first. Raises NotWaitlisted,
    RegistrationNotChangeable (event over or cancelled) or NotEnoughSeats.
    """
    now = now or utcnow()
    try:
        registration = _lock_registration(registration)
        if registration.status is not RegistrationStatus.WAITLISTED:
            raise NotWaitlisted()
        if not registration.is_changeable_at(now):
            raise RegistrationNotChangeable()
        event = registration.event
        if event.capacity is not None and (
            _seats_taken(event.id) + registration.seats > event.capacity
        ):
            raise NotEnoughSeats()
        registration.status = RegistrationStatus.CONFIRMED
        registration.promoted_at = now
        token = issue_token(registration)
        enqueue_for_registration(
            MessageKind.WAITLIST_PROMOTED, registration, payload={"token": token}
        )
        audit.record(
            "registration.promoted",
            registration,
            actor=by,
            changes={"status": [RegistrationStatus.WAITLISTED, RegistrationStatus.CONFIRMED]},
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return registration


def change_registration(
    registration: Registration, changes: RegistrationChanges, *, now: datetime | None = None
) -> list[Registration]:
    """Change guests, answers and language; returns anyone promoted as a result.

    More guests on a confirmed registration need free seats (NotEnoughSeats
    otherwise); fewer guests free seats for the waitlist.
    """
    now = now or utcnow()
    changes = clean_changes(registration.event, changes, _supported_languages())
    try:
        registration = _lock_registration(registration)
        if not registration.is_changeable_at(now):
            raise RegistrationNotChangeable()
        event = registration.event
        extra_seats = changes.guests - registration.guests
        if (
            registration.status is RegistrationStatus.CONFIRMED
            and extra_seats > 0
            and event.capacity is not None
            and _seats_taken(event.id) + extra_seats > event.capacity
        ):
            raise NotEnoughSeats()
        registration.guests = changes.guests
        registration.language = changes.language
        registration.answers = dict(changes.answers)
        db.session.flush()
        # Fewer seats asked: the freed seats (or a smaller party) may let someone in.
        promoted = promote_waitlist(event, now=now) if extra_seats < 0 else []
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return promoted


def waitlist_position(registration: Registration) -> int | None:
    """The place of a waitlisted registration in its event's queue (1 = next in)."""
    if registration.status is not RegistrationStatus.WAITLISTED:
        return None
    ahead = db.session.scalar(
        select(func.count(Registration.id)).where(
            Registration.event_id == registration.event_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            Registration.waitlist_seq < registration.waitlist_seq,
        )
    )
    return (ahead or 0) + 1
