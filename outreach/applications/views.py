"""The "become a partner" form, and the staff pages that answer applications."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from outreach.applications.forms import AcceptForm, DeclineForm, application_form
from outreach.extensions import limiter
from outreach.models import PartnerApplication, User
from outreach.policy import staff_required
from outreach.services import applications
from outreach.services.errors import InvalidInput

bp = Blueprint("applications", __name__)

# Applications per client address; config RATELIMIT_APPLY overrides it.
DEFAULT_APPLY_LIMIT = "10 per hour"


def _apply_limit() -> str:
    return current_app.config.get("RATELIMIT_APPLY", DEFAULT_APPLY_LIMIT)


def _locale() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


# -- the public form ------------------------------------------------------------------


@bp.route("/become-a-partner", methods=["GET", "POST"])
@limiter.limit(_apply_limit, methods=["POST"], scope="apply")
def apply():
    form = application_form(_locale())
    if not form.is_submitted():
        return render_template("applications/apply.html", form=form)
    if form.filled_by_a_robot():
        # Dropped without a word: the robot sees the same page as a person would.
        return redirect(url_for("applications.thanks"), code=303)
    if not form.validate():
        # Name every problem at once, not only the missing entries the form itself sees.
        form.apply_errors(InvalidInput(applications.application_problems(form.to_input())))
        return render_template("applications/apply.html", form=form), 422
    try:
        applications.apply(form.to_input(), language=_locale())
    except InvalidInput as problem:
        form.apply_errors(problem)
        return render_template("applications/apply.html", form=form), 422
    return redirect(url_for("applications.thanks"), code=303)


@bp.get("/become-a-partner/thanks")
def thanks():
    return render_template("applications/thanks.html")


# -- staff: reviewing applications ----------------------------------------------------


def _user() -> User:
    """The signed-in user itself, not Flask-Login's proxy, for the services."""
    return current_user._get_current_object()


def _application_or_404(application_id: int) -> PartnerApplication:
    application = applications.application_by_id(application_id)
    if application is None:
        abort(404)
    return application


def _render_show(
    application: PartnerApplication,
    *,
    accept_form: AcceptForm | None = None,
    refusal: str | None = None,
    status: int = 200,
):
    if accept_form is None and application.is_pending:
        accept_form = AcceptForm(
            formdata=None, slug=applications.suggested_slug(application.organisation_name)
        )
    return (
        render_template(
            "applications/staff_show.html",
            application=application,
            accept_form=accept_form,
            decided_by=applications.decided_by(application),
            refusal=refusal,
        ),
        status,
    )


@bp.get("/staff/applications")
@staff_required
def staff_list():
    return render_template(
        "applications/staff_list.html", applications=applications.applications_for_review()
    )


@bp.get("/staff/applications/<int:application_id>")
@staff_required
def staff_show(application_id: int):
    return _render_show(_application_or_404(application_id))


@bp.post("/staff/applications/<int:application_id>/accept")
@staff_required
def staff_accept(application_id: int):
    application = _application_or_404(application_id)
    form = AcceptForm()
    if not form.validate():
        return _render_show(application, accept_form=form, status=422)
    try:
        application = applications.accept(application, by=_user(), slug=form.slug.data or "")
    except applications.ApplicationDecided as problem:
        return _render_show(application, refusal=problem.message, status=409)
    except InvalidInput as problem:
        form.apply_errors(problem)
        return _render_show(application, accept_form=form, status=422)
    flash(
        _(
            "%(name)s is now a partner organisation. We have sent %(email)s an invitation.",
            name=application.organisation_name,
            email=application.contact_email,
        ),
        "success",
    )
    return redirect(url_for("applications.staff_show", application_id=application.id), code=303)


def _decided_message() -> str:
    return str(applications.ApplicationDecided.default_message)


def _render_decline(application: PartnerApplication, form: DeclineForm, status: int = 200):
    return (
        render_template("applications/staff_decline.html", application=application, form=form),
        status,
    )


@bp.route("/staff/applications/<int:application_id>/decline", methods=["GET", "POST"])
@staff_required
def staff_decline(application_id: int):
    application = _application_or_404(application_id)
    if not application.is_pending:
        return _render_show(application, refusal=_decided_message(), status=409)
    form = DeclineForm()
    if not form.is_submitted():
        return _render_decline(application, form)
    if not form.validate():
        return _render_decline(application, form, status=422)
    try:
        applications.decline(application, by=_user(), note=form.note.data or "")
    except applications.ApplicationDecided as problem:
        return _render_show(application, refusal=problem.message, status=409)
    except InvalidInput as problem:
        form.apply_errors(problem)
        return _render_decline(application, form, status=422)
    flash(_("The application is declined. We have sent the applicant an email."), "success")
    return redirect(url_for("applications.staff_show", application_id=application.id), code=303)
