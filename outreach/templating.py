"""Jinja helpers: dates in the event's own zone and calendar links, in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote_plus

from babel.dates import format_date, format_datetime, format_time, get_timezone_name
from flask import Flask, current_app, has_request_context, request, url_for

from outreach.calendar.components import CalendarSettings
from outreach.calendar.links import google_calendar_url, outlook_calendar_url, webcal_url
from outreach.i18n import current_locale
from outreach.models import Event
from outreach.rich_text import render_markdown


def event_date(event: Event, fmt: str = "full") -> str:
    return format_date(event.local_start.date(), format=fmt, locale=current_locale())


def event_time_range(event: Event) -> str:
    """'18:00–20:00', or with both dates when the event spans several days."""
    start, end = event.local_start, event.local_end
    locale = current_locale()
    if start.date() == end.date():
        start_time = format_time(start, "short", locale=locale)
        return f"{start_time}–{format_time(end, 'short', locale=locale)}"
    return (
        f"{format_datetime(start, 'medium', locale=locale)} – "
        f"{format_datetime(end, 'medium', locale=locale)}"
    )


def zone_name(event: Event) -> str:
    """The zone in words with its IANA name, e.g. 'Central European Time (Europe/Berlin)'."""
    name = get_timezone_name(event.local_start, width="long", locale=current_locale())
    return f"{name} ({event.timezone})"


def short_datetime(value: datetime, event: Event) -> str:
    return format_datetime(value.astimezone(event.zone), "medium", locale=current_locale())


def map_url(event: Event) -> str:
    where = ", ".join(p for p in (event.venue_name, event.venue_address, event.venue_city) if p)
    return f"https://www.openstreetmap.org/search?query={quote_plus(where)}"


def url_with(**changes) -> str:
    """The current URL with some query arguments replaced (None removes one)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = value
    query = "&".join(f"{quote_plus(k)}={quote_plus(str(v))}" for k, v in sorted(args.items()))
    return request.path + (f"?{query}" if query else "")


def _calendar_settings() -> CalendarSettings:
    return CalendarSettings.from_config(current_app.config)


def public_url(endpoint: str, **values) -> str:
    """The address of a page on the configured BASE_URL, right behind a proxy too."""
    path = url_for(endpoint, **values)
    # BASE_URL already names the prefix the app is mounted under, if any.
    script_root = request.script_root if has_request_context() else ""
    if script_root and path.startswith(script_root + "/"):
        path = path[len(script_root) :]
    return _calendar_settings().base_url + path


@dataclass(frozen=True)
class FeedAddress:
    """A calendar feed: the https address to paste, and the webcal:// one to subscribe with."""

    https: str
    webcal: str


def feed_address(endpoint: str, **values) -> FeedAddress:
    url = public_url(endpoint, **values)
    return FeedAddress(https=url, webcal=webcal_url(url))


def google_calendar_link(event: Event) -> str:
    """Google Calendar's 'add' link for ``event`` in the reader's language (no private link)."""
    return google_calendar_url(event, current_locale(), _calendar_settings())


def outlook_calendar_link(event: Event) -> str:
    """Outlook.com's 'add' link for ``event`` in the reader's language (no private link)."""
    return outlook_calendar_url(event, current_locale(), _calendar_settings())


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(
        event_date=event_date,
        event_time_range=event_time_range,
        zone_name=zone_name,
        short_datetime=short_datetime,
        map_url=map_url,
        url_with=url_with,
        current_locale=current_locale,
        feed_address=feed_address,
        google_calendar_link=google_calendar_link,
        outlook_calendar_link=outlook_calendar_link,
    )
    # {{ text | markdown }}: rich text people wrote, as sanitised HTML (outreach.rich_text).
    app.jinja_env.filters["markdown"] = render_markdown
