"""The review workflow: draft → submitted → (changes requested → draft) → published.

Each step is a service that checks who may take it, moves the event on,
records it in the audit log and owes the other side an email, all in one
transaction. Staff may also publish a draft directly.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from outreach.extensions import db
from outreach.i18n import select_locale
from outreach.mail.outbox import enqueue
from outreach.models import (
    AuditEntry,
    Event,
    EventStatus,
    MessageKind,
    Role,
    User,
    event_hosts,
    utcnow,
)
from outreach.policy import can_review, can_submit
from outreach.services import audit
from outreach.services.errors import DomainError, InvalidInput
from outreach.services.locks import lock_event
from outreach.services.registration_input import has_unsafe_text_characters

MAX_COMMENT_LENGTH = 5000


class NotReviewable(DomainError):
    """The event is not in a state where this step applies, or the user may not take it."""

    default_message = _l("This step is not possible for this event now.")


def staff_recipients() -> list[User]:
    """Active staff users, who hear about submissions."""
    return list(
        db.session.scalars(
            select(User).where(User.role == Role.STAFF, User.is_active.is_(True)).order_by(User.id)
        )
    )


def host_recipients(event: Event) -> list[User]:
    """Active partner users of the organisations hosting ``event``."""
    return list(
        db.session.scalars(
            select(User)
            .join(event_hosts, event_hosts.c.organisation_id == User.organisation_id)
            .where(
                event_hosts.c.event_id == event.id,
                User.role == Role.PARTNER,
                User.is_active.is_(True),
            )
            .order_by(User.id)
        )
    )


def _tell(kind: MessageKind, users: list[User], event: Event, entry: AuditEntry, by: User) -> None:
    """Owe each of ``users`` (but the one acting) a message about this step."""
    for user in users:
        if user.id == by.id:
            continue
        enqueue(
            kind,
            recipient=user.email,
            recipient_name=user.name,
            # Users have no language setting: they hear in the interface's current one.
            language=select_locale(),
            dedupe_key=f"{kind.value}:{event.id}:{entry.id}:{user.id}",
            event=event,
            payload={"actor": by.name or by.email, "comment": entry.comment or ""},
        )


def _move(
    event: Event,
    status: EventStatus,
    action: str,
    *,
    by: User,
    now: datetime,
    comment: str | None = None,
) -> AuditEntry:
    """Move the locked ``event`` to ``status`` and record it; return the audit entry."""
    before = {"status": event.status.value, "review_comment": event.review_comment}
    event.status = status
    event.updated_at = now
    if status is EventStatus.SUBMITTED:
        event.submitted_at = now
    elif status is EventStatus.PUBLISHED:
        event.published_at = now
    # The comment stays on the draft until it is submitted again.
    event.review_comment = comment if action == "event.changes_requested" else None
    after = {"status": event.status.value, "review_comment": event.review_comment}
    entry = audit.record(
        action, event, actor=by, changes=audit.changes(before, after), comment=comment
    )
    db.session.flush()
    return entry


def _clean_comment(comment: str, *, required: bool) -> str | None:
    comment = (comment or "").strip()
    if required and not comment:
        raise InvalidInput({"comment": _("Please say what should change.")})
    if has_unsafe_text_characters(comment):
        raise InvalidInput({"comment": _("This field contains characters we cannot use.")})
    if len(comment) > MAX_COMMENT_LENGTH:
        raise InvalidInput(
            {"comment": _("Please use at most %(n)d characters.", n=MAX_COMMENT_LENGTH)}
        )
    return comment or None


def submit(event: Event, *, by: User, comment: str = "", now: datetime | None = None) -> Event:
    """Send the draft ``event`` to staff for review; commits. Raises NotReviewable."""
    now = now or utcnow()
    comment = _clean_comment(comment, required=False)
    try:
        event = lock_event(event.id)
        if not can_submit(by, event):
            raise NotReviewable()
        entry = _move(
            event, EventStatus.SUBMITTED, "event.submitted", by=by, now=now, comment=comment
        )
        _tell(MessageKind.EVENT_SUBMITTED, staff_recipients(), event, entry, by)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return event


def request_changes(event: Event, *, by: User, comment: str, now: datetime | None = None) -> Event:
    """Send ``event`` back to its hosts as a draft with ``comment``; commits."""
    now = now or utcnow()
    comment = _clean_comment(comment, required=True)
    try:
        event = lock_event(event.id)
        if not can_review(by, event):
            raise NotReviewable()
        entry = _move(
            event, EventStatus.DRAFT, "event.changes_requested", by=by, now=now, comment=comment
        )
        _tell(MessageKind.CHANGES_REQUESTED, host_recipients(event), event, entry, by)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return event


def publish(event: Event, *, by: User, now: datetime | None = None) -> Event:
    """Publish ``event`` (submitted, or a draft staff made); commits.

    An event that has already started cannot be published.
    """
    now = now or utcnow()
    try:
        event = lock_event(event.id)
        if not can_review(by, event):
            raise NotReviewable()
        if event.starts_at <= now:
            raise NotReviewable(_("This event has already started: change its time first."))
        entry = _move(event, EventStatus.PUBLISHED, "event.published", by=by, now=now)
        _tell(MessageKind.EVENT_PUBLISHED, host_recipients(event), event, entry, by)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return event
