"""'Add to calendar' links for the web calendars that take one, and webcal:// links."""

from __future__ import annotations

from datetime import UTC
from urllib.parse import quote, urlencode

from outreach.calendar.components import (
    CalendarSettings,
    description_text,
    event_page_url,
    location_text,
)
from outreach.models import Event

GOOGLE_CALENDAR = "https://calendar.google.com/calendar/render"
OUTLOOK_COM = "https://outlook.live.com/calendar/0/deeplink/compose"


def _public_details(event: Event, locale: str, settings: CalendarSettings) -> dict[str, str]:
    return {
        "title": event.text(locale).title,
        "details": description_text(
            event, locale, join_link=False, page_url=event_page_url(event, settings)
        ),
        "location": location_text(event),
    }


def google_calendar_url(event: Event, locale: str, settings: CalendarSettings) -> str:
    """Google Calendar's template link; times in UTC ('Z'), the zone named for display."""
    details = _public_details(event, locale, settings)
    start = event.starts_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    end = event.ends_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    query = {
        "action": "TEMPLATE",
        "text": details["title"],
        "dates": f"{start}/{end}",
        "details": details["details"],
        "location": details["location"],
        "ctz": event.timezone,
    }
    return f"{GOOGLE_CALENDAR}?{urlencode(query, quote_via=quote)}"


def outlook_calendar_url(event: Event, locale: str, settings: CalendarSettings) -> str:
    """Outlook.com's compose link; ISO 8601 times in UTC."""
    details = _public_details(event, locale, settings)
    query = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": details["title"],
        "startdt": event.starts_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "enddt": event.ends_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "body": details["details"],
        "location": details["location"],
    }
    return f"{OUTLOOK_COM}?{urlencode(query, quote_via=quote)}"


def webcal_url(url: str) -> str:
    """The same feed address with the scheme calendar apps subscribe to."""
    for scheme in ("https://", "http://"):
        if url.startswith(scheme):
            return "webcal://" + url[len(scheme) :]
    return url
