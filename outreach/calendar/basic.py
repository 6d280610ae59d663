"""A single event as an iCalendar file for one registration (until the calendar issue)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from icalendar import Calendar
from icalendar import Event as CalendarEvent

from outreach.models import EventStatus, Registration, utcnow

PRODUCT_ID = "-//Outreach//Outreach events//EN"


def event_uid(event_uid_value: str, base_url: str) -> str:
    """The stable iCalendar UID of an event: ``event-<uuid>@<host of BASE_URL>``."""
    host = urlsplit(base_url).hostname or "localhost"
    return f"event-{event_uid_value}@{host}"


def registration_calendar(
    registration: Registration, *, base_url: str, now: datetime | None = None
) -> bytes:
    """Return a METHOD:PUBLISH calendar with the registration's event, in its language."""
    event = registration.event
    text = event.text(registration.language)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")

    entry = CalendarEvent()
    entry.add("uid", event_uid(event.uid, base_url))
    entry.add("dtstamp", now or utcnow())
    entry.add("dtstart", event.starts_at)
    entry.add("dtend", event.ends_at)
    entry.add("sequence", event.sequence)
    entry.add("summary", text.title)
    if text.summary:
        entry.add("description", text.summary)
    location = ", ".join(
        part for part in (event.venue_name, event.venue_address, event.venue_city) if part
    )
    if location:
        entry.add("location", location)
    elif event.is_online:
        entry.add("location", "Online")
    if event.status is EventStatus.CANCELLED:
        entry.add("status", "CANCELLED")
    calendar.add_component(entry)
    return calendar.to_ical()
