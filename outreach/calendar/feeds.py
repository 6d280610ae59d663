"""Subscribable calendar feeds (METHOD:PUBLISH): public, without private links."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property

from icalendar import vDuration

from outreach.calendar.components import CalendarSettings, add_timezones, new_calendar, vevent
from outreach.models import Event

# How often subscribed calendars should look again (RFC 7986 and the Outlook/Apple extension).
REFRESH_INTERVAL = timedelta(hours=1)


@dataclass(frozen=True)
class Feed:
    body: bytes

    @cached_property
    def etag(self) -> str:
        """A strong validator: the output is deterministic, so its hash names it."""
        return hashlib.sha256(self.body).hexdigest()[:40]


def build_feed(
    events: Sequence[Event],
    *,
    name: str,
    locale: str,
    settings: CalendarSettings,
    description: str | None = None,
) -> Feed:
    """A calendar of ``events`` in ``locale``, the same bytes for the same data.

    Each VEVENT is stamped with the event's last change instead of the clock,
    so an unchanged feed is byte-for-byte unchanged and its ETag stays valid.
    """
    calendar = new_calendar("PUBLISH", name=name, x_wr_calname=name)
    if description:
        calendar.add("x-wr-caldesc", description)
    calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL))
    add_timezones(calendar, events)
    for event in events:
        calendar.add_component(
            vevent(event, locale=locale, settings=settings, stamp=event.updated_at)
        )
    return Feed(calendar.to_ical())
