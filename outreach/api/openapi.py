"""The OpenAPI 3.1 document of the JSON API v1.

Built by a function so the server address and the languages come from the
configuration; tests/api checks it against the routes and every response.
Schemas are JSON Schema 2020-12, as OpenAPI 3.1 has it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from outreach.api.openapi_writes import (
    security_schemes,
    write_paths,
    write_responses,
    write_schemas,
)
from outreach.api.schemas import DEFAULT_PER_PAGE, MAX_PER_PAGE
from outreach.models import QuestionKind, RegistrationStatus, RegistrationWindow
from outreach.services import consent
from outreach.services.events import FORMATS

JSON = "application/json"


def _api_consent() -> str:
    text = consent.current(consent.Purpose.API_REGISTRATION, "en")
    wording = text.text(hosts="the event's hosts")
    return f"{text.version}: “{wording}”"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _response_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def _object(properties: dict[str, Any], *, required: Iterable[str] | None = None) -> dict:
    """A closed object; every property is required unless ``required`` says otherwise."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties if required is None else required),
        "additionalProperties": False,
    }


def _json(schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}, **extra}


STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
DATE_TIME = {"type": "string", "format": "date-time"}
LOCALISED = {
    "type": "object",
    "description": 'Text per locale code, e.g. {"de": "…", "en": "…"}.',
    "additionalProperties": STRING,
}


def _event_summary_properties() -> dict[str, Any]:
    return {
        "slug": STRING,
        "status": {"enum": ["published", "cancelled"]},
        "texts": {
            "type": "object",
            "description": "Title, summary and description per locale.",
            "additionalProperties": _ref("EventText"),
        },
        "starts_at": {**DATE_TIME, "description": "Start in UTC."},
        "ends_at": {**DATE_TIME, "description": "End in UTC."},
        "timezone": {**STRING, "description": "IANA zone the event takes place in."},
        "starts_at_local": {**DATE_TIME, "description": "Start in the event's zone."},
        "ends_at_local": {**DATE_TIME, "description": "End in the event's zone."},
        "venue": {"oneOf": [_ref("Venue"), {"type": "null"}]},
        "online": {
            "type": "boolean",
            "description": "Whether people can join online; the link goes only to "
            "confirmed registrations.",
        },
        "hosts": {"type": "array", "items": _ref("Host")},
        "topics": {"type": "array", "items": _ref("Topic")},
        "languages": {
            "type": "array",
            "items": STRING,
            "description": "Languages the event is held in.",
        },
        "seats_left": {
            "type": ["integer", "null"],
            "minimum": 0,
            "description": "Free seats; null when the event has no limit.",
        },
        "waitlist_enabled": {"type": "boolean"},
        "max_guests": {"type": "integer", "minimum": 0},
        "registration": {
            "enum": [window.value for window in RegistrationWindow],
            "description": "Whether the event takes registrations now, and if not, why.",
        },
    }


def _schemas(languages: list[str]) -> dict[str, Any]:
    event_summary = _event_summary_properties()
    return {
        "Error": _object(
            {
                "error": {**STRING, "description": "A short code, e.g. not_found."},
                "message": {**STRING, "description": "What went wrong, for people."},
                "reason": {
                    "enum": [window.value for window in RegistrationWindow],
                    "description": "Why registration is closed (registration_closed only).",
                },
            },
            required=["error", "message"],
        ),
        "ValidationError": _object(
            {
                "error": {"const": "invalid"},
                "message": STRING,
                "fields": {
                    "type": "object",
                    "description": "A message per field; answers are named answers.<id>.",
                    "additionalProperties": STRING,
                },
            }
        ),
        "EventText": _object({"title": STRING, "summary": STRING, "description": STRING}),
        "Venue": _object(
            {"name": NULLABLE_STRING, "address": NULLABLE_STRING, "city": NULLABLE_STRING}
        ),
        "Host": _object({"slug": STRING, "name": STRING}),
        "Topic": _object({"slug": STRING, "name": LOCALISED}),
        "QuestionOption": _object({"value": STRING, "label": LOCALISED}),
        "Question": _object(
            {
                "id": {"type": "integer"},
                "kind": {"enum": [kind.value for kind in QuestionKind]},
                "required": {"type": "boolean"},
                "label": LOCALISED,
                "options": {"type": "array", "items": _ref("QuestionOption")},
                "max_length": {
                    "type": ["integer", "null"],
                    "description": "Longest answer accepted, for text questions.",
                },
            }
        ),
        "EventSummary": _object(event_summary),
        "Event": _object(
            {**event_summary, "questions": {"type": "array", "items": _ref("Question")}}
        ),
        "EventPage": _object(
            {
                "items": {"type": "array", "items": _ref("EventSummary")},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
                "total": {"type": "integer", "minimum": 0},
                "pages": {"type": "integer", "minimum": 0},
            }
        ),
        "Answer": {
            "description": "Text for text and single-choice questions, a list of option "
            "values for multiple choice, true or false for a checkbox.",
            "oneOf": [STRING, {"type": "array", "items": STRING}, {"type": "boolean"}],
        },
        "RegistrationRequest": _object(
            {
                "name": {**STRING, "maxLength": 200},
                "email": {**STRING, "format": "email", "maxLength": 254},
                "language": {
                    **STRING,
                    "enum": languages,
                    "description": "The language of the emails this person gets.",
                },
                "guests": {
                    "type": "integer",
                    "minimum": 0,
                    "default": 0,
                    "description": "People coming along; at most the event's max_guests.",
                },
                "answers": {
                    "type": "object",
                    "description": "Answers keyed by question id.",
                    "additionalProperties": _ref("Answer"),
                    "default": {},
                },
                "consent": {
                    "type": "boolean",
                    "description": "Must be true: the person agreed to the consent text "
                    + _api_consent()
                    + " (see the privacy notice at /privacy). It is recorded with its "
                    "version and the request's language (?lang= or Accept-Language).",
                },
            },
            required=["name", "email", "language", "consent"],
        ),
        "RegistrationCreated": _object(
            {
                "status": {"enum": ["confirmed", "waitlisted"]},
                "manage_token": {
                    **STRING,
                    "description": "Private token for GET and DELETE /registrations/{token}.",
                },
                "manage_url": {**STRING, "format": "uri", "description": "The private page."},
            }
        ),
        "EmailSent": _object(
            {
                "status": {"const": "email_sent"},
                "detail": STRING,
            }
        ),
        "Registration": _object(
            {
                "status": {"enum": [status.value for status in RegistrationStatus]},
                "name": STRING,
                "email": STRING,
                "language": STRING,
                "guests": {"type": "integer", "minimum": 0},
                "answers": {"type": "object", "additionalProperties": _ref("Answer")},
                "waitlist_position": {
                    "type": ["integer", "null"],
                    "minimum": 1,
                    "description": "1 is next in line; null unless waitlisted.",
                },
                "created_at": DATE_TIME,
                "can_be_cancelled": {"type": "boolean"},
                "event": _object({"slug": STRING, "title": STRING, "starts_at": DATE_TIME}),
                "online_url": {
                    "type": ["string", "null"],
                    "description": "The link to join online; only for confirmed registrations.",
                },
            }
        ),
        "OpenAPIDocument": {"type": "object", "description": "This document."},
        **write_schemas(
            {**event_summary, "questions": {"type": "array", "items": _ref("Question")}}
        ),
    }


def _responses() -> dict[str, Any]:
    return {
        "BadRequest": _json(_ref("Error"), "The body is not JSON, or not a JSON object."),
        "NotFound": _json(_ref("Error"), "No such event, or the link is unknown or expired."),
        "Conflict": _json(
            _ref("Error"),
            "Refused in this state: registration_closed (with reason), event_full, "
            "or not_changeable.",
        ),
        "PayloadTooLarge": _json(_ref("Error"), "The body is larger than 1 MiB."),
        "UnsupportedMediaType": _json(_ref("Error"), "The body is not application/json."),
        "Invalid": _json(_ref("ValidationError"), "Some fields are wrong; see fields."),
        "TooManyRequests": _json(
            _ref("Error"),
            "Too many requests from this address.",
            headers={
                "Retry-After": {
                    "description": "Seconds to wait before trying again.",
                    "schema": {"type": "integer"},
                }
            },
        ),
        **write_responses(),
    }


def _parameters() -> dict[str, Any]:
    def query(name: str, schema: dict, description: str) -> dict:
        return {
            "name": name,
            "in": "query",
            "required": False,
            "schema": schema,
            "description": description,
        }

    return {
        "slug": {
            "name": "slug",
            "in": "path",
            "required": True,
            "schema": STRING,
            "description": "The event's slug.",
        },
        "token": {
            "name": "token",
            "in": "path",
            "required": True,
            "schema": STRING,
            "description": "The manage token returned when registering.",
        },
        "topic": query("topic", STRING, "Only events with this topic slug."),
        "language": query("language", STRING, "Only events held in this language."),
        "format": query(
            "format",
            {"enum": [*FORMATS, ""]},
            "Only online or in-person events; empty, like no value, means both.",
        ),
        "host": query("host", STRING, "Only events this organisation (slug) hosts."),
        "page": query("page", {"type": "integer", "minimum": 1, "default": 1}, "Page number."),
        "per_page": query(
            "per_page",
            {"type": "integer", "minimum": 1, "default": DEFAULT_PER_PAGE},
            f"Events per page; values above {MAX_PER_PAGE} count as {MAX_PER_PAGE}.",
        ),
    }


def _param_refs(*names: str) -> list[dict[str, str]]:
    return [{"$ref": f"#/components/parameters/{name}"} for name in names]


def _paths() -> dict[str, Any]:
    limited = {"429": _response_ref("TooManyRequests")}
    return {
        "/events": {
            "get": {
                "operationId": "listEvents",
                "summary": "List published upcoming events, soonest first.",
                "parameters": _param_refs(
                    "topic", "language", "format", "host", "page", "per_page"
                ),
                "responses": {
                    "200": _json(_ref("EventPage"), "One page of events."),
                    "422": _response_ref("Invalid"),
                    **limited,
                },
            }
        },
        "/events/{slug}": {
            "parameters": _param_refs("slug"),
            "get": {
                "operationId": "getEvent",
                "summary": "Read one published (or cancelled) event with its questions.",
                "responses": {
                    "200": _json(_ref("Event"), "The event."),
                    "404": _response_ref("NotFound"),
                    **limited,
                },
            },
        },
        "/events/{slug}/registrations": {
            "parameters": _param_refs("slug"),
            "post": {
                "operationId": "register",
                "summary": "Register for an event.",
                "description": "Confirmed while seats remain, waitlisted when the event is "
                "full and has a waitlist. An address already registered for the event gets "
                "its manage link by email (202) and no token.",
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": _ref("RegistrationRequest")}},
                },
                "responses": {
                    "201": _json(
                        _ref("RegistrationCreated"),
                        "Registered.",
                        headers={
                            "Location": {
                                "description": "The registration's API address.",
                                "schema": STRING,
                            }
                        },
                    ),
                    "202": _json(_ref("EmailSent"), "Already registered: link sent by email."),
                    "400": _response_ref("BadRequest"),
                    "404": _response_ref("NotFound"),
                    "409": _response_ref("Conflict"),
                    "413": _response_ref("PayloadTooLarge"),
                    "415": _response_ref("UnsupportedMediaType"),
                    "422": _response_ref("Invalid"),
                    **limited,
                },
            },
        },
        "/registrations/{token}": {
            "parameters": _param_refs("token"),
            "get": {
                "operationId": "getRegistration",
                "summary": "Read a registration by its manage token.",
                "responses": {
                    "200": _json(_ref("Registration"), "The registration."),
                    "404": _response_ref("NotFound"),
                    **limited,
                },
            },
            "delete": {
                "operationId": "cancelRegistration",
                "summary": "Cancel a registration; cancelling twice is harmless.",
                "responses": {
                    "200": _json(_ref("Registration"), "The cancelled registration."),
                    "404": _response_ref("NotFound"),
                    "409": _response_ref("Conflict"),
                    **limited,
                },
            },
        },
        "/openapi.json": {
            "get": {
                "operationId": "getOpenAPI",
                "summary": "This document.",
                "responses": {
                    "200": _json(_ref("OpenAPIDocument"), "The OpenAPI document."),
                    **limited,
                },
            }
        },
    }


def _all_paths() -> dict[str, Any]:
    paths = _paths()
    for path, item in write_paths().items():
        paths[path] = {**paths.get(path, {}), **item}
    return paths


def openapi_document(*, base_url: str, languages: Iterable[str]) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document for the API served under ``base_url``."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Outreach API",
            "version": "1.0.0",
            "description": "Published events and registrations; with an API token "
            "(bearerAuth), creating and changing events. Error messages follow "
            "?lang=, then Accept-Language. Requests are rate-limited per client address.",
        },
        "servers": [{"url": base_url.rstrip("/") + "/api/v1"}],
        "paths": _all_paths(),
        "components": {
            "schemas": _schemas(list(languages)),
            "parameters": _parameters(),
            "responses": _responses(),
            "securitySchemes": security_schemes(),
        },
    }
