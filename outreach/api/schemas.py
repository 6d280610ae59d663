"""Reading API requests and shaping API responses.

Everything the JSON API accepts is checked here for shape and type before a
service sees it; every body it returns is built here, so the OpenAPI document
(outreach/api/openapi.py) has one place to agree with.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Request, jsonify
from flask.wrappers import Response
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from outreach.models import (
    Event,
    Organisation,
    Registration,
    RegistrationQuestion,
    RegistrationStatus,
    Topic,
)
from outreach.services.events import FORMATS, EventFilters
from outreach.services.registration_input import (
    MAX_NAME_LENGTH,
    RegistrationDetails,
    has_control_characters,
)
from outreach.services.registrations import waitlist_position

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
# Longer than any slug, topic or language code we store; anything longer is a typo or a probe.
MAX_QUERY_VALUE_LENGTH = 120
MAX_SLUG_LENGTH = 120

REQUIRED_REGISTRATION_FIELDS = ("name", "email", "language", "consent")


class InvalidRequest(Exception):
    """The request is well-formed JSON or a query string, but fields have the wrong shape."""

    def __init__(self, fields: dict[str, str]):
        super().__init__(fields)
        self.fields = fields


# -- errors -------------------------------------------------------------------


def error_response(status: int, code: str, message: str, **extra: Any) -> Response:
    """Return the API's error body ``{"error", "message", …}`` with ``status``."""
    response = jsonify(error=code, message=str(message), **extra)
    response.status_code = status
    return response


def invalid_response(fields: Mapping[str, str], message: str | None = None) -> Response:
    return error_response(
        422,
        "invalid",
        message or _("Please correct the marked fields."),
        fields={name: str(text) for name, text in fields.items()},
    )


# -- reading requests ---------------------------------------------------------


def is_plausible_slug(value: str) -> bool:
    """Tell whether ``value`` could name an event; odd ones are answered with 404 directly."""
    return 0 < len(value) <= MAX_SLUG_LENGTH and not has_control_characters(value)


def _positive_int(raw: str | None, default: int) -> int:
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9 or int(raw) < 1:
        raise ValueError(_("Please give a whole number of 1 or more."))
    return int(raw)


def _query_value(raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    if len(raw) > MAX_QUERY_VALUE_LENGTH or has_control_characters(raw):
        raise ValueError(_("This value is not one we know."))
    return raw


def event_list_query(args: Mapping[str, str]) -> tuple[EventFilters, int, int]:
    """Parse ``?topic&language&format&host&page&per_page``; raise InvalidRequest per field.

    ``per_page`` above the maximum is capped rather than refused.
    """
    fields: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name in ("topic", "language", "host"):
        try:
            values[name] = _query_value(args.get(name))
        except ValueError as problem:
            fields[name] = str(problem)
    fmt = args.get("format") or None
    if fmt is not None and fmt not in FORMATS:
        fields["format"] = _("Please choose one of: %(choices)s.", choices=", ".join(FORMATS))
    page = per_page = 1
    try:
        page = _positive_int(args.get("page"), 1)
    except ValueError as problem:
        fields["page"] = str(problem)
    try:
        per_page = min(_positive_int(args.get("per_page"), DEFAULT_PER_PAGE), MAX_PER_PAGE)
    except ValueError as problem:
        fields["per_page"] = str(problem)
    if fields:
        raise InvalidRequest(fields)
    return EventFilters(format=fmt, **values), page, per_page


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_object_body(request: Request) -> dict[str, Any]:
    """Return the request's JSON object, or raise 415 / 400 (413 comes from Werkzeug)."""
    if not request.is_json:
        raise UnsupportedMediaType(_("Please send the request body as application/json."))
    raw = request.get_data(cache=False)
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    # RecursionError: deeply nested arrays are valid JSON that the parser gives up on.
    except (ValueError, RecursionError):
        raise BadRequest(_("The request body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise BadRequest(_("The request body must be a JSON object."))
    return data


def _type_problem(name: str, value: Any) -> str | None:
    if name in ("name", "email", "language"):
        return None if isinstance(value, str) else _("Please send a string.")
    if name == "guests":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else _("Please send a whole number.")
    if name == "answers":
        return None if isinstance(value, dict) else _("Please send an object of answers.")
    if name == "consent":
        return None if isinstance(value, bool) else _("Please send true or false.")
    return _("This field is not part of a registration.")


def registration_details(data: Mapping[str, Any]) -> RegistrationDetails:
    """Check the JSON types of a registration; the service checks the values."""
    fields: dict[str, str] = {}
    for name in REQUIRED_REGISTRATION_FIELDS:
        if name not in data:
            fields[name] = _("This field is required.")
    for name, value in data.items():
        problem = _type_problem(name, value)
        if problem:
            fields[name] = problem
    # As sent, before spaces are trimmed: the document promises clients this limit.
    if isinstance(data.get("name"), str) and len(data["name"]) > MAX_NAME_LENGTH:
        fields["name"] = _("Please use at most %(n)d characters.", n=MAX_NAME_LENGTH)
    if fields:
        raise InvalidRequest(fields)
    return RegistrationDetails(
        name=data["name"],
        email=data["email"],
        language=data["language"],
        guests=data.get("guests", 0),
        answers=data.get("answers", {}),
        consent=data["consent"],
    )


# -- shaping responses --------------------------------------------------------


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _host(org: Organisation) -> dict[str, Any]:
    return {"slug": org.slug, "name": org.name}


def _topic(topic: Topic) -> dict[str, Any]:
    return {"slug": topic.slug, "name": dict(topic.names or {})}


def _venue(event: Event) -> dict[str, Any] | None:
    if not (event.venue_name or event.venue_address or event.venue_city):
        return None
    return {"name": event.venue_name, "address": event.venue_address, "city": event.venue_city}


def _question(question: RegistrationQuestion) -> dict[str, Any]:
    return {
        "id": question.id,
        "kind": question.kind.value,
        "required": question.required,
        "label": dict(question.label or {}),
        "options": [
            {"value": option["value"], "label": dict(option.get("label") or {})}
            for option in question.options or []
        ],
        "max_length": RegistrationQuestion.MAX_TEXT_LENGTH.get(question.kind),
    }


def event_summary(event: Event, now: datetime) -> dict[str, Any]:
    """The public facts of an event, as listed; never its online link."""
    return {
        "slug": event.slug,
        "status": event.status.value,
        "texts": {
            locale: {
                "title": text.title,
                "summary": text.summary,
                "description": text.description,
            }
            for locale, text in sorted(event.translations.items())
        },
        "starts_at": _utc(event.starts_at),
        "ends_at": _utc(event.ends_at),
        "timezone": event.timezone,
        "starts_at_local": event.local_start.isoformat(),
        "ends_at_local": event.local_end.isoformat(),
        "venue": _venue(event),
        "online": event.is_online,
        "hosts": [_host(org) for org in event.hosts],
        "topics": [_topic(topic) for topic in event.topics],
        "languages": event.languages,
        "seats_left": event.seats_left,
        "waitlist_enabled": event.waitlist_enabled,
        "max_guests": event.max_guests,
        "registration": event.registration_window(now).value,
    }


def event_detail(event: Event, now: datetime) -> dict[str, Any]:
    """An event with everything a registration form needs."""
    return {
        **event_summary(event, now),
        "questions": [_question(question) for question in event.questions],
    }


def event_page(pagination, now: datetime) -> dict[str, Any]:
    return {
        "items": [event_summary(event, now) for event in pagination.items],
        "page": pagination.page,
        "per_page": pagination.per_page,
        "total": pagination.total,
        "pages": pagination.pages,
    }


def registration_body(registration: Registration) -> dict[str, Any]:
    """A registration as its owner sees it; the online link only once confirmed."""
    event = registration.event
    confirmed = registration.status is RegistrationStatus.CONFIRMED
    return {
        "status": registration.status.value,
        "name": registration.name,
        "email": registration.email,
        "language": registration.language,
        "guests": registration.guests,
        "answers": dict(registration.answers or {}),
        "waitlist_position": waitlist_position(registration),
        "created_at": _utc(registration.created_at),
        "can_be_cancelled": registration.can_be_cancelled,
        "event": {
            "slug": event.slug,
            "title": event.text(registration.language).title,
            "starts_at": _utc(event.starts_at),
        },
        "online_url": (event.online_url or None) if confirmed else None,
    }


def registration_created(status: RegistrationStatus, token: str, manage_url: str) -> dict:
    return {"status": status.value, "manage_token": token, "manage_url": manage_url}


def link_sent() -> dict[str, str]:
    """The answer to a repeated registration: it never carries a token."""
    return {
        "status": "email_sent",
        "detail": _(
            "We have sent the details of the registration and a private link to the address given."
        ),
    }
