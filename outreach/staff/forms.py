"""The staff workspace's forms: review, cancellation, organisations, invitations."""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, Field, StringField, SubmitField, TextAreaField, URLField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from outreach.services.applications import MAX_WEBSITE_LENGTH
from outreach.services.directory import MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH, MAX_SLUG_LENGTH
from outreach.services.errors import InvalidInput
from outreach.services.registration_input import MAX_EMAIL_LENGTH, has_control_characters
from outreach.services.review import MAX_COMMENT_LENGTH
from outreach.services.scheduling import MAX_REASON_LENGTH
from outreach.workspace.choices import language_name


def _plain_text(form: FlaskForm, field: Field) -> None:
    """Refuse invisible control characters (line breaks, tabs and joiners are fine).

    Stored text must be something a database keeps (PostgreSQL refuses NUL) and
    a mail can carry; the services take such text as it comes.
    """
    if has_control_characters(re.sub(r"[\r\n\t\u200c\u200d]", "", field.data or "")):
        raise ValidationError(_l("The text contains characters we cannot use."))


def _at_most(limit: int) -> Length:
    return Length(max=limit, message=_l("Please use at most %(n)d characters.", n=limit))


class StaffForm(FlaskForm):
    """A form whose error summary lists its fields in page order."""

    def fields_in_order(self) -> list[Field]:
        return [
            field
            for field in self
            if field.type not in ("CSRFTokenField", "HiddenField", "SubmitField")
        ]

    def show_errors(self, problem: InvalidInput, names: Mapping[str, str] | None = None) -> None:
        """Put a service's field errors on the fields; the rest above the form.

        ``names`` maps a service's error key to a field name where they differ.
        """
        names = names or {}
        for key, message in problem.errors.items():
            field = self._fields.get(names.get(key, key))
            if field is None or field.type in ("CSRFTokenField", "SubmitField"):
                self.form_errors.append(message)
            else:
                field.errors = [*field.errors, message]


class ConfirmForm(StaffForm):
    """A button that only needs the CSRF token (publish, retry, activate …)."""

    submit = SubmitField(_l("Confirm"))


class RequestChangesForm(StaffForm):
    comment = TextAreaField(
        _l("What should change?"),
        [
            DataRequired(_l("Please say what should change.")),
            _at_most(MAX_COMMENT_LENGTH),
            _plain_text,
        ],
        description=_l("The hosts see this comment and get it by email."),
        render_kw={"rows": 5, "maxlength": MAX_COMMENT_LENGTH},
    )
    submit = SubmitField(_l("Send back to the hosts"))


class CancelEventForm(StaffForm):
    reason = TextAreaField(
        _l("Reason"),
        [
            Optional(),
            _at_most(MAX_REASON_LENGTH),
            _plain_text,
        ],
        description=_l("Registered people read this in the cancellation email."),
        render_kw={"rows": 4, "maxlength": MAX_REASON_LENGTH},
    )
    submit = SubmitField(_l("Yes, cancel the event"))


class InviteForm(StaffForm):
    email = EmailField(
        _l("Email address"),
        [DataRequired(_l("Please enter an email address."))],
        render_kw={"autocomplete": "off", "maxlength": MAX_EMAIL_LENGTH},
    )
    name = StringField(
        _l("Name"),
        [Optional(), _at_most(MAX_NAME_LENGTH)],
        render_kw={"autocomplete": "off", "maxlength": MAX_NAME_LENGTH},
    )
    submit = SubmitField(_l("Send the invitation"))


class OrganisationForm(StaffForm):
    """A new organisation; a description field per interface language is added on creation."""

    name = StringField(
        _l("Name"),
        [DataRequired(_l("Please enter the organisation's name.")), _at_most(MAX_NAME_LENGTH)],
        render_kw={"maxlength": MAX_NAME_LENGTH},
    )
    slug = StringField(
        _l("Short name for addresses"),
        [Optional(), _at_most(MAX_SLUG_LENGTH)],
        description=_l(
            "Lower-case letters, digits and hyphens, e.g. sahel-forum. "
            "Leave it empty to make it from the name."
        ),
        render_kw={"maxlength": MAX_SLUG_LENGTH, "autocapitalize": "none", "spellcheck": "false"},
    )
    website = URLField(
        _l("Website"),
        [Optional(), _at_most(MAX_WEBSITE_LENGTH)],
        render_kw={"maxlength": MAX_WEBSITE_LENGTH, "placeholder": "https://"},
    )
    contact_email = EmailField(
        _l("Contact email"),
        [Optional(), _at_most(MAX_EMAIL_LENGTH)],
        render_kw={"maxlength": MAX_EMAIL_LENGTH},
    )
    submit = SubmitField(_l("Add the organisation"))

    def description_fields(self) -> list[tuple[str, Field]]:
        return [
            (code, self[f"description_{code}"])
            for code in current_app.config["LANGUAGES"]
            if f"description_{code}" in self
        ]

    def descriptions(self) -> dict[str, str]:
        return {code: field.data or "" for code, field in self.description_fields()}

    def fields_in_order(self) -> list[Field]:
        fixed = [self.name, self.slug, self.website, self.contact_email]
        return fixed + [field for _code, field in self.description_fields()]

    def show_errors(self, problem: InvalidInput, names: Mapping[str, str] | None = None) -> None:
        description_names = {
            f"description.{code}": f"description_{code}" for code, _f in self.description_fields()
        }
        super().show_errors(problem, {**description_names, **(names or {})})


def organisation_form() -> OrganisationForm:
    """Build the organisation form with one description per interface language."""

    class Form(OrganisationForm):
        pass

    for code in current_app.config["LANGUAGES"]:
        field = TextAreaField(
            _l("Description in %(language)s", language=language_name(code)),
            [Optional(), _at_most(MAX_DESCRIPTION_LENGTH)],
            description=_l("You can use Markdown: **bold**, *italic*, lists and links."),
            render_kw={"rows": 4, "maxlength": MAX_DESCRIPTION_LENGTH, "lang": code},
        )
        setattr(Form, f"description_{code}", field)
    return Form()
