"""The staff forms for composing the newsletter: an issue, and the review of a contribution."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired

from outreach.models import NewsletterIssue
from outreach.services.errors import InvalidInput
from outreach.services.newsletter_issues import (
    MAX_INTRO_LENGTH,
    MAX_NOTE_LENGTH,
    MAX_SLUG_LENGTH,
    MAX_TITLE_LENGTH,
    IssueInput,
)
from outreach.workspace.choices import language_name, text_direction


class IssueForm(FlaskForm):
    slug = StringField(
        _l("Short name for the web address"),
        [DataRequired(_l("Please enter a short name for the web address."))],
        description=_l(
            "The issue's address becomes /newsletter/short-name: lower-case letters a–z, "
            "digits and hyphens, e.g. 2026-autumn."
        ),
        render_kw={"maxlength": MAX_SLUG_LENGTH, "autocomplete": "off", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Save the issue"))

    locales: tuple[str, ...] = ()

    @classmethod
    def build(cls, issue: NewsletterIssue | None = None, **kwargs: Any) -> IssueForm:
        """Return the form with a title and an introduction per language, filled from ``issue``."""
        locales = tuple(current_app.config["LANGUAGES"])

        class IssueVersionsForm(cls):
            pass

        for locale in locales:
            language = language_name(locale)
            attributes = {"lang": locale, "dir": text_direction(locale)}
            setattr(
                IssueVersionsForm,
                f"title_{locale}",
                StringField(
                    _("Title (%(language)s)", language=language),
                    description=_l("Also the subject of the email."),
                    render_kw={"maxlength": MAX_TITLE_LENGTH, **attributes},
                ),
            )
            setattr(
                IssueVersionsForm,
                f"intro_{locale}",
                TextAreaField(
                    _("Introduction (%(language)s)", language=language),
                    description=_l(
                        "Optional. Markdown: a blank line starts a new paragraph, **bold**, "
                        "[link text](https://example.org)."
                    ),
                    render_kw={"maxlength": MAX_INTRO_LENGTH, "rows": 6, **attributes},
                ),
            )
        IssueVersionsForm.locales = locales
        data: dict[str, Any] = {"slug": issue.slug if issue else None}
        for locale in locales:
            data[f"title_{locale}"] = ((issue.title if issue else None) or {}).get(locale)
            data[f"intro_{locale}"] = ((issue.intro if issue else None) or {}).get(locale)
        return IssueVersionsForm(data=data, **kwargs)

    def to_input(self) -> IssueInput:
        return IssueInput(
            slug=self.slug.data or "",
            title={locale: self[f"title_{locale}"].data or "" for locale in self.locales},
            intro={locale: self[f"intro_{locale}"].data or "" for locale in self.locales},
        )

    def fields_in_order(self) -> list[Field]:
        fields = [self.slug]
        for locale in self.locales:
            fields += [self[f"title_{locale}"], self[f"intro_{locale}"]]
        return fields

    def show_errors(self, problem: InvalidInput) -> None:
        """Put the service's errors (``title.de`` → ``title_de``) on their fields."""
        for key, message in problem.errors.items():
            name = key.replace(".", "_")
            if name in self:
                self[name].errors = [*self[name].errors, message]
            else:
                self.form_errors.append(message)


class ReviewForm(FlaskForm):
    note = TextAreaField(
        _l("A note for the organisation"),
        description=_l(
            "Optional. The organisation sees it next to the decision, e.g. what you shortened "
            "or why it does not fit this time."
        ),
        render_kw={"maxlength": MAX_NOTE_LENGTH, "rows": 4},
    )
    accept = SubmitField(_l("Accept"))
    decline = SubmitField(_l("Decline"))

    def fields_in_order(self) -> list[Field]:
        return [self.note]


class SendForm(FlaskForm):
    submit = SubmitField(_l("Yes, send the issue to all subscribers"))

    def fields_in_order(self) -> list[Field]:
        return []
