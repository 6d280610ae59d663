"""The partner workspace's own forms: submitting for review and the organisation profile."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, Field, StringField, SubmitField, TextAreaField, URLField

from outreach.models import Organisation
from outreach.services.errors import InvalidInput
from outreach.services.organisations import (
    MAX_DESCRIPTION_LENGTH,
    MAX_NAME_LENGTH,
    MAX_WEBSITE_LENGTH,
)
from outreach.services.review import MAX_COMMENT_LENGTH
from outreach.workspace.choices import language_name, text_direction

LOGO_TYPES = "image/png,image/jpeg,image/webp"


class SubmitForReviewForm(FlaskForm):
    comment = TextAreaField(
        _l("A note for the team (optional)"),
        description=_l("For example what is still open, or whom to ask."),
        render_kw={"maxlength": MAX_COMMENT_LENGTH, "rows": 3},
    )
    submit = SubmitField(_l("Submit for review"))

    def fields_in_order(self) -> list[Field]:
        return [self.comment]


class ProfileForm(FlaskForm):
    name = StringField(_l("Name of the organisation"), render_kw={"maxlength": MAX_NAME_LENGTH})
    website = URLField(
        _l("Website"),
        render_kw={"maxlength": MAX_WEBSITE_LENGTH, "placeholder": "https://"},
    )
    contact_email = EmailField(
        _l("Contact email address"),
        description=_l("Shown on your public page."),
        render_kw={"maxlength": 254, "autocomplete": "email"},
    )
    submit = SubmitField(_l("Save the profile"))

    locales: tuple[str, ...] = ()

    @classmethod
    def for_organisation(cls, org: Organisation, **kwargs: Any) -> ProfileForm:
        """Return the form showing ``org``'s profile, a description field per language."""
        locales = tuple(current_app.config["LANGUAGES"])

        class OrganisationProfileForm(cls):
            pass

        for locale in locales:
            setattr(
                OrganisationProfileForm,
                f"description_{locale}",
                TextAreaField(
                    _("Description (%(language)s)", language=language_name(locale)),
                    description=_l("You can use Markdown: **bold**, *italic*, lists and links."),
                    render_kw={
                        "maxlength": MAX_DESCRIPTION_LENGTH,
                        "rows": 5,
                        "lang": locale,
                        "dir": text_direction(locale),
                    },
                ),
            )
        OrganisationProfileForm.locales = locales
        data = {
            "name": org.name,
            "website": org.website,
            "contact_email": org.contact_email,
            **{f"description_{locale}": (org.description or {}).get(locale) for locale in locales},
        }
        return OrganisationProfileForm(data=data, **kwargs)

    def descriptions(self) -> dict[str, str]:
        return {locale: self[f"description_{locale}"].data or "" for locale in self.locales}

    def fields_in_order(self) -> list[Field]:
        descriptions = [self[f"description_{locale}"] for locale in self.locales]
        return [self.name, *descriptions, self.website, self.contact_email]

    def show_errors(self, problem: InvalidInput) -> None:
        """Put the service's errors on the fields they name; others above the form."""
        for key, message in problem.errors.items():
            name = key.replace(".", "_")
            if name in self:
                self[name].errors = [*self[name].errors, message]
            else:
                self.form_errors.append(message)


class LogoForm(FlaskForm):
    logo = FileField(
        _l("Logo"),
        [FileRequired(_l("Please choose an image file."))],
        description=_l("PNG, JPEG or WebP, at most 2 MB. We show it at most 512×512 pixels."),
        render_kw={"accept": LOGO_TYPES},
    )

    def fields_in_order(self) -> list[Field]:
        return [self.logo]


class RemoveLogoForm(FlaskForm):
    submit = SubmitField(_l("Yes, remove the logo"))

    def fields_in_order(self) -> list[Field]:
        return []
