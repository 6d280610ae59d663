"""The OpenAPI description of the write endpoints: events, with a bearer token.

Kept apart from outreach/api/openapi.py, which merges these paths, schemas
and responses into the one document it serves.
"""

from __future__ import annotations

from typing import Any

from outreach.api.event_schemas import MAX_LIST_ITEMS
from outreach.models import EventStatus, QuestionKind
from outreach.services.event_editing import (
    MAX_CAPACITY,
    MAX_GUESTS,
    MAX_HOSTS,
    MAX_OPTIONS,
    MAX_QUESTIONS,
)
from outreach.services.review import MAX_COMMENT_LENGTH
from outreach.services.scheduling import MAX_REASON_LENGTH, TEXT_LIMITS, TRANSLATION_LIMITS

JSON = "application/json"
BEARER = [{"bearerAuth": []}]
LANGUAGE_KEY = {"pattern": "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$"}

STRING = {"type": "string"}
NULLABLE_DATE_TIME = {"type": ["string", "null"], "format": "date-time"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _response_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def _object(properties: dict[str, Any], *, required: list[str] | None = None) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


def _nullable_text(limit: int, description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": ["string", "null"], "maxLength": limit}
    if description:
        schema["description"] = description
    return schema


def _event_fields() -> dict[str, Any]:
    """What a create or patch body may say, beside texts."""
    return {
        "starts_at": {
            "type": "string",
            "format": "date-time",
            "description": "ISO 8601 with an offset, e.g. 2027-03-14T18:00:00+01:00.",
        },
        "ends_at": {"type": "string", "format": "date-time", "description": "After starts_at."},
        "timezone": {
            **STRING,
            "maxLength": 64,
            "default": "Europe/Berlin",
            "description": "IANA zone the event takes place in.",
        },
        "venue_name": _nullable_text(
            TEXT_LIMITS["venue_name"], "A venue or an online_url is needed."
        ),
        "venue_address": _nullable_text(TEXT_LIMITS["venue_address"]),
        "venue_city": _nullable_text(TEXT_LIMITS["venue_city"]),
        "online_url": _nullable_text(
            TEXT_LIMITS["online_url"], "https:// link; given only to confirmed registrations."
        ),
        "capacity": {
            "type": ["integer", "null"],
            "minimum": 0,
            "maximum": MAX_CAPACITY,
            "description": "Seats; null for no limit.",
        },
        "waitlist_enabled": {"type": "boolean", "default": True},
        "max_guests": {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_GUESTS},
        "registration_opens_at": NULLABLE_DATE_TIME,
        "registration_closes_at": {
            **NULLABLE_DATE_TIME,
            "description": "After registration opens and before the event starts.",
        },
        "contact_email": {"type": ["string", "null"], "format": "email", "maxLength": 254},
        "languages": {
            "type": "array",
            "items": {**STRING, **LANGUAGE_KEY},
            "maxItems": MAX_LIST_ITEMS,
            "description": "Languages the event is held in; default: those of texts.",
        },
        "topics": {
            "type": "array",
            "items": STRING,
            "maxItems": MAX_LIST_ITEMS,
            "description": "Topic slugs.",
        },
        "hosts": {
            "type": "array",
            "items": STRING,
            "maxItems": MAX_HOSTS,
            "description": "Organisation slugs, the lead host first. A partner's own "
            "organisation always hosts, and leads, what the partner creates.",
        },
        "questions": {
            "type": "array",
            "items": _ref("QuestionInput"),
            "maxItems": MAX_QUESTIONS,
            "description": "Questions for registrants. Fixed once people have registered.",
        },
        "reminders_enabled": {"type": "boolean", "default": True},
    }


def write_schemas(event_properties: dict[str, Any]) -> dict[str, Any]:
    """Request and response schemas of the write endpoints.

    ``event_properties`` are those of the public Event representation, which
    ManagedEvent extends with what only editors see.
    """
    texts = {
        "type": "object",
        "propertyNames": LANGUAGE_KEY,
        "minProperties": 1,
        "description": "A version per locale; a version needs a title.",
        "additionalProperties": _ref("EventTextInput"),
    }
    fields = _event_fields()
    return {
        "EventTextInput": _object(
            {name: {**STRING, "maxLength": limit} for name, limit in TRANSLATION_LIMITS.items()},
            required=[],
        ),
        "QuestionOptionInput": _object(
            {
                "value": STRING,
                "label": {"type": "object", "additionalProperties": STRING},
            },
            required=["value"],
        ),
        "QuestionInput": _object(
            {
                "kind": {"enum": [kind.value for kind in QuestionKind]},
                "label": {
                    "type": "object",
                    "propertyNames": LANGUAGE_KEY,
                    "additionalProperties": STRING,
                    "description": "The question per locale.",
                },
                "required": {"type": "boolean", "default": False},
                "options": {
                    "type": "array",
                    "items": _ref("QuestionOptionInput"),
                    "maxItems": MAX_OPTIONS,
                    "description": "At least two, for single and multiple choice.",
                },
            },
            required=["kind", "label"],
        ),
        "EventCreate": _object(
            {"texts": texts, **fields}, required=["texts", "starts_at", "ends_at"]
        ),
        "EventPatch": _object(
            {
                "texts": {
                    **texts,
                    "minProperties": 0,
                    "description": "Merged into the texts: fields left out stay, "
                    "a locale set to null is removed.",
                    "additionalProperties": {"oneOf": [_ref("EventTextInput"), {"type": "null"}]},
                },
                **fields,
            },
            required=[],
        ),
        "CancelRequest": _object(
            {"reason": _nullable_text(MAX_REASON_LENGTH, "Told to registrants.")}, required=[]
        ),
        "SubmitRequest": _object(
            {"comment": _nullable_text(MAX_COMMENT_LENGTH, "For the reviewing staff.")},
            required=[],
        ),
        "ManagedEvent": _object(
            {
                **event_properties,
                "status": {"enum": [status.value for status in EventStatus]},
                "online_url": {"type": ["string", "null"]},
                "capacity": {"type": ["integer", "null"], "minimum": 0},
                "contact_email": {"type": ["string", "null"]},
                "registration_opens_at": NULLABLE_DATE_TIME,
                "registration_closes_at": NULLABLE_DATE_TIME,
                "reminders_enabled": {"type": "boolean"},
                "review_comment": {
                    "type": ["string", "null"],
                    "description": "What staff asked to change, while the draft is back "
                    "with its hosts.",
                },
                "cancellation_reason": {"type": ["string", "null"]},
            }
        ),
    }


def write_responses() -> dict[str, Any]:
    def error(description: str, **extra: Any) -> dict[str, Any]:
        schema = {"$ref": "#/components/schemas/Error"}
        return {"description": description, "content": {JSON: {"schema": schema}}, **extra}

    return {
        "Unauthorized": error(
            "No API token, or one that is unknown, revoked, or whose account is deactivated.",
            headers={
                "WWW-Authenticate": {
                    "description": "The Bearer challenge (RFC 6750).",
                    "schema": STRING,
                }
            },
        ),
        "Forbidden": error("The token's user may not do this to this event."),
        "EventNotFound": error("No such event, or none the token's user may see."),
        "EventConflict": error(
            "Not possible in the event's state: not_changeable (cancelled) or not_reviewable."
        ),
    }


def _write(
    operation_id: str,
    summary: str,
    description: str,
    *,
    body: str | None,
    body_required: bool = True,
    success: tuple[str, str],
    errors: tuple[str, ...],
) -> dict[str, Any]:
    status, success_description = success
    names = {
        "400": "BadRequest",
        "401": "Unauthorized",
        "403": "Forbidden",
        "404": "EventNotFound",
        "409": "EventConflict",
        "413": "PayloadTooLarge",
        "415": "UnsupportedMediaType",
        "422": "Invalid",
        "429": "TooManyRequests",
    }
    ok: dict[str, Any] = {
        "description": success_description,
        "content": {JSON: {"schema": _ref("ManagedEvent")}},
    }
    if status == "201":
        ok["headers"] = {"Location": {"description": "The event's API address.", "schema": STRING}}
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "description": description,
        "security": BEARER,
        "responses": {
            status: ok,
            **{code: _response_ref(names[code]) for code in (*errors, "429")},
        },
    }
    if body is not None:
        operation["requestBody"] = {
            "required": body_required,
            "content": {JSON: {"schema": _ref(body)}},
        }
    return operation


def write_paths() -> dict[str, dict[str, Any]]:
    """Operations to merge into the document's paths (by path, then method)."""
    body_errors = ("400", "401", "413", "415", "422")
    return {
        "/events": {
            "post": _write(
                "createEvent",
                "Create a draft event.",
                "Staff choose the hosts; a partner user's organisation leads what they "
                "create. The draft is not public until staff publish it.",
                body="EventCreate",
                success=("201", "The draft, as its editors see it."),
                errors=(*body_errors, "403"),
            )
        },
        "/events/{slug}": {
            "patch": _write(
                "updateEvent",
                "Change an event: only the fields sent.",
                "Staff may change events until they are cancelled, partner users their "
                "own drafts. Changing the time, place or title of a published event "
                "sends its registrants an updated calendar invitation.",
                body="EventPatch",
                success=("200", "The changed event."),
                errors=(*body_errors, "403", "404", "409"),
            )
        },
        "/events/{slug}/submit": {
            "parameters": [{"$ref": "#/components/parameters/slug"}],
            "post": _write(
                "submitEvent",
                "Send a draft to staff for review.",
                "For the event's hosts and staff; the body is optional.",
                body="SubmitRequest",
                body_required=False,
                success=("200", "The submitted event."),
                errors=(*body_errors, "404", "409"),
            ),
        },
        "/events/{slug}/publish": {
            "parameters": [{"$ref": "#/components/parameters/slug"}],
            "post": _write(
                "publishEvent",
                "Publish a draft or submitted event (staff only).",
                "The hosts are told by email. An event that has started cannot be published.",
                body=None,
                success=("200", "The published event."),
                errors=("400", "401", "403", "404", "409", "413", "415", "422"),
            ),
        },
        "/events/{slug}/cancel": {
            "parameters": [{"$ref": "#/components/parameters/slug"}],
            "post": _write(
                "cancelEvent",
                "Cancel an event (staff only); cancelling twice is harmless.",
                "Every registrant of a published event gets a cancellation that removes "
                "it from their calendar. The body is optional.",
                body="CancelRequest",
                body_required=False,
                success=("200", "The cancelled event."),
                errors=(*body_errors, "403", "404"),
            ),
        },
    }


def security_schemes() -> dict[str, Any]:
    return {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from the account page or `flask outreach "
            "create-token`: Authorization: Bearer otk_…. It acts as its user.",
        }
    }
