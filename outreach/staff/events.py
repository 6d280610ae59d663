"""Staff pages about events: the list, one event with its history, review, editing, cancelling."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.exceptions import Conflict

from outreach.i18n import current_locale
from outreach.models import Event, EventStatus
from outreach.policy import can_check_in, can_edit, can_review, can_see_registrations
from outreach.services import dashboard, retention, review, scheduling
from outreach.services.dashboard import EventDetails, EventSearch
from outreach.services.errors import DomainError, InvalidInput
from outreach.services.event_editing import NotAllowed
from outreach.staff.audit_log import readable_history
from outreach.staff.forms import CancelEventForm, ConfirmForm, RequestChangesForm
from outreach.workspace.event_form import EventForm

EVENTS_PER_PAGE = 25
MAX_PAGE = 10_000


def _details_or_404(event_id: int) -> EventDetails:
    details = dashboard.event_details(event_id)
    if details is None:
        abort(404)
    return details


def event_list():
    search = EventSearch.from_args(request.args)
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    pagination = dashboard.find_events(search, page=page, per_page=EVENTS_PER_PAGE)
    return render_template(
        "staff/events.html",
        search=search,
        pagination=pagination,
        events=pagination.items,
        statuses=list(EventStatus),
    )


def _render_event(
    details: EventDetails,
    *,
    changes_form: RequestChangesForm | None = None,
    problem: str | None = None,
    status: int = 200,
):
    event = details.event
    may_review = can_review(current_user, event)
    return (
        render_template(
            "staff/event.html",
            details=details,
            event=event,
            history=readable_history(
                details.history,
                zone=event.zone,
                locale=current_locale(),
                host_names=details.host_names,
                topics=details.topics,
            ),
            may_review=may_review,
            may_edit=can_edit(current_user, event),
            may_see_registrations=can_see_registrations(current_user, event),
            may_check_in=can_check_in(current_user, event),
            retention=retention.state(event),
            publish_form=ConfirmForm() if may_review else None,
            changes_form=changes_form or (RequestChangesForm() if may_review else None),
            problem=problem,
        ),
        status,
    )


def event_page(event_id: int):
    return _render_event(_details_or_404(event_id))


def publish_event(event_id: int):
    details = _details_or_404(event_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        review.publish(details.event, by=current_user)
    except DomainError as problem:
        return _render_event(_details_or_404(event_id), problem=problem.message, status=409)
    flash(_("The event is published."), "success")
    return redirect(url_for("staff.event", event_id=event_id), code=303)


def request_changes(event_id: int):
    details = _details_or_404(event_id)
    form = RequestChangesForm()
    if not form.validate_on_submit():
        return _render_event(details, changes_form=form, status=422)
    try:
        review.request_changes(details.event, by=current_user, comment=form.comment.data or "")
    except InvalidInput as problem:
        form.show_errors(problem)
        return _render_event(_details_or_404(event_id), changes_form=form, status=422)
    except DomainError as problem:
        return _render_event(_details_or_404(event_id), problem=problem.message, status=409)
    flash(_("The event went back to its hosts with your comment."), "success")
    return redirect(url_for("staff.event", event_id=event_id), code=303)


def cancel_event(event_id: int):
    """Ask for a reason and say who will be told (GET); cancel the event (POST)."""
    details = _details_or_404(event_id)
    event: Event = details.event
    if event.status is EventStatus.CANCELLED:
        flash(_("This event is cancelled already."), "info")
        return redirect(url_for("staff.event", event_id=event_id), code=303)
    form = CancelEventForm()

    def confirmation(status: int = 200):
        return render_template("staff/cancel_event.html", details=details, form=form), status

    if not form.is_submitted():
        return confirmation()
    if not form.validate():
        return confirmation(422)
    told = details.told_if_cancelled  # counted before the event changes state
    try:
        scheduling.cancel_event(event, form.reason.data or "", by=current_user)
    except InvalidInput as problem:
        form.show_errors(problem)
        return confirmation(422)
    except DomainError as problem:
        form.form_errors.append(problem.message)
        return confirmation(409)
    flash(
        ngettext(
            "The event is cancelled. %(num)d person will be told by email.",
            "The event is cancelled. %(num)d people will be told by email.",
            told,
        ),
        "success",
    )
    return redirect(url_for("staff.event", event_id=event_id), code=303)


def _form_page(form: EventForm, event: Event | None = None, status: int = 200):
    return render_template("staff/event_form.html", form=form, event=event), status


def new_event():
    """Create a draft, or create and publish it at once ("then" = "publish")."""
    form = EventForm.for_new(current_user)
    if not form.is_submitted():
        return _form_page(form)
    event = form.save(current_user)
    if event is None:
        return _form_page(form, status=422)
    if request.form.get("then") != "publish":
        flash(_("The event is saved as a draft."), "success")
        return redirect(url_for("staff.event", event_id=event.id), code=303)
    # A second step of its own: if publishing is refused, the draft is kept and says why.
    try:
        review.publish(event, by=current_user)
    except DomainError as problem:
        not_published = _(
            "The event is saved as a draft, but not published: %(reason)s", reason=problem.message
        )
        flash(not_published, "error")
    else:
        flash(_("The event is created and published."), "success")
    return redirect(url_for("staff.event", event_id=event.id), code=303)


def edit_event(event_id: int):
    """Change an event in any state but cancelled; registrants hear of new times and places."""
    event = _details_or_404(event_id).event
    if not can_edit(current_user, event):
        return _not_editable()
    form = EventForm.for_event(event, current_user)
    if not form.is_submitted():
        return _form_page(form, event)
    try:
        saved = form.save(current_user, event)
    except NotAllowed:
        return _not_editable()
    if saved is None:
        return _form_page(form, event, status=422)
    flash(_("Your changes are saved."), "success")
    return redirect(url_for("staff.event", event_id=event_id), code=303)


def _not_editable():
    return (
        render_template(
            "errors/error.html",
            error=Conflict(),
            message=_("A cancelled event cannot be changed."),
        ),
        409,
    )
