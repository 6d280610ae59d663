"""The partner workspace under /partner/: the organisation's events, proposals and profile.

Every page is scoped to the organisation of the logged-in partner user; an
event another organisation hosts answers 404, as if it did not exist.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import Forbidden, RequestEntityTooLarge

from outreach.models import Event
from outreach.partner.forms import LogoForm, ProfileForm, RemoveLogoForm, SubmitForReviewForm
from outreach.policy import (
    can_check_in,
    can_edit,
    can_see_registrations,
    can_submit,
    can_view,
    is_partner,
    partner_required,
)
from outreach.services import organisations, review
from outreach.services.errors import InvalidInput
from outreach.services.event_editing import NotAllowed
from outreach.workspace import queries
from outreach.workspace.event_form import EventForm

bp = Blueprint("partner", __name__, url_prefix="/partner")

# A logo may have 2 MB; the rest of the request (form fields, multipart framing) gets room too.
LOGO_REQUEST_LIMIT = organisations.MAX_LOGO_BYTES + 64 * 1024


@bp.url_value_preprocessor
def _allow_logo_uploads(endpoint: str | None, _values: dict | None) -> None:
    # URL value preprocessors run before every before_request hook, CSRF's included,
    # which is the first to read the body: the larger limit must be in place by then.
    if endpoint == "partner.upload_logo":
        request.max_content_length = LOGO_REQUEST_LIMIT


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge):
    if request.endpoint == "partner.upload_logo" and is_partner(current_user):
        form = LogoForm(formdata=None)
        form.logo.errors = [_("The file is too large: a logo may have at most 2 MB.")]
        return _profile_page(logo_form=form, status=413)
    return render_template("errors/error.html", error=error), 413


def _event_or_404(event_id: int) -> Event:
    event = queries.workspace_event(event_id)
    if event is None or not can_view(current_user, event):
        abort(404)
    return event


# -- events ------------------------------------------------------------------------------


@bp.get("/")
@partner_required
def dashboard():
    organisation = current_user.organisation
    return render_template(
        "partner/dashboard.html",
        organisation=organisation,
        events=queries.organisation_events(organisation),
    )


def _event_page(event: Event, form: SubmitForReviewForm | None = None, status: int = 200):
    return (
        render_template(
            "partner/event.html",
            event=event,
            submit_form=form or SubmitForReviewForm(formdata=None),
            may_edit=can_edit(current_user, event),
            may_submit=can_submit(current_user, event),
            may_see_registrations=can_see_registrations(current_user, event),
            may_check_in=can_check_in(current_user, event),
        ),
        status,
    )


@bp.get("/events/<int:event_id>")
@partner_required
def event(event_id: int):
    return _event_page(_event_or_404(event_id))


def _form_page(form: EventForm, event: Event | None = None, status: int = 200):
    return render_template("partner/event_form.html", form=form, event=event), status


def _not_editable():
    message = _(
        "Only drafts can be changed here. This event is with the team already: "
        "please write to them if something must change."
    )
    return render_template("errors/error.html", error=Forbidden(), message=message), 403


@bp.route("/events/new", methods=["GET", "POST"])
@partner_required
def new_event():
    form = EventForm.for_new(current_user)
    if not form.is_submitted():
        return _form_page(form)
    event = form.save(current_user)
    if event is None:
        return _form_page(form, status=422)
    flash(_("Your event is saved as a draft. Submit it for review when it is ready."), "success")
    return redirect(url_for("partner.event", event_id=event.id), code=303)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@partner_required
def edit_event(event_id: int):
    event = _event_or_404(event_id)
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
    return redirect(url_for("partner.event", event_id=event_id), code=303)


@bp.post("/events/<int:event_id>/submit")
@partner_required
def submit_event(event_id: int):
    event = _event_or_404(event_id)
    form = SubmitForReviewForm()
    if not form.validate():
        return _event_page(event, form, status=422)
    try:
        review.submit(event, by=current_user, comment=form.comment.data or "")
    except InvalidInput as problem:
        form.comment.errors = [*form.comment.errors, *problem.errors.values()]
        return _event_page(event, form, status=422)
    except review.NotReviewable as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("partner.event", event_id=event_id), code=303)
    flash(_("Thank you! The event is submitted for review. We will tell you by email."), "success")
    return redirect(url_for("partner.event", event_id=event_id), code=303)


# -- the organisation's profile -------------------------------------------------------------


def _profile_page(
    form: ProfileForm | None = None, logo_form: LogoForm | None = None, status: int = 200
):
    organisation = current_user.organisation
    return (
        render_template(
            "partner/profile.html",
            organisation=organisation,
            form=form or ProfileForm.for_organisation(organisation, formdata=None),
            logo_form=logo_form or LogoForm(formdata=None),
        ),
        status,
    )


@bp.route("/profile", methods=["GET", "POST"])
@partner_required
def profile():
    organisation = current_user.organisation
    form = ProfileForm.for_organisation(organisation)
    if not form.is_submitted():
        return _profile_page(form)
    if not form.validate():
        return _profile_page(form, status=422)
    try:
        organisations.update_profile(
            organisation,
            by=current_user,
            name=form.name.data or "",
            description=form.descriptions(),
            website=form.website.data,
            contact_email=form.contact_email.data,
        )
    except InvalidInput as problem:
        form.show_errors(problem)
        return _profile_page(form, status=422)
    flash(_("The profile is saved."), "success")
    return redirect(url_for("partner.profile"), code=303)


@bp.post("/profile/logo")
@partner_required
def upload_logo():
    form = LogoForm()
    if not form.validate():
        return _profile_page(logo_form=form, status=422)
    try:
        organisations.set_logo(current_user.organisation, form.logo.data.stream, by=current_user)
    except InvalidInput as problem:
        form.logo.errors = [*form.logo.errors, *problem.errors.values()]
        return _profile_page(logo_form=form, status=422)
    flash(_("The logo is saved."), "success")
    return redirect(url_for("partner.profile"), code=303)


@bp.route("/profile/logo/remove", methods=["GET", "POST"])
@partner_required
def remove_logo():
    organisation = current_user.organisation
    form = RemoveLogoForm()
    if organisation.logo_path is None:
        return redirect(url_for("partner.profile"), code=303)
    if not form.validate_on_submit():
        return render_template("partner/remove_logo.html", organisation=organisation, form=form)
    organisations.remove_logo(organisation, by=current_user)
    flash(_("The logo is removed."), "success")
    return redirect(url_for("partner.profile"), code=303)
