"""The event desk under /desk/events/<id>/, and the check-in links in QR codes.

Staff and the partner users of an event's host organisations use it: the
registration list and its exports, messages to the people registered, and
check-in at the door (door.py). Only staff move people off the waitlist or
cancel for them. Access goes through access.py: someone who may not see an
event's registrations gets 404 for everything about it.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from outreach.desk import door
from outreach.desk.access import (
    Refused,
    event_for_desk,
    event_for_messages,
    event_for_staff,
    local_datetime,
    local_time,
    locale,
    registration_of,
    wants_json,
)
from outreach.desk.forms import AUDIENCE_LABELS, AnnouncementForm
from outreach.models import Event, Registration, RegistrationStatus
from outreach.policy import (
    can_check_in,
    can_manage_registrations,
    can_message_registrants,
    is_staff,
    member_required,
)
from outreach.services import announcements, exports
from outreach.services.errors import DomainError, InvalidInput
from outreach.services.registrations import cancel_registration, promote_manually

bp = Blueprint("desk", __name__)

EVENT = "/desk/events/<int:event_id>"
bp.add_url_rule(f"{EVENT}/check-in", "check_in", door.check_in_page)
bp.add_url_rule(f"{EVENT}/check-in/counts.json", "check_in_counts", door.check_in_counts)
bp.add_url_rule(
    f"{EVENT}/check-in/<int:registration_id>",
    "check_in_person",
    door.check_in_person,
    methods=["POST"],
)
bp.add_url_rule(
    f"{EVENT}/check-in/<int:registration_id>/undo",
    "undo_check_in",
    door.undo_check_in,
    methods=["POST"],
)
bp.add_url_rule("/check-in/scan/<token>", "scan", door.scan, methods=["GET", "POST"])


@bp.errorhandler(Refused)
def refused(error: Refused):
    if wants_json():
        return jsonify(ok=False, message=error.message), error.code
    return render_template("errors/error.html", error=error, message=error.message), error.code


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    """Answer the check-in script in JSON (after a stale CSRF token, say); pages as elsewhere."""
    code = error.code or 500
    if wants_json():
        return jsonify(ok=False, message=_("Please reload the page and try again.")), code
    return render_template("errors/error.html", error=error), code


@bp.context_processor
def desk_helpers() -> dict[str, Any]:
    def desk_links(event: Event) -> dict[str, bool]:
        """Which of the event's desk pages the user may open."""
        return {
            "announce": can_message_registrants(current_user, event),
            "check_in": can_check_in(current_user, event),
        }

    return {
        "status_label": exports.status_label,
        "local_time": local_time,
        "local_datetime": local_datetime,
        "answers_in_words": lambda registration: exports.answers_in_words(registration, locale()),
        "desk_links": desk_links,
        "audience_labels": AUDIENCE_LABELS,
        "workspace_endpoint": "staff.dashboard" if is_staff(current_user) else "partner.dashboard",
    }


# -- the registration list and its exports ----------------------------------------------------


def _status_filter() -> str:
    status = request.args.get("status", "")
    return status if status in {s.value for s in RegistrationStatus} else ""


def _registrations_page(event: Event, *, problem: str | None = None, code: int = 200):
    search = (request.args.get("q") or "").strip()[: door.MAX_SEARCH_LENGTH]
    status = _status_filter()
    return (
        render_template(
            "desk/registrations.html",
            event=event,
            text=event.text(locale()),
            registrations=exports.find_registrations(event, search=search, status=status or None),
            counts=exports.registration_counts(event),
            search=search,
            status=status,
            statuses=[s for s in RegistrationStatus if s is not RegistrationStatus.PENDING],
            may_manage=can_manage_registrations(current_user, event),
            problem=problem,
        ),
        code,
    )


@bp.get(f"{EVENT}/registrations")
@member_required
def registrations(event_id: int):
    return _registrations_page(event_for_desk(event_id))


def _export(event_id: int, fmt: str) -> Response:
    event = event_for_desk(event_id)
    try:
        export = exports.export_registrations(event, fmt, by=current_user, locale=locale())
    except DomainError as problem:
        raise Refused(404, problem.message) from None
    return Response(
        export.content,
        content_type=export.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            # Personal data: no copies in shared caches or the browser's cache.
            "Cache-Control": "no-store",
        },
    )


@bp.get(f"{EVENT}/registrations.csv")
@member_required
def export_csv(event_id: int):
    return _export(event_id, "csv")


@bp.get(f"{EVENT}/registrations.xlsx")
@member_required
def export_xlsx(event_id: int):
    return _export(event_id, "xlsx")


@bp.post(f"{EVENT}/registrations/<int:registration_id>/promote")
@member_required
def promote(event_id: int, registration_id: int):
    """Give a waitlisted person a seat out of turn (staff)."""
    event = event_for_staff(event_id)
    registration = registration_of(event, registration_id)
    try:
        promote_manually(registration, by=current_user)
    except DomainError as problem:
        return _registrations_page(event, problem=problem.message, code=409)
    flash(
        _("%(name)s now has a confirmed seat and will be told by email.", name=registration.name),
        "success",
    )
    return redirect(url_for("desk.registrations", event_id=event.id), code=303)


def _cancel_page(
    event: Event, registration: Registration, *, problem: str | None = None, code: int = 200
):
    return (
        render_template(
            "desk/cancel.html",
            event=event,
            text=event.text(locale()),
            registration=registration,
            problem=problem,
        ),
        code,
    )


@bp.route(
    f"{EVENT}/registrations/<int:registration_id>/cancel",
    methods=["GET", "POST"],
    endpoint="cancel_registration",
)
@member_required
def cancel_for_person(event_id: int, registration_id: int):
    """Ask whether to cancel someone's registration (GET); cancel it for them (POST, staff)."""
    event = event_for_staff(event_id)
    registration = registration_of(event, registration_id)
    if request.method == "GET":
        return _cancel_page(event, registration)
    name = registration.name
    try:
        promoted = cancel_registration(registration, by=current_user)
    except DomainError as problem:
        return _cancel_page(event, registration, problem=problem.message, code=409)
    flash(_("The registration of %(name)s is cancelled.", name=name), "success")
    if promoted:
        flash(
            ngettext(
                "%(num)d person moved up from the waitlist and will be told by email.",
                "%(num)d people moved up from the waitlist and will be told by email.",
                len(promoted),
            ),
            "success",
        )
    return redirect(url_for("desk.registrations", event_id=event.id), code=303)


# -- messages to the people registered ----------------------------------------------------------


def _announce_page(event: Event, form: AnnouncementForm, *, code: int = 200):
    return (
        render_template(
            "desk/announce.html",
            event=event,
            text=event.text(locale()),
            form=form,
            earlier=announcements.announcements_for(event),
        ),
        code,
    )


@bp.route(f"{EVENT}/announce", methods=["GET", "POST"])
@member_required
def announce(event_id: int):
    """Write (GET), check how it reads and whom it reaches (POST preview), send (POST send)."""
    event = event_for_messages(event_id)
    sizes = announcements.audience_sizes(event)
    form = AnnouncementForm()
    form.set_audiences(sizes)
    if not form.is_submitted() or "edit" in request.form:
        return _announce_page(event, form)
    if not form.validate():  # the CSRF token only; the service checks the rest
        return _announce_page(event, form, code=422)
    try:
        subject, body, audience = announcements.check_message(
            form.subject.data or "", form.body.data or "", form.audience.data or ""
        )
    except InvalidInput as problem:
        form.apply_errors(problem)
        return _announce_page(event, form, code=422)
    if "send" not in request.form:
        return render_template(
            "desk/announce_preview.html",
            event=event,
            text=event.text(locale()),
            form=form,
            subject=subject,
            body=body,
            audience=audience,
            recipients=sizes[audience],
        )
    try:
        sent = announcements.announce(
            event, by=current_user, subject=subject, body=body, audience=audience
        )
    except InvalidInput as problem:
        form.apply_errors(problem)
        return _announce_page(event, form, code=422)
    except DomainError as problem:
        form.form_errors.append(problem.message)
        return _announce_page(event, form, code=409)
    flash(
        ngettext(
            "Your message is queued for %(num)d person.",
            "Your message is queued for %(num)d people.",
            sent.recipients,
        ),
        "success",
    )
    return redirect(url_for("desk.announce", event_id=event.id), code=303)
