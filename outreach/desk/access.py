"""Who reaches which desk page: loading an event or a registration through the policy.

Someone who may not see an event's registrations gets 404 for everything
about it, never 403, so that guessing ids reveals nothing.
"""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_datetime, format_time
from flask import current_app, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from outreach.extensions import db
from outreach.models import Event, Registration
from outreach.policy import (
    can_check_in,
    can_manage_registrations,
    can_message_registrants,
    can_see_registrations,
)


class Refused(Exception):
    """Stop a desk request with a status code and a message a person can read."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def wants_json() -> bool:
    """Whether the request came from the check-in script rather than a page."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def locale() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def local_time(value: datetime, event: Event) -> str:
    """A time of day in the event's zone, e.g. 18:03."""
    return format_time(value.astimezone(event.zone), "short", locale=locale())


def local_datetime(value: datetime, event: Event) -> str:
    """A date and time in the event's zone, short, e.g. 28.11.26, 18:03."""
    return format_datetime(value.astimezone(event.zone), "short", locale=locale())


def event_for_desk(event_id: int) -> Event:
    """The event, if the user may see its registrations."""
    event = db.session.get(Event, event_id)
    if event is None or not can_see_registrations(current_user, event):
        raise Refused(404, _("We could not find this event."))
    return event


def event_for_staff(event_id: int) -> Event:
    """The event, if the user may also move people up or cancel for them."""
    event = event_for_desk(event_id)
    if not can_manage_registrations(current_user, event):
        raise Refused(403, _("Only staff can move people up or cancel for them."))
    return event


def event_for_check_in(event_id: int) -> Event:
    """The event, if the user may check people in there now."""
    event = event_for_desk(event_id)
    if not can_check_in(current_user, event):
        raise Refused(409, _("Check-in is only possible for published events."))
    return event


def event_for_messages(event_id: int) -> Event:
    """The event, if the user may write to the people registered."""
    event = event_for_desk(event_id)
    if not can_message_registrants(current_user, event):
        raise Refused(409, _("Messages can only be sent for published events."))
    return event


def registration_of(event: Event, registration_id: int) -> Registration:
    """A registration of ``event``; one of another event is as unknown as a missing one."""
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id:
        raise Refused(404, _("This registration does not exist."))
    return registration
