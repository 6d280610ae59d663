"""Check-in at the door: the phone page, its live counts, the buttons, and the QR code link.

Every page works without JavaScript (a GET search form, POST buttons that
come back to the page); static/js/checkin.js sends the same forms with
fetch, asking for JSON, and updates the page in place. The views are
routed in views.py.
"""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from outreach.desk.access import (
    Refused,
    event_for_check_in,
    local_time,
    locale,
    registration_of,
    wants_json,
)
from outreach.models import Event, Registration
from outreach.policy import member_required
from outreach.services import checkin, exports
from outreach.services.errors import DomainError

#: At the door nobody scrolls through hundreds of names: narrow the search instead.
MAX_RESULTS = 25
MAX_SEARCH_LENGTH = 200


def _search(args) -> str:
    return (args.get("q") or "").strip()[:MAX_SEARCH_LENGTH]


def _page(event: Event, *, problem: str | None = None, code: int = 200):
    search = _search(request.args) or _search(request.form)
    found = exports.find_registrations(event, search=search) if search else []
    return (
        render_template(
            "desk/check_in.html",
            event=event,
            text=event.text(locale()),
            counts=checkin.check_in_counts(event),
            search=search,
            results=found[:MAX_RESULTS],
            more=len(found) > MAX_RESULTS,
            problem=problem,
        ),
        code,
    )


@member_required
def check_in_page(event_id: int):
    """The door page: counts, a search, and a button per person found."""
    return _page(event_for_check_in(event_id))


@member_required
def check_in_counts(event_id: int):
    """The counts for the page to refresh itself."""
    event = event_for_check_in(event_id)
    response = jsonify(checkin.check_in_counts(event).as_dict())
    response.headers["Cache-Control"] = "no-store"
    return response


def _done(event: Event, registration: Registration, message: str):
    """Answer a check-in button: JSON with the new row and counts, or back to the page."""
    if wants_json():
        return jsonify(
            ok=True,
            message=message,
            row=render_template(
                "desk/_person.html",
                person=registration,
                event=event,
                search=_search(request.form),
            ),
            counts=checkin.check_in_counts(event).as_dict(),
        )
    flash(message, "success")
    return redirect(
        url_for("desk.check_in", event_id=event.id, q=_search(request.form) or None), code=303
    )


def _failed(event: Event, problem: DomainError):
    if wants_json():
        return jsonify(ok=False, message=problem.message), 409
    return _page(event, problem=problem.message, code=409)


@member_required
def check_in_person(event_id: int, registration_id: int):
    """Check one person in; doing it twice changes nothing."""
    event = event_for_check_in(event_id)
    registration = registration_of(event, registration_id)
    name = registration.name
    try:
        changed = checkin.check_in(registration, by=current_user)
    except DomainError as problem:
        return _failed(event, problem)
    if changed:
        message = _("%(name)s is checked in.", name=name)
    else:
        message = _(
            "%(name)s was already checked in at %(time)s.",
            name=name,
            time=local_time(registration.checked_in_at, event),
        )
    return _done(event, registration, message)


@member_required
def undo_check_in(event_id: int, registration_id: int):
    """Take a check-in back, for a tap on the wrong name."""
    event = event_for_check_in(event_id)
    registration = registration_of(event, registration_id)
    name = registration.name
    try:
        changed = checkin.undo_check_in(registration, by=current_user)
    except DomainError as problem:
        return _failed(event, problem)
    if changed:
        message = _("The check-in of %(name)s is undone.", name=name)
    else:
        message = _("%(name)s was not checked in.", name=name)
    return _done(event, registration, message)


def _scan_page(event: Event, registration: Registration, token: str, **extra):
    code = extra.pop("code", 200)
    return (
        render_template(
            "desk/scan.html",
            event=event,
            text=event.text(locale()),
            registration=registration,
            token=token,
            **extra,
        ),
        code,
    )


@member_required
def scan(token: str):
    """What a QR code opens: the person and a button (GET); the check-in itself (POST)."""
    registration = checkin.registration_for_check_in_token(token)
    if registration is None:
        raise Refused(404, _("This check-in code is not valid."))
    event = event_for_check_in(registration.event_id)
    if request.method == "GET":
        return _scan_page(event, registration, token)
    expected = request.form.get("event_id", type=int)
    if expected is not None and expected != event.id:
        # Scanned at the door of another event: never check in there by mistake.
        raise Refused(
            409,
            _("This code belongs to another event: %(title)s.", title=event.title_in(locale())),
        )
    name = registration.name
    try:
        changed = checkin.check_in(registration, by=current_user)
    except DomainError as problem:
        if wants_json():
            return jsonify(ok=False, message=f"{name}: {problem.message}"), 409
        return _scan_page(event, registration, token, problem=problem.message, code=409)
    if changed:
        message = _("%(name)s is checked in.", name=name)
    else:
        message = _(
            "%(name)s was already checked in at %(time)s.",
            name=name,
            time=local_time(registration.checked_in_at, event),
        )
    if wants_json():
        return jsonify(
            ok=True,
            message=message,
            changed=changed,
            counts=checkin.check_in_counts(event).as_dict(),
        )
    flash(message, "success")
    return redirect(url_for("desk.scan", token=token), code=303)
