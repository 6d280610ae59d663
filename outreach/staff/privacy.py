"""Staff pages for data-subject requests under /staff/privacy: look a person up, export, erase.

A blueprint of its own (``staff_privacy``) with the staff workspace's guard.
The address travels in the body of POST requests, never in a URL, so it
stays out of access logs, browser history and Referer headers; the pages are
not cached. Every look-up, export and erasure is audited by the service.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField
from wtforms.validators import DataRequired

from outreach.models import User, utcnow
from outreach.policy import staff_required
from outreach.privacy import display
from outreach.services import erasure as erasure_service
from outreach.services import privacy
from outreach.services import privacy_requests as requests_service
from outreach.services.errors import DomainError, InvalidInput
from outreach.services.registration_input import MAX_EMAIL_LENGTH
from outreach.staff import labels
from outreach.staff.forms import StaffForm

bp = Blueprint("staff_privacy", __name__, url_prefix="/staff/privacy")

# The counts of an erasure (services.erasure.ErasureSummary), in words.
ERASURE_COUNTS = {
    "registrations_cancelled": _l("Registrations cancelled (events not yet begun)"),
    "waitlist_promoted": _l("People moved up from the waitlist"),
    "registrations_anonymised": _l("Registrations anonymised"),
    "subscriptions_deleted": _l("Newsletter subscriptions deleted"),
    "applications_anonymised": _l("Partner applications without their contact"),
    "accounts_deactivated": _l("User accounts closed"),
    "messages_purged": _l("Emails without address and content"),
    "delivery_reports_deleted": _l("Delivery reports deleted"),
    "suppressions_hashed": _l("Suppression entries kept as a salted hash"),
    "audit_entries_scrubbed": _l("Change log entries without the address"),
    "privacy_requests_cleared": _l("Data-protection requests without the address"),
    "contacts_removed": _l("Contacts of organisations and events removed"),
}


class SearchForm(StaffForm):
    email = EmailField(
        _l("Email address"),
        [DataRequired(_l("Please enter an email address."))],
        description=_l("The whole address; upper and lower case do not matter."),
        render_kw={"autocomplete": "off", "maxlength": MAX_EMAIL_LENGTH},
    )


class PersonForm(FlaskForm):
    """The address a button on the person page acts on (sent in the body, not the URL)."""

    email = HiddenField()


@bp.before_request
@staff_required
def staff_only() -> None:
    """Let only staff in: the guard runs before every view of the blueprint."""
    return None


@bp.after_request
def no_store(response: Response) -> Response:
    # Personal data: not for the browser's cache or a proxy's.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def privacy_helpers() -> dict[str, Any]:
    return {"labels": labels, **display.helpers()}


def _user() -> User:
    """Return the signed-in user itself, not Flask-Login's proxy, for the services."""
    return current_user._get_current_object()


def _address() -> str:
    """Return the address a person page's button was pressed for; 400 if there is none."""
    form = PersonForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        return privacy.checked_address(form.email.data)
    except InvalidInput:
        abort(400)


def _index(form: SearchForm, status: int = 200):
    return (
        render_template(
            "staff/privacy/index.html",
            form=form,
            requests=requests_service.recent_requests(),
        ),
        status,
    )


@bp.get("")
def index():
    return _index(SearchForm(formdata=None))


@bp.post("")
def look_up():
    form = SearchForm()
    if not form.validate():
        return _index(form, 422)
    try:
        email = privacy.checked_address(form.email.data)
    except InvalidInput as problem:
        form.show_errors(problem)
        return _index(form, 422)
    person = privacy.look_up(email, by=_user())
    return render_template(
        "staff/privacy/person.html",
        person=person,
        data=privacy.describe(person),
        counts=person.counts(),
        to_cancel=len(person.to_cancel(utcnow())),
    )


@bp.post("/export.json")
def export_json():
    data = privacy.export(_address(), by=_user(), fmt="json")
    return display.json_attachment(data, f"personal-data-{utcnow():%Y-%m-%d}.json")


@bp.post("/export")
def export_printable():
    data = privacy.export(_address(), by=_user(), fmt="html")
    return render_template("staff/privacy/printable.html", data=data)


def _erase_page(email: str, problem: str | None = None, status: int = 200):
    person = privacy.find_person(email)
    return (
        render_template(
            "staff/privacy/erase.html",
            person=person,
            counts=person.counts(),
            to_cancel=len(person.to_cancel(utcnow())),
            problem=problem,
        ),
        status,
    )


@bp.post("/erase")
def erase():
    """Show what an erasure would remove and keep; the button on it erases."""
    return _erase_page(_address())


@bp.post("/erase/confirm")
def erase_confirmed():
    email = _address()
    try:
        summary = erasure_service.erase(email, by=_user())
    except DomainError as problem:
        return _erase_page(email, problem.message, 409)
    return redirect(url_for("staff_privacy.erasure", entry_id=summary.entry_id), code=303)


@bp.get("/erasures/<int:entry_id>")
def erasure(entry_id: int):
    entry = erasure_service.erasure_entry(entry_id)
    if entry is None:
        abort(404)
    counts = (entry.changes or {}).get("counts") or {}
    rows = [(label, counts.get(key, 0)) for key, label in ERASURE_COUNTS.items()]
    return render_template("staff/privacy/erased.html", entry=entry, rows=rows)
