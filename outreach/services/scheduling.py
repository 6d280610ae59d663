"""Changes to an event that calendars must learn about: moving it, and calling it off.

Both bump the event's iCalendar SEQUENCE and, in the same transaction, owe
every active registrant a message (the mail worker attaches the updated
invite or the cancellation), so no calendar keeps a stale copy. Each change
lands in the audit log, with the person who made it (``by``) when there is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from outreach.extensions import db
from outreach.mail.outbox import enqueue_for_registrations
from outreach.models import (
    ACTIVE_STATUSES,
    Event,
    EventStatus,
    EventTranslation,
    MessageKind,
    Registration,
    User,
    utcnow,
)
from outreach.services import audit
from outreach.services.errors import DomainError, InvalidInput
from outreach.services.locks import lock_event
from outreach.services.registration_input import has_unsafe_text_characters

# The fields whose change a calendar entry must follow.
CALENDAR_FIELDS = (
    "starts_at",
    "ends_at",
    "timezone",
    "venue_name",
    "venue_address",
    "venue_city",
    "online_url",
)
TEXT_LIMITS = {"venue_name": 200, "venue_address": 300, "venue_city": 120, "online_url": 500}
TRANSLATION_LIMITS = {"title": 200, "summary": 500, "description": 20_000}
MAX_REASON_LENGTH = 2000
# What the audit log keeps about a cancellation.
_CANCEL_FIELDS = ("status", "cancelled_at", "cancellation_reason")


class EventNotChangeable(DomainError):
    default_message = _l("A cancelled event cannot be changed.")


def _clean_time(value: Any) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(_("Please give a date and time with its time zone."))
    return value


def _clean_zone(value: Any) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise ValueError(_("Please choose a known time zone.")) from None
    return value


def _clean_text(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(_("Please enter text."))
    value = value.strip()
    if has_unsafe_text_characters(value):
        raise ValueError(_("This field contains characters we cannot use."))
    if len(value) > TEXT_LIMITS[name]:
        raise ValueError(_("Please use at most %(n)d characters.", n=TEXT_LIMITS[name]))
    if name == "online_url" and value and not value.startswith(("https://", "http://")):
        raise ValueError(_("Please give a web address starting with https://."))
    return value or None


def _clean_changes(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - set(CALENDAR_FIELDS)
    if unknown:
        raise TypeError(f"reschedule() does not change {', '.join(sorted(unknown))}")
    cleaned, errors = {}, {}
    for name, value in changes.items():
        try:
            if name in ("starts_at", "ends_at"):
                cleaned[name] = _clean_time(value)
            elif name == "timezone":
                cleaned[name] = _clean_zone(value)
            else:
                cleaned[name] = _clean_text(name, value)
        except ValueError as problem:
            errors[name] = str(problem)
    if errors:
        raise InvalidInput(errors)
    return cleaned


def active_registrations(event_id: int) -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event_id,
                Registration.status.in_(ACTIVE_STATUSES),
                Registration.anonymised_at.is_(None),
            )
            .order_by(Registration.id)
        )
    )


def bump_and_tell(event: Event, changed: set[str]) -> None:
    """Raise SEQUENCE; a published event owes each active registrant an update for it."""
    event.sequence += 1
    if event.status is EventStatus.PUBLISHED:
        enqueue_for_registrations(
            MessageKind.EVENT_UPDATED,
            active_registrations(event.id),
            dedupe_suffix=str(event.sequence),
            payload={"sequence": event.sequence, "changed": sorted(changed)},
        )


def reschedule(
    event: Event, *, by: User | None = None, now: datetime | None = None, **changes: Any
) -> Event:
    """Move ``event`` in time or place; keywords are the fields in CALENDAR_FIELDS.

    Unchanged values change nothing. Any real change bumps SEQUENCE, owes
    each active registrant an ``event_updated`` message keyed by that SEQUENCE
    and is audited as ``event.rescheduled`` by ``by`` (None: the system).
    Raises InvalidInput (bad values, end not after start) or EventNotChangeable.
    """
    now = now or utcnow()
    changes = _clean_changes(changes)
    try:
        event = lock_event(event.id)
        if event.status is EventStatus.CANCELLED:
            raise EventNotChangeable()
        changed = {name for name, value in changes.items() if getattr(event, name) != value}
        if not changed:
            db.session.rollback()
            return event
        before = audit.snapshot(event, sorted(changed))
        for name in changed:
            setattr(event, name, changes[name])
        if event.ends_at <= event.starts_at:
            raise InvalidInput({"ends_at": _("The event must end after it starts.")})
        if not (event.venue_name or event.venue_address or event.online_url):
            raise InvalidInput({"venue_name": _("Please give a venue or an online link.")})
        event.updated_at = now
        bump_and_tell(event, changed)
        after = audit.snapshot(event, sorted(changed))
        audit.record("event.rescheduled", event, actor=by, changes=audit.changes(before, after))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return event


def _texts_of(event: Event) -> dict[str, dict[str, str]]:
    """The language versions as the audit log compares them (as event editing does)."""
    return {
        locale: {"title": v.title, "summary": v.summary, "description": v.description}
        for locale, v in sorted(event.translations.items())
    }


def _clean_texts(texts: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    cleaned, errors = {}, {}
    for locale, fields in texts.items():
        cleaned[locale] = {}
        for name, limit in TRANSLATION_LIMITS.items():
            value = fields.get(name) or ""
            if not isinstance(value, str):
                errors[f"{locale}.{name}"] = _("Please enter text.")
                continue
            value = value.strip()
            if has_unsafe_text_characters(value):
                errors[f"{locale}.{name}"] = _("This field contains characters we cannot use.")
            if len(value) > limit:
                errors[f"{locale}.{name}"] = _("Please use at most %(n)d characters.", n=limit)
            cleaned[locale][name] = value
        if not cleaned[locale].get("title") and f"{locale}.title" not in errors:
            errors[f"{locale}.title"] = _("Please give the event a title.")
    if errors:
        raise InvalidInput(errors)
    return cleaned


def change_texts(
    event: Event,
    texts: Mapping[str, Mapping[str, str]],
    *,
    by: User | None = None,
    now: datetime | None = None,
) -> Event:
    """Set language versions of title, summary and description: ``{"de": {"title": …}}``.

    A new title is a change a calendar shows, so it bumps SEQUENCE and owes
    registrants an update; summaries and descriptions only refresh feeds.
    Real changes are audited as ``event.updated`` by ``by`` (None: the system).
    """
    now = now or utcnow()
    texts = _clean_texts(texts)
    try:
        event = lock_event(event.id)
        if event.status is EventStatus.CANCELLED:
            raise EventNotChangeable()
        before = {"texts": _texts_of(event)}
        title_changed = False
        for locale, fields in texts.items():
            version = event.translations.get(locale)
            if version is None:
                version = event.translations[locale] = EventTranslation(locale=locale)
            title_changed |= version.title != fields["title"]
            version.title = fields["title"]
            version.summary = fields["summary"]
            version.description = fields["description"]
        # Feeds notice changes by the event's timestamp, texts included.
        event.updated_at = now
        if title_changed:
            bump_and_tell(event, {"title"})
        changed = audit.changes(before, {"texts": _texts_of(event)})
        if changed:
            audit.record("event.updated", event, actor=by, changes=changed)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return event


def cancel_event(
    event: Event, reason: str = "", *, by: User | None = None, now: datetime | None = None
) -> Event:
    """Call ``event`` off: STATUS:CANCELLED in every calendar, a message to each registrant.

    Registrations keep their status (the person did not cancel). Cancelling
    twice is harmless. Audited as ``event.cancelled`` by ``by`` (None: the system).
    """
    now = now or utcnow()
    reason = (reason or "").strip()
    if has_unsafe_text_characters(reason):
        raise InvalidInput({"reason": _("This field contains characters we cannot use.")})
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidInput(
            {"reason": _("Please use at most %(n)d characters.", n=MAX_REASON_LENGTH)}
        )
    try:
        event = lock_event(event.id)
        if event.status is EventStatus.CANCELLED:
            db.session.rollback()
            return event
        was_published = event.status is EventStatus.PUBLISHED
        before = audit.snapshot(event, _CANCEL_FIELDS)
        event.status = EventStatus.CANCELLED
        event.cancelled_at = now
        event.cancellation_reason = reason or None
        event.sequence += 1
        event.updated_at = now
        if was_published:
            enqueue_for_registrations(
                MessageKind.EVENT_CANCELLED,
                active_registrations(event.id),
                payload={"sequence": event.sequence},
            )
        audit.record(
            "event.cancelled",
            event,
            actor=by,
            changes=audit.changes(before, audit.snapshot(event, _CANCEL_FIELDS)),
            comment=reason or None,
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return event
