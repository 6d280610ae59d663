"""Public calendar files: one per event, and subscribable feeds."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from flask_babel import gettext as _

from outreach.calendar.cache import TimedCache
from outreach.calendar.components import CalendarSettings, add_timezones, new_calendar, vevent
from outreach.calendar.feeds import Feed, build_feed
from outreach.i18n import current_locale
from outreach.services import events as event_service
from outreach.services.events import EventFilters

bp = Blueprint("calendar", __name__)

FEED_CACHE: TimedCache[Feed] = TimedCache()
CALENDAR_CONTENT_TYPE = "text/calendar; charset=utf-8"


def _settings() -> CalendarSettings:
    return CalendarSettings.from_config(current_app.config)


def _calendar_response(body: bytes, filename: str, *, etag: str, last_modified=None) -> Response:
    response = Response(body, content_type=CALENDAR_CONTENT_TYPE)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["CALENDAR_MAX_AGE"]
    response.set_etag(etag)
    if last_modified is not None:
        response.last_modified = last_modified
    return response.make_conditional(request)


def _feed_response(filters: EventFilters, name: str, filename: str) -> Response:
    locale = current_locale()
    keep_days = current_app.config["CALENDAR_KEEP_DAYS"]
    fingerprint = event_service.calendar_fingerprint(filters, keep_days=keep_days)

    def build() -> Feed:
        events = event_service.calendar_events(filters, keep_days=keep_days)
        return build_feed(events, name=name, locale=locale, settings=_settings())

    key = (filters, locale, name, fingerprint, _settings())
    feed = FEED_CACHE.get_or_build(key, build)
    # No Last-Modified: an event leaving the feed changes it without changing any
    # row's timestamp, so only the ETag (a hash of the bytes) tells the truth.
    return _calendar_response(feed.body, filename, etag=feed.etag)


@bp.get("/calendar.ics")
def feed():
    """All upcoming published events; the list page's filters apply here too."""
    filters = EventFilters.from_args(request.args)
    return _feed_response(filters, current_app.config["SITE_NAME"], "outreach.ics")


@bp.get("/organisations/<slug>/calendar.ics")
def organisation_feed(slug: str):
    organisation = event_service.organisation(slug)
    if organisation is None:
        abort(404)
    name = f"{organisation.name} – {current_app.config['SITE_NAME']}"
    return _feed_response(EventFilters(host=slug), name, f"{slug}.ics")


@bp.get("/topics/<slug>/calendar.ics")
def topic_feed(slug: str):
    topic = event_service.topic(slug)
    if topic is None:
        abort(404)
    name = f"{topic.name_in(current_locale())} – {current_app.config['SITE_NAME']}"
    return _feed_response(EventFilters(topic=slug), name, f"{slug}.ics")


@bp.get("/events/<slug>/calendar.ics")
def event_file(slug: str):
    """One public event (METHOD:PUBLISH, no private details), at a stable address."""
    event = event_service.public_event(slug)
    if event is None:
        abort(404, description=_("There is no such event."))
    calendar = new_calendar("PUBLISH")
    add_timezones(calendar, [event])
    calendar.add_component(
        vevent(event, locale=current_locale(), settings=_settings(), stamp=event.updated_at)
    )
    body = calendar.to_ical()
    return _calendar_response(
        body, f"{slug}.ics", etag=Feed(body).etag, last_modified=event.updated_at
    )
