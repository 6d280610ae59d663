"""Build VCALENDAR and VEVENT components from events: pure functions, no request needed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from urllib.parse import quote, urlsplit

from icalendar import Calendar, vCalAddress, vText
from icalendar import Event as VEvent

from outreach.calendar.timezones import vtimezone
from outreach.models import Event, EventStatus, Registration
from outreach.rich_text import render_text

PRODUCT_ID = "-//Outreach//Outreach events 1.0//EN"


@dataclass(frozen=True)
class CalendarSettings:
    """What calendar output needs from the configuration."""

    base_url: str
    organizer_email: str

    @classmethod
    def from_config(cls, config: Mapping) -> CalendarSettings:
        _name, address = parseaddr(config["MAIL_DEFAULT_SENDER"])
        return cls(
            base_url=config["BASE_URL"].rstrip("/"),
            organizer_email=address or "outreach@localhost",
        )

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or "localhost"


def event_uid(event: Event, settings: CalendarSettings) -> str:
    """The UID an event keeps for ever: ``event-<uuid>@<host of BASE_URL>``."""
    return f"event-{event.uid}@{settings.host}"


def event_page_url(event: Event, settings: CalendarSettings) -> str:
    """The public page of ``event`` (the route public.event)."""
    return f"{settings.base_url}/events/{quote(event.slug)}"


def location_text(event: Event) -> str:
    place = ", ".join(p for p in (event.venue_name, event.venue_address, event.venue_city) if p)
    return place or ("Online" if event.is_online else "")


def description_text(event: Event, locale: str, *, join_link: bool, page_url: str) -> str:
    text = event.text(locale)
    # The description is Markdown; calendars show plain text.
    parts = [part for part in (text.summary, render_text(text.description).strip()) if part]
    if join_link and event.online_url:
        parts.append(f"Online: {event.online_url}")
    parts.append(page_url)
    return "\n\n".join(parts)


def organizer(event: Event, settings: CalendarSettings) -> vCalAddress:
    address = vCalAddress(f"mailto:{settings.organizer_email}")
    lead_host = event.hosts[0].name if event.hosts else "Outreach"
    address.params["CN"] = vText(lead_host)
    return address


def attendee(registration: Registration, *, partstat: str = "ACCEPTED") -> vCalAddress:
    address = vCalAddress(f"mailto:{registration.email}")
    address.params["CN"] = vText(registration.name)
    address.params["ROLE"] = vText("REQ-PARTICIPANT")
    address.params["PARTSTAT"] = vText(partstat)
    address.params["RSVP"] = vText("FALSE")
    return address


def vevent(
    event: Event,
    *,
    locale: str,
    settings: CalendarSettings,
    stamp: datetime,
    join_link: bool = False,
    cancelled: bool = False,
) -> VEvent:
    """One event as a VEVENT in ``locale``; the private join link only if asked for."""
    page_url = event_page_url(event, settings)
    text = event.text(locale)
    entry = VEvent()
    entry.add("uid", event_uid(event, settings))
    entry.add("dtstamp", stamp)
    entry.add("dtstart", event.local_start)
    entry.add("dtend", event.local_end)
    entry.add("sequence", event.sequence)
    entry.add("last-modified", event.updated_at)
    entry.add("summary", text.title)
    entry.add(
        "description", description_text(event, locale, join_link=join_link, page_url=page_url)
    )
    location = location_text(event)
    if location:
        entry.add("location", location)
    entry.add("url", page_url)
    entry.add("organizer", organizer(event, settings))
    categories = [topic.name_in(locale) for topic in event.topics]
    if categories:
        entry.add("categories", categories)
    is_cancelled = cancelled or event.status is EventStatus.CANCELLED
    entry.add("status", "CANCELLED" if is_cancelled else "CONFIRMED")
    entry.add("transp", "TRANSPARENT" if is_cancelled else "OPAQUE")
    if join_link and event.online_url:
        conference = vText(event.online_url)
        entry.add("conference", conference, parameters={"VALUE": "URI", "FEATURE": "VIDEO"})
    return entry


def new_calendar(method: str, **properties: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    for name, value in properties.items():
        calendar.add(name.replace("_", "-"), value)
    return calendar


def add_timezones(calendar: Calendar, events: Iterable[Event]) -> None:
    """Add one VTIMEZONE per zone the events use, covering the years they span."""
    years: dict[str, tuple[int, int]] = {}
    for event in events:
        low, high = years.get(event.timezone, (event.local_start.year, event.local_end.year))
        years[event.timezone] = (
            min(low, event.local_start.year),
            max(high, event.local_end.year),
        )
    for tzid in sorted(years):
        calendar.add_component(vtimezone(tzid, *years[tzid]))
