"""Newsletter contributions in the partner workspace, under /partner/contributions.

A small blueprint of its own (``contributions``), so its picture uploads get
their own size limit and error page without touching the partner
blueprint's. Every page is scoped to the organisation of the logged-in
partner user: another organisation's contribution answers 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import BooleanField, Field, StringField, SubmitField, TextAreaField

from outreach.models import Contribution, ContributionStatus, User
from outreach.newsletter import display
from outreach.policy import is_partner, partner_required
from outreach.services import contributions as service
from outreach.services.errors import InvalidInput
from outreach.workspace.choices import language_name, text_direction

bp = Blueprint("contributions", __name__, url_prefix="/partner/contributions")
bp.context_processor(display.helpers)

IMAGE_TYPES = "image/png,image/jpeg,image/webp"
# A picture may have 2 MB; the texts in every language and the multipart framing get room too.
UPLOAD_REQUEST_LIMIT = service.MAX_IMAGE_BYTES + 256 * 1024
UPLOAD_ENDPOINTS = frozenset({"contributions.new", "contributions.edit"})


@bp.before_request
@partner_required
def partners_only() -> None:
    """Let only partner users in: the guard runs before every view of the blueprint."""
    return None


@bp.url_value_preprocessor
def _allow_uploads(endpoint: str | None, _values: dict | None) -> None:
    # Runs before every before_request hook, CSRF's included, which reads the body first.
    if endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = UPLOAD_REQUEST_LIMIT


class ContributionForm(FlaskForm):
    image = FileField(
        _l("Picture"),
        description=_l(
            "Optional. PNG, JPEG or WebP, at most 2 MB. Please use only pictures you may "
            "publish, and no photos of people who have not agreed."
        ),
        render_kw={"accept": IMAGE_TYPES},
    )
    remove_image = BooleanField(_l("Remove the current picture"))
    submit = SubmitField(_l("Submit the contribution"))

    locales: tuple[str, ...] = ()

    @classmethod
    def build(cls, contribution: Contribution | None = None, **kwargs: Any) -> ContributionForm:
        """Return the form with a title and a text per language, filled from ``contribution``."""
        locales = tuple(current_app.config["LANGUAGES"])

        class LanguageVersionsForm(cls):
            pass

        for locale in locales:
            language = language_name(locale)
            direction = text_direction(locale)
            setattr(
                LanguageVersionsForm,
                f"title_{locale}",
                StringField(
                    _("Title (%(language)s)", language=language),
                    render_kw={
                        "maxlength": service.MAX_TITLE_LENGTH,
                        "lang": locale,
                        "dir": direction,
                    },
                ),
            )
            setattr(
                LanguageVersionsForm,
                f"body_{locale}",
                TextAreaField(
                    _("Text (%(language)s)", language=language),
                    description=_l(
                        "Markdown: a blank line starts a new paragraph, **bold**, *italic*, "
                        "[link text](https://example.org), lists with “- ”."
                    ),
                    render_kw={
                        "maxlength": service.MAX_BODY_LENGTH,
                        "rows": 10,
                        "lang": locale,
                        "dir": direction,
                    },
                ),
            )
        LanguageVersionsForm.locales = locales
        texts = (contribution.texts if contribution else None) or {}
        data = {}
        for locale in locales:
            data[f"title_{locale}"] = (texts.get(locale) or {}).get("title")
            data[f"body_{locale}"] = (texts.get(locale) or {}).get("body")
        form = LanguageVersionsForm(data=data, **kwargs)
        if contribution is not None:
            form.submit.label.text = _("Save the changes")
        return form

    def texts(self) -> dict[str, dict[str, str]]:
        return {
            locale: {
                "title": self[f"title_{locale}"].data or "",
                "body": self[f"body_{locale}"].data or "",
            }
            for locale in self.locales
        }

    def fields_in_order(self) -> list[Field]:
        fields = []
        for locale in self.locales:
            fields += [self[f"title_{locale}"], self[f"body_{locale}"]]
        return [*fields, self.image]

    def show_errors(self, problem: InvalidInput) -> None:
        """Put the service's errors on the fields they name; others above the form."""
        for key, message in problem.errors.items():
            locale, _dot, part = key.partition(".")
            name = f"{part}_{locale}" if part else key  # "de.title" is the field title_de
            if name in self:
                self[name].errors = [*self[name].errors, message]
            else:
                self.form_errors.append(message)

    def image_stream(self):
        upload = self.image.data
        return upload.stream if upload and getattr(upload, "filename", "") else None


def _user() -> User:
    """The signed-in user itself, not Flask-Login's proxy, for the services."""
    return current_user._get_current_object()


def _contribution_or_404(contribution_id: int) -> Contribution:
    contribution = service.contribution_for(_user(), contribution_id)
    if contribution is None:
        abort(404)
    return contribution


def _form_page(form: ContributionForm, contribution: Contribution | None = None, status=200):
    return (
        render_template("partner/contributions_form.html", form=form, contribution=contribution),
        status,
    )


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge):
    if not is_partner(current_user):
        return render_template("errors/error.html", error=error), 413
    contribution = None
    if request.endpoint == "contributions.edit":
        contribution = _contribution_or_404(request.view_args["contribution_id"])
    form = ContributionForm.build(contribution, formdata=None)
    form.image.errors = [_("The file is too large: a picture may have at most 2 MB.")]
    return _form_page(form, contribution, status=413)


@bp.get("")
def index():
    organisation = current_user.organisation
    return render_template(
        "partner/contributions.html",
        organisation=organisation,
        contributions=service.contributions_of(organisation),
    )


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = ContributionForm.build()
    if not form.is_submitted():
        return _form_page(form)
    if not form.validate():
        return _form_page(form, status=422)
    try:
        contribution = service.submit_contribution(
            service.ContributionInput(texts=form.texts()),
            by=_user(),
            image=form.image_stream(),
        )
    except InvalidInput as problem:
        form.show_errors(problem)
        return _form_page(form, status=422)
    flash(_("Thank you! Your contribution is submitted. The team will review it."), "success")
    return redirect(url_for("contributions.show", contribution_id=contribution.id), code=303)


@bp.get("/<int:contribution_id>")
def show(contribution_id: int):
    contribution = _contribution_or_404(contribution_id)
    return render_template(
        "partner/contributions_show.html",
        contribution=contribution,
        may_edit=contribution.status is ContributionStatus.SUBMITTED,
    )


@bp.route("/<int:contribution_id>/edit", methods=["GET", "POST"])
def edit(contribution_id: int):
    contribution = _contribution_or_404(contribution_id)
    if contribution.status is not ContributionStatus.SUBMITTED:
        flash(str(service.ContributionLocked.default_message), "error")
        return redirect(url_for("contributions.show", contribution_id=contribution_id), code=303)
    form = ContributionForm.build(contribution)
    if not form.is_submitted():
        return _form_page(form, contribution)
    if not form.validate():
        return _form_page(form, contribution, status=422)
    try:
        service.update_contribution(
            contribution,
            service.ContributionInput(texts=form.texts()),
            by=_user(),
            image=form.image_stream(),
            remove_image=form.remove_image.data is True,
        )
    except InvalidInput as problem:
        form.show_errors(problem)
        return _form_page(form, contribution, status=422)
    except service.ContributionLocked as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("contributions.show", contribution_id=contribution_id), code=303)
    flash(_("Your changes are saved."), "success")
    return redirect(url_for("contributions.show", contribution_id=contribution_id), code=303)
