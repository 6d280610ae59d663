"""What everyone told about one event in one language shares, made once.

The event in words (dates, the zone's name) and its invitation (VTIMEZONE,
VEVENT) cost more to make than the rest of a message. They are kept in a
small cache keyed by every value they are made from, so a batch of a
thousand confirmations for one event makes them once, and a change to the
event or to a setting can never serve a stale copy. Cached values hold
strings and bytes only, never database rows.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from icalendar import Event as VEvent

from outreach.calendar.components import CalendarSettings, attendee, event_page_url
from outreach.calendar.invites import cancellation_for, invite_for
from outreach.mail.mime import display_name
from outreach.models import Event, RegistrationStatus
from outreach.templating import event_date, event_time_range, zone_name

log = logging.getLogger(__name__)
T = TypeVar("T")


class SharedCache:
    """A small thread-safe LRU for pieces built from an event; values hold no ORM rows."""

    def __init__(self, maxsize: int = 256) -> None:
        self.maxsize = maxsize
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = build()
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.maxsize:
                self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def __len__(self) -> int:
        return len(self._values)


SHARED = SharedCache(maxsize=512)


def event_fingerprint(event: Event, language: str) -> tuple:
    """Every value of ``event`` that its facts and invitations in ``language`` are made from."""
    text = event.text(language)
    return (
        event.id,
        event.uid,
        event.slug,
        event.status,
        event.sequence,
        event.updated_at,
        event.starts_at,
        event.ends_at,
        event.timezone,
        event.venue_name,
        event.venue_address,
        event.venue_city,
        event.online_url,
        event.contact_email,
        text.locale,
        text.title,
        text.summary,
        text.description,
        tuple((host.name, host.contact_email) for host in event.hosts),
        tuple(topic.name_in(language) for topic in event.topics),
    )


@dataclass(frozen=True)
class EventFacts:
    """An event in words, in one language: what the mail templates show."""

    title: str
    date: str
    time_range: str
    zone: str
    place: str | None
    is_online: bool
    page_url: str
    sender_name: str  # the lead host, else the site: signs the mail
    from_name: str  # the same, made safe for the From header
    reply_to: str | None


def event_facts(
    event: Event, language: str, calendar_settings: CalendarSettings, site_name: str
) -> EventFacts:
    """Put ``event`` in words; call inside force_locale(language)."""
    lead = event.hosts[0] if event.hosts else None
    sender_name = (lead.name if lead else "") or site_name
    place = ", ".join(p for p in (event.venue_name, event.venue_address, event.venue_city) if p)
    return EventFacts(
        title=" ".join(event.text(language).title.split()),
        date=event_date(event),
        time_range=event_time_range(event),
        zone=zone_name(event),
        place=place or None,
        is_online=event.is_online,
        page_url=event_page_url(event, calendar_settings),
        sender_name=sender_name,
        from_name=display_name(sender_name) or display_name(site_name),
        reply_to=event.contact_email or (lead.contact_email if lead else None),
    )


# The PARTSTAT that invites.py gives the attendee for each method.
PARTSTAT = {"REQUEST": "ACCEPTED", "CANCEL": "DECLINED"}
BUILDERS = {"REQUEST": invite_for, "CANCEL": cancellation_for}
_SENTINEL_STAMP = datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)


@dataclass(frozen=True)
class StandIn:
    """Reads like a Registration to invites.py: a placeholder whose lines are swapped per person."""

    event: Event
    language: str
    status: RegistrationStatus
    name: str = "Outreach placeholder"
    email: str = "placeholder@outreach.invalid"


def attendee_line(person: Any, partstat: str) -> bytes:
    line = VEvent().content_line("ATTENDEE", attendee(person, partstat=partstat))
    return line.to_ical() + b"\r\n"


def stamp_line(now: datetime) -> bytes:
    # As icalendar writes a UTC DTSTAMP; the tests compare with invite_for() byte for byte.
    return now.astimezone(UTC).strftime("DTSTAMP:%Y%m%dT%H%M%SZ\r\n").encode("ascii")


@dataclass(frozen=True)
class InviteSkeleton:
    """An invitation built once for a placeholder; each person's copy swaps two lines."""

    body: bytes
    stamp_line: bytes
    attendee_line: bytes

    def for_person(self, person: Any, partstat: str, now: datetime) -> bytes:
        return self.body.replace(self.stamp_line, stamp_line(now), 1).replace(
            self.attendee_line, attendee_line(person, partstat), 1
        )


def build_skeleton(
    method: str, stand_in: StandIn, settings: CalendarSettings
) -> InviteSkeleton | None:
    """The invitation for ``stand_in``, or None if its two lines cannot be found.

    None makes the caller build each person's invitation in full: slower, never wrong.
    """
    body = BUILDERS[method](stand_in, settings=settings, now=_SENTINEL_STAMP)  # type: ignore[arg-type]
    skeleton = InviteSkeleton(
        body, stamp_line(_SENTINEL_STAMP), attendee_line(stand_in, PARTSTAT[method])
    )
    if body.count(skeleton.stamp_line) != 1 or body.count(skeleton.attendee_line) != 1:
        log.warning("invitation lines not found; building %s invitations one by one", method)
        return None
    return skeleton
