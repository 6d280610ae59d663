"""The JSON API v1: events, registrations, event writes with a token, the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from outreach import policy
from outreach.api import event_schemas, schemas
from outreach.api.auth import Unauthenticated, token_required
from outreach.api.openapi import openapi_document
from outreach.extensions import limiter
from outreach.models import Event, EventStatus, Registration, User, utcnow
from outreach.services import consent, review, scheduling
from outreach.services.errors import (
    EventFull,
    InvalidInput,
    RegistrationClosed,
    RegistrationNotChangeable,
)
from outreach.services.event_editing import NotAllowed, create_event, update_event
from outreach.services.events import (
    any_event,
    event_for_registration,
    public_event,
    upcoming_events,
)
from outreach.services.registrations import cancel_registration, register
from outreach.services.tokens import registration_for_token

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# API clients get JSON, never an HTML redirect to a tidier address.
ROUTE = {"merge_slashes": False}


# Limits are read from the configuration on every request, so each app (and
# each test) can set its own. Both are shared: one budget per client for the
# whole API, and one for all its writes on top.
def _api_limit() -> str:
    return current_app.config["RATELIMIT_API"]


def _write_limit() -> str:
    return current_app.config["RATELIMIT_API_WRITE"]


def _too_many_requests() -> str:
    return _("Too many requests. Please wait a moment and try again.")


limiter.shared_limit(_api_limit, scope="api-v1", error_message=_too_many_requests)(bp)
write_limit = limiter.shared_limit(
    _write_limit, scope="api-v1-write", override_defaults=False, error_message=_too_many_requests
)


def manage_url(token: str) -> str:
    """The absolute address of a registration's private page."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for("manage.show", token=token)


def _event_or_404(slug: str, find=public_event) -> Event:
    event = find(slug) if schemas.is_plausible_slug(slug) else None
    if event is None:
        abort(404, description=_("There is no such event."))
    return event


def _registration_or_404(token: str) -> Registration:
    registration = registration_for_token(
        token, grace_days=current_app.config["MANAGE_LINK_GRACE_DAYS"]
    )
    if registration is None:
        abort(404, description=_("This link is unknown or has expired."))
    return registration


@bp.errorhandler(schemas.InvalidRequest)
def _invalid_request(error: schemas.InvalidRequest):
    return schemas.invalid_response(error.fields)


@bp.errorhandler(InvalidInput)
def _invalid_input(error: InvalidInput):
    return schemas.invalid_response(error.errors, error.message)


@bp.errorhandler(RegistrationClosed)
def _registration_closed(error: RegistrationClosed):
    return schemas.error_response(
        409, "registration_closed", error.message, reason=error.reason.value
    )


@bp.errorhandler(EventFull)
def _event_full(error: EventFull):
    return schemas.error_response(409, "event_full", error.message)


@bp.errorhandler(RegistrationNotChangeable)
def _not_changeable(error: RegistrationNotChangeable):
    return schemas.error_response(409, "not_changeable", error.message)


@bp.errorhandler(Unauthenticated)
def _unauthenticated(error: Unauthenticated):
    response = schemas.error_response(401, "unauthorized", error.message)
    response.headers["WWW-Authenticate"] = error.challenge
    return response


@bp.errorhandler(NotAllowed)
def _not_allowed(error: NotAllowed):
    return schemas.error_response(403, "forbidden", error.message)


@bp.errorhandler(scheduling.EventNotChangeable)
def _event_not_changeable(error: scheduling.EventNotChangeable):
    return schemas.error_response(409, "not_changeable", error.message)


@bp.errorhandler(review.NotReviewable)
def _not_reviewable(error: review.NotReviewable):
    return schemas.error_response(409, "not_reviewable", error.message)


@bp.get("/events", **ROUTE)
def list_events():
    filters, page, per_page = schemas.event_list_query(request.args)
    pagination = upcoming_events(filters, page=page, per_page=per_page)
    return schemas.event_page(pagination, utcnow())


@bp.get("/events/<slug>", **ROUTE)
def show_event(slug: str):
    return schemas.event_detail(_event_or_404(slug), utcnow())


@bp.post("/events/<slug>/registrations", **ROUTE)
@write_limit
def create_registration(slug: str):
    event = _event_or_404(slug, find=event_for_registration)
    details = schemas.registration_details(schemas.json_object_body(request))
    # The client asked the person; the API's consent text is recorded in the request's language.
    outcome = register(
        event,
        details,
        consent_language=str(get_locale() or ""),
        consent_purpose=consent.Purpose.API_REGISTRATION,
    )
    if outcome.is_duplicate:
        return schemas.link_sent(), 202
    token = outcome.token
    body = schemas.registration_created(outcome.status, token, manage_url(token))
    return body, 201, {"Location": url_for(".show_registration", token=token)}


@bp.get("/registrations/<token>", **ROUTE)
def show_registration(token: str):
    return schemas.registration_body(_registration_or_404(token))


@bp.delete("/registrations/<token>", **ROUTE)
@write_limit
def cancel(token: str):
    registration = _registration_or_404(token)
    cancel_registration(registration)
    return schemas.registration_body(registration)


# -- writing events, with a bearer token ---------------------------------------------


def _event_for(user: User, slug: str) -> Event:
    """The event ``user`` may open in a workspace; others' events are 404, as unknown ones."""
    event = _event_or_404(slug, find=any_event)
    if not policy.can_view(user, event):
        abort(404, description=_("There is no such event."))
    return event


def _optional_json_body() -> dict:
    """The JSON object sent, or an empty one when the request has no body at all."""
    if not request.mimetype and not request.get_data():
        return {}
    return schemas.json_object_body(request)


def _record(event: Event) -> dict:
    return event_schemas.event_record(event, utcnow())


@bp.post("/events", **ROUTE)
@write_limit
@token_required
def create_draft(user: User):
    data = event_schemas.event_input_for_new(schemas.json_object_body(request))
    event = create_event(data, by=user)
    return _record(event), 201, {"Location": url_for(".show_event", slug=event.slug)}


@bp.patch("/events/<slug>", **ROUTE)
@write_limit
@token_required
def change_event(slug: str, user: User):
    event = _event_for(user, slug)
    if not policy.can_edit(user, event):
        if event.status is EventStatus.CANCELLED:
            raise scheduling.EventNotChangeable()
        raise NotAllowed()
    data = event_schemas.event_input_for_change(event, schemas.json_object_body(request))
    return _record(update_event(event, data, by=user))


@bp.post("/events/<slug>/submit", **ROUTE)
@write_limit
@token_required
def submit_event(slug: str, user: User):
    event = _event_for(user, slug)
    comment = event_schemas.optional_text(
        _optional_json_body(), "comment", limit=review.MAX_COMMENT_LENGTH
    )
    return _record(review.submit(event, by=user, comment=comment))


@bp.post("/events/<slug>/publish", **ROUTE)
@write_limit
@token_required
def publish_event(slug: str, user: User):
    event = _event_for(user, slug)
    if not policy.is_staff(user):
        raise NotAllowed(_("Only staff can publish an event."))
    event_schemas.optional_text(_optional_json_body())
    return _record(review.publish(event, by=user))


@bp.post("/events/<slug>/cancel", **ROUTE)
@write_limit
@token_required
def cancel_event(slug: str, user: User):
    event = _event_for(user, slug)
    if not policy.is_staff(user):
        raise NotAllowed(_("Only staff can cancel an event."))
    reason = event_schemas.optional_text(
        _optional_json_body(), "reason", limit=scheduling.MAX_REASON_LENGTH
    )
    return _record(scheduling.cancel_event(event, reason, by=user))


@bp.get("/openapi.json", **ROUTE)
def openapi():
    return openapi_document(
        base_url=current_app.config["BASE_URL"], languages=current_app.config["LANGUAGES"]
    )
