"""Invitations for registrants (iTIP, RFC 5546): REQUEST, CANCEL, and a personal copy.

All three use the event's stable UID and current SEQUENCE, so a calendar
that holds the event updates the one entry it has instead of adding another.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from outreach.calendar.components import (
    CalendarSettings,
    add_timezones,
    attendee,
    new_calendar,
    vevent,
)
from outreach.models import Registration, RegistrationStatus, utcnow


def _settings(settings: CalendarSettings | None) -> CalendarSettings:
    return settings or CalendarSettings.from_config(current_app.config)


def _calendar_for(
    registration: Registration,
    method: str,
    *,
    settings: CalendarSettings | None,
    now: datetime | None,
    cancelled: bool = False,
    partstat: str = "ACCEPTED",
    with_attendee: bool = True,
) -> bytes:
    event = registration.event
    calendar = new_calendar(method)
    add_timezones(calendar, [event])
    entry = vevent(
        event,
        locale=registration.language,
        settings=_settings(settings),
        stamp=now or utcnow(),
        join_link=registration.status is RegistrationStatus.CONFIRMED and not cancelled,
        cancelled=cancelled,
    )
    if with_attendee:
        entry.add("attendee", attendee(registration, partstat=partstat))
    calendar.add_component(entry)
    return calendar.to_ical()


def invite_for(
    registration: Registration,
    *,
    settings: CalendarSettings | None = None,
    now: datetime | None = None,
) -> bytes:
    """METHOD:REQUEST for a confirmed (or promoted) registration, or after an update."""
    return _calendar_for(registration, "REQUEST", settings=settings, now=now)


def cancellation_for(
    registration: Registration,
    *,
    settings: CalendarSettings | None = None,
    now: datetime | None = None,
) -> bytes:
    """METHOD:CANCEL: the event is off, or this person cancelled; calendars remove it."""
    return _calendar_for(
        registration, "CANCEL", settings=settings, now=now, cancelled=True, partstat="DECLINED"
    )


def personal_calendar(
    registration: Registration,
    *,
    settings: CalendarSettings | None = None,
    now: datetime | None = None,
) -> bytes:
    """METHOD:PUBLISH with the person's details, for downloading from the manage page."""
    return _calendar_for(
        registration,
        "PUBLISH",
        settings=settings,
        now=now,
        cancelled=not registration.is_active,
        with_attendee=False,
    )
