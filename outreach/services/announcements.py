"""Announcements: a host writes once to the people registered for its event."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

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
from outreach.services.registration_input import has_control_characters

MAX_SUBJECT_LENGTH = 150
MAX_BODY_LENGTH = 5000
AUDIENCE_STATUSES = {
    Audience.CONFIRMED: (RegistrationStatus.CONFIRMED,),
    Audience.WAITLISTED: (RegistrationStatus.WAITLISTED,),
    Audience.ACTIVE: (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED),
}


class NotAnnounceable(DomainError):
    default_message = _l("You may not write to the people registered for this event.")


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
    elif len(body) > MAX_BODY_LENGTH:
        errors["body"] = _("Please use at most %(n)d characters.", n=MAX_BODY_LENGTH)
    if errors:
        raise InvalidInput(errors)
    return subject, body


def audience_size(event: Event, audience: Audience) -> int:
    """How many people an announcement to ``audience`` would reach now."""
    return len(_recipients(event.id, audience))


def _recipients(event_id: int, audience: Audience) -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event_id,
                Registration.status.in_(AUDIENCE_STATUSES[audience]),
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
    Raises InvalidInput or NotAnnounceable.
    """
    subject, body = _clean(subject, body)
    try:
        audience = Audience(audience)
    except ValueError:
        raise InvalidInput({"audience": _("Please choose who gets the message.")}) from None
    try:
        event = lock_event(event.id)
        if not can_message_registrants(by, event):
            raise NotAnnounceable()
        recipients = _recipients(event.id, audience)
        announcement = Announcement(
            event_id=event.id,
            author_id=by.id,
            audience=audience,
            subject=subject,
            body=body,
            recipients=len(recipients),
            created_at=now or utcnow(),
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
