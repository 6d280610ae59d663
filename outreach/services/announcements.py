"""Announcements: a host writes once to the people registered for its event."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.mail.outbox import enqueue_for_registrations
from outreach.models import (
    Announcement,
    Audience,
    Event,
    MessageKind,
    Registration,
    RegistrationStatus,
    User,
    utcnow,
)
from outreach.policy import can_message_registrants
from outreach.services import audit
from outreach.services.errors import DomainError, InvalidInput
from outreach.services.locks import lock_event
from outreach.services.registration_input import (
    has_control_characters,
    has_unsafe_text_characters,
)

MAX_SUBJECT_LENGTH = 150
MAX_BODY_LENGTH = 5000
# The same text to the same people again this soon is a double click, not a decision.
REPEAT_WINDOW = timedelta(minutes=10)
AUDIENCE_STATUSES = {
    Audience.CONFIRMED: (RegistrationStatus.CONFIRMED,),
    Audience.WAITLISTED: (RegistrationStatus.WAITLISTED,),
    Audience.ACTIVE: (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED),
}


class NotAnnounceable(DomainError):
    default_message = _l("You may not write to the people registered for this event.")


class AlreadyAnnounced(DomainError):
    """The same message went to the same people moments ago."""

    default_message = _l("This message has just been sent to these people.")


def _clean(subject: str, body: str) -> tuple[str, str]:
    errors = {}
    subject = (
        " ".join((subject or "").split())
        if not has_control_characters((subject or "").strip())
        else ""
    )
    body = (body or "").strip()
    if not subject:
        errors["subject"] = _("Please write a subject on one line.")
    elif len(subject) > MAX_SUBJECT_LENGTH:
        errors["subject"] = _("Please use at most %(n)d characters.", n=MAX_SUBJECT_LENGTH)
    if not body:
        errors["body"] = _("Please write the message.")
    elif has_unsafe_text_characters(body):
        errors["body"] = _("This field contains characters we cannot use.")
    elif len(body) > MAX_BODY_LENGTH:
        errors["body"] = _("Please use at most %(n)d characters.", n=MAX_BODY_LENGTH)
    if errors:
        raise InvalidInput(errors)
    return subject, body


def check_message(subject: str, body: str, audience: Audience | str) -> tuple[str, str, Audience]:
    """Return the message as it would be sent, or raise InvalidInput naming the fields."""
    errors: dict[str, str] = {}
    try:
        subject, body = _clean(subject, body)
    except InvalidInput as problem:
        errors.update(problem.errors)
    try:
        audience = Audience(audience)
    except ValueError:
        errors["audience"] = _("Please choose who gets the message.")
    if errors:
        raise InvalidInput(errors)
    return subject, body, audience


def audience_size(event: Event, audience: Audience) -> int:
    """How many people an announcement to ``audience`` would reach now."""
    return len(_recipients(event.id, audience))


def audience_sizes(event: Event) -> dict[Audience, int]:
    """How many people each audience would reach now."""
    by_status = dict(
        db.session.execute(
            select(Registration.status, func.count(Registration.id))
            .where(Registration.event_id == event.id, Registration.anonymised_at.is_(None))
            .group_by(Registration.status)
        ).all()
    )
    return {
        audience: sum(int(by_status.get(status, 0)) for status in statuses)
        for audience, statuses in AUDIENCE_STATUSES.items()
    }


def announcements_for(event: Event) -> list[Announcement]:
    """The announcements sent about ``event``, newest first."""
    return list(
        db.session.scalars(
            select(Announcement)
            .where(Announcement.event_id == event.id)
            .order_by(Announcement.created_at.desc(), Announcement.id.desc())
        )
    )


def _sent_just_now(
    event_id: int, subject: str, body: str, audience: Audience, now: datetime
) -> bool:
    return (
        db.session.scalar(
            select(Announcement.id)
            .where(
                Announcement.event_id == event_id,
                Announcement.audience == audience,
                Announcement.subject == subject,
                Announcement.body == body,
                Announcement.created_at > now - REPEAT_WINDOW,
            )
            .limit(1)
        )
        is not None
    )


def _recipients(event_id: int, audience: Audience) -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event_id,
                Registration.status.in_(AUDIENCE_STATUSES[audience]),
                Registration.anonymised_at.is_(None),
            )
            .order_by(Registration.id)
        )
    )


def announce(
    event: Event,
    *,
    by: User,
    subject: str,
    body: str,
    audience: Audience | str = Audience.CONFIRMED,
    now: datetime | None = None,
) -> Announcement:
    """Queue ``subject`` and ``body`` to each registrant in ``audience``; commits.

    The text is plain (no HTML); each message carries the person's manage link.
    Raises InvalidInput (also when nobody is in the audience), NotAnnounceable,
    or AlreadyAnnounced when the same message went to the same people moments ago.
    """
    subject, body, audience = check_message(subject, body, audience)
    now = now or utcnow()
    try:
        event = lock_event(event.id)
        if not can_message_registrants(by, event):
            raise NotAnnounceable()
        if _sent_just_now(event.id, subject, body, audience, now):
            raise AlreadyAnnounced()
        recipients = _recipients(event.id, audience)
        if not recipients:
            raise InvalidInput({"audience": _("Nobody in this group is registered at the moment.")})
        announcement = Announcement(
            event_id=event.id,
            author_id=by.id,
            audience=audience,
            subject=subject,
            body=body,
            recipients=len(recipients),
            created_at=now,
        )
        db.session.add(announcement)
        db.session.flush()
        enqueue_for_registrations(
            MessageKind.ANNOUNCEMENT,
            recipients,
            dedupe_suffix=str(announcement.id),
            payload={"announcement": announcement.id},
        )
        audit.record(
            "event.announcement_sent",
            event,
            actor=by,
            changes={"recipients": [None, len(recipients)], "audience": [None, audience.value]},
            comment=subject,
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return announcement
