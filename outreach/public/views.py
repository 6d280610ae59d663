"""Public pages: the event list, event pages with registration, organisations."""

from __future__ import annotations

from dataclasses import asdict

from babel import Locale
from babel.core import UnknownLocaleError
from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)

from outreach.extensions import limiter
from outreach.i18n import current_locale
from outreach.models import Event, RegistrationWindow, utcnow
from outreach.public.forms import language_autonym, registration_form
from outreach.services import events as event_service
from outreach.services.errors import (
    EventFull,
    InvalidInput,
    NotEnoughSeats,
    RegistrationClosed,
)
from outreach.services.events import EventFilters
from outreach.services.organisations import LOGO_NAME, logo_dir
from outreach.services.registration_input import RegistrationDetails
from outreach.services.registrations import register
from outreach.urls import is_local_path

bp = Blueprint("public", __name__)

REGISTERED_KEY = "registered_for"
LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 60 * 60
MAX_PAGE = 10_000
LOGO_MAX_AGE = 365 * 24 * 60 * 60


@bp.app_context_processor
def page_helpers() -> dict:
    """Helpers every page template may use, error pages included."""

    def language_name(code: str) -> str:
        """The name of a language in the reader's language ('Englisch' for en, in German)."""
        try:
            return Locale.parse(code).get_display_name(current_locale()) or code
        except (UnknownLocaleError, ValueError):
            return code

    def text_direction() -> str:
        try:
            return Locale.parse(current_locale()).text_direction
        except (UnknownLocaleError, ValueError):
            return "ltr"

    return {
        "language_name": language_name,
        "language_autonym": language_autonym,
        "text_direction": text_direction,
        "now_utc": utcnow,
        "site_name": current_app.config.get("SITE_NAME", "Outreach"),
    }


def _page() -> int:
    # The offset must fit a database integer; nobody pages that far.
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)


def _list_feed(filters: EventFilters, choices: dict[str, list]) -> tuple[str, dict[str, str]]:
    """The calendar feed (endpoint, arguments) that shows what the filtered list shows.

    A topic or a host chosen alone has a feed of its own, which calendars name
    after it; any other combination is the main feed with the same filters.
    """
    chosen = {name: value for name, value in asdict(filters).items() if value}
    lang = {"lang": current_locale()}
    if chosen.keys() == {"topic"} and any(t.slug == filters.topic for t in choices["topics"]):
        return "calendar.topic_feed", {"slug": filters.topic, **lang}
    if chosen.keys() == {"host"} and any(o.slug == filters.host for o in choices["hosts"]):
        return "calendar.organisation_feed", {"slug": filters.host, **lang}
    return "calendar.feed", {**chosen, **lang}


def _event_list(template_mode: str, find):
    filters = EventFilters.from_args(request.args)
    pagination = find(filters, page=_page(), per_page=current_app.config["EVENTS_PER_PAGE"])
    choices = event_service.filter_choices()
    return render_template(
        "public/events.html",
        mode=template_mode,
        pagination=pagination,
        events=pagination.items,
        filters=filters,
        choices=choices,
        feed=_list_feed(filters, choices) if template_mode == "upcoming" else None,
    )


@bp.get("/")
def events():
    return _event_list("upcoming", event_service.upcoming_events)


@bp.get("/events/past")
def past_events():
    return _event_list("past", event_service.past_events)


def _public_event_or_404(slug: str) -> Event:
    event = event_service.public_event(slug)
    if event is None:
        abort(404)
    return event


def _render_event(event: Event, form, *, status: int = 200, refusal: str | None = None):
    window = event.registration_window(utcnow())
    return (
        render_template(
            "public/event.html",
            event=event,
            text=event.text(current_locale()),
            form=form,
            window=window,
            closed_reason=(
                None if window is RegistrationWindow.OPEN else RegistrationClosed.MESSAGES[window]
            ),
            refusal=refusal,
        ),
        status,
    )


def _register_limit() -> str:
    return current_app.config["RATELIMIT_REGISTER"]


def _registered(event: Event):
    """The page after registering: the same for everyone, the email tells the rest."""
    session[REGISTERED_KEY] = event.slug
    return redirect(url_for("public.registered", slug=event.slug), code=303)


@bp.route("/events/<slug>", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"], scope="register")
def event(slug: str):
    event = _public_event_or_404(slug)
    locale = current_locale()
    waitlist = event.is_full and event.waitlist_enabled
    form = registration_form(event, locale, waitlist=waitlist)
    if not form.is_submitted():
        return _render_event(event, form)
    if form.filled_by_a_robot():
        # Dropped without a word: the robot sees what a person would.
        return _registered(event)
    if not form.validate():
        return _render_event(event, form, status=422)

    details = RegistrationDetails(
        name=form.name.data or "",
        email=form.email.data or "",
        language=form.language.data,
        guests=form.guests_value,
        answers=form.answers(),
        consent=form.consent.data is True,
    )
    try:
        register(event, details, consent_language=locale)
    except InvalidInput as problem:
        form.apply_errors(problem)
        return _render_event(event, form, status=422)
    except RegistrationClosed as refusal:
        return _render_event(event, form, status=409, refusal=refusal.message)
    except EventFull as refusal:
        if not event.is_full:  # seats remain, just not enough for this party
            form.add_error("guests", NotEnoughSeats().message)
            return _render_event(event, form, status=409)
        return _render_event(event, form, status=409, refusal=refusal.message)
    # New or already registered: the same next page for everyone; the email tells the rest.
    return _registered(event)


@bp.get("/events/<slug>/registered")
def registered(slug: str):
    event = _public_event_or_404(slug)
    if session.get(REGISTERED_KEY) != event.slug:
        return redirect(url_for("public.event", slug=event.slug))
    return render_template("public/registered.html", event=event, text=event.text(current_locale()))


@bp.get("/organisations/<slug>")
def organisation(slug: str):
    org = event_service.organisation(slug)
    if org is None:
        abort(404)
    return render_template(
        "public/organisation.html",
        organisation=org,
        events=event_service.upcoming_events_of(org),
    )


@bp.get("/logos/<name>")
def logo(name: str):
    if not LOGO_NAME.fullmatch(name):
        abort(404)
    # A new logo gets a new name, so a logo never changes under its address.
    response = send_from_directory(logo_dir(), name, max_age=LOGO_MAX_AGE)
    response.cache_control.public = True
    response.cache_control.immutable = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/language/<code>")
def set_language(code: str):
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    target = request.args.get("next", "")
    response = redirect(target if is_local_path(target) else "/")
    response.set_cookie(
        current_app.config["LANGUAGE_COOKIE"],
        code,
        max_age=LANGUAGE_COOKIE_MAX_AGE,
        samesite="Lax",
        httponly=True,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    return response


@bp.get("/healthz")
def health():
    return {"status": "ok"}
