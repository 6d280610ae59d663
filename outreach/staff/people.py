"""Staff pages about organisations and user accounts."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from outreach.models import Organisation, User
from outreach.services import directory
from outreach.services.directory import OrganisationInput
from outreach.services.errors import DomainError, InvalidInput
from outreach.staff.forms import ConfirmForm, InviteForm, organisation_form


def organisations():
    return render_template("staff/organisations.html", rows=directory.organisations_overview())


def new_organisation():
    form = organisation_form()

    def page(status: int = 200):
        return render_template("staff/new_organisation.html", form=form), status

    if not form.is_submitted():
        return page()
    if not form.validate():
        return page(422)
    data = OrganisationInput(
        name=form.name.data or "",
        slug=form.slug.data or "",
        website=form.website.data or None,
        contact_email=form.contact_email.data or None,
        description=form.descriptions(),
    )
    try:
        org = directory.create_organisation(data, by=current_user)
    except InvalidInput as problem:
        form.show_errors(problem)
        return page(422)
    flash(_("%(name)s is added. Invite its first user below.", name=org.name), "success")
    return redirect(url_for("staff.organisation", org_id=org.id), code=303)


def _organisation_or_404(org_id: int) -> Organisation:
    org = directory.organisation(org_id)
    if org is None:
        abort(404)
    return org


def _render_organisation(org: Organisation, form: InviteForm, status: int = 200):
    return (
        render_template(
            "staff/organisation.html",
            org=org,
            members=directory.members(org),
            events=directory.hosted_events(org),
            invite_form=form,
        ),
        status,
    )


def organisation(org_id: int):
    return _render_organisation(_organisation_or_404(org_id), InviteForm())


def invite_user(org_id: int):
    org = _organisation_or_404(org_id)
    form = InviteForm()
    if not form.validate_on_submit():
        return _render_organisation(org, form, 422)
    try:
        invited = directory.invite_partner(
            org, email=form.email.data or "", name=form.name.data or "", by=current_user
        )
    except InvalidInput as problem:
        form.show_errors(problem)
        return _render_organisation(_organisation_or_404(org_id), form, 422)
    invited_message = _(
        "%(email)s is invited: the link to set a password is on its way.", email=invited.email
    )
    flash(invited_message, "success")
    return redirect(url_for("staff.organisation", org_id=org_id), code=303)


def users():
    return render_template(
        "staff/users.html", users=directory.all_users(), activate_form=ConfirmForm()
    )


def _user_or_404(user_id: int) -> User:
    target = directory.user(user_id)
    if target is None:
        abort(404)
    return target


def deactivate_user(user_id: int):
    """Ask whether to switch the account off (GET); do it (POST)."""
    target = _user_or_404(user_id)
    form = ConfirmForm()

    def confirmation(problem: str | None = None, status: int = 200):
        return (
            render_template(
                "staff/deactivate_user.html", target=target, form=form, problem=problem
            ),
            status,
        )

    if not target.is_active:
        flash(_("This account is deactivated already."), "info")
        return redirect(url_for("staff.users"), code=303)
    if not form.is_submitted():
        return confirmation()
    if not form.validate():
        abort(400)
    try:
        target = directory.deactivate_user(target, by=current_user)
    except DomainError as problem:
        return confirmation(problem.message, 409)
    flash(_("%(email)s can no longer log in.", email=target.email), "success")
    return redirect(url_for("staff.users"), code=303)


def activate_user(user_id: int):
    target = _user_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    target = directory.activate_user(target, by=current_user)
    flash(_("%(email)s can log in again.", email=target.email), "success")
    return redirect(url_for("staff.users"), code=303)
