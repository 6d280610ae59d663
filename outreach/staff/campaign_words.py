"""Words for the campaign pages: states, kinds, audiences, history, times in Berlin."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask_babel import lazy_gettext as _l

from outreach.workspace.choices import reader_locale

# Campaign times are entered and shown in the organisation's own zone.
CAMPAIGN_ZONE = "Europe/Berlin"


def campaign_zone() -> ZoneInfo:
    return ZoneInfo(CAMPAIGN_ZONE)


def campaign_time(value: datetime | None, fmt: str = "medium") -> str:
    """Show an aware moment in Berlin time, in the reader's language."""
    if value is None:
        return "—"
    return format_datetime(value.astimezone(campaign_zone()), fmt, locale=reader_locale())


class WORDS:
    """Labels the templates look codes up in."""

    STATUS = {
        "draft": _l("Draft"),
        "scheduled": _l("Scheduled"),
        "enqueuing": _l("Being queued"),
        "queued": _l("Sending"),
        "cancelled": _l("Cancelled"),
    }
    KIND = {
        "outreach": _l("Outreach"),
        "newsletter": _l("Newsletter"),
    }
    AUDIENCE = {
        "registrants": _l("People registered for events"),
        "contacts": _l("Partner organisations' contacts"),
        "subscribers": _l("Newsletter subscribers"),
    }
    REGISTRATION_STATUS = {
        "confirmed": _l("Confirmed"),
        "waitlisted": _l("On the waitlist"),
        "cancelled": _l("Cancelled"),
        "pending": _l("Waiting for confirmation"),
    }
    ATTENDANCE = {
        "attended": _l("Only people who checked in"),
        "no_show": _l("Only no-shows: confirmed, not checked in, event over"),
    }
    HISTORY = {
        "campaign.created": _l("created the campaign"),
        "campaign.updated": _l("changed the campaign"),
        "campaign.scheduled": _l("scheduled the campaign"),
        "campaign.send_now": _l("started sending the campaign"),
        "campaign.enqueued": _l("queued the campaign's messages"),
        "campaign.cancelled": _l("cancelled the campaign"),
        "campaign.test_sent": _l("sent a test of the campaign"),
    }
