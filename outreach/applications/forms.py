"""The application form, and the staff forms that accept or decline an application."""

from __future__ import annotations

import unicodedata

from babel import Locale
from babel.core import UnknownLocaleError
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    SelectChoice,
    StringField,
    SubmitField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired

from outreach.consent.links import consent_hint
from outreach.form_errors import ServiceErrorsMixin
from outreach.public.forms import MultiCheckboxField
from outreach.public.robot_trap import RobotTrapMixin
from outreach.services import consent
from outreach.services.applications import (
    MAX_CITY_LENGTH,
    MAX_DESCRIPTION_LENGTH,
    MAX_NOTE_LENGTH,
    MAX_ORGANISATION_NAME_LENGTH,
    MAX_SLUG_LENGTH,
    MAX_WEBSITE_LENGTH,
    PARTNER_LANGUAGES,
    ApplicationInput,
)
from outreach.services.registration_input import MAX_EMAIL_LENGTH, MAX_NAME_LENGTH


def partner_language_choices(locale: str) -> list[SelectChoice]:
    """Return the languages an organisation may work in, named in ``locale``, by name."""
    try:
        names = Locale.parse(locale).languages
    except (UnknownLocaleError, ValueError):
        names = {}

    def sort_key(choice: SelectChoice) -> str:
        return unicodedata.normalize("NFKD", choice.label).casefold()

    choices = [SelectChoice(code, names.get(code, code)) for code in PARTNER_LANGUAGES]
    return sorted(choices, key=sort_key)


class ApplicationForm(ServiceErrorsMixin, RobotTrapMixin):
    field_order = (
        "organisation_name",
        "website",
        "city",
        "languages",
        "description",
        "contact_name",
        "contact_email",
        "consent",
    )

    organisation_name = StringField(
        _l("Name of your organisation"),
        [DataRequired(_l("Please enter the name of your organisation."))],
        render_kw={"autocomplete": "organization", "maxlength": MAX_ORGANISATION_NAME_LENGTH},
    )
    website = URLField(
        _l("Website"),
        description=_l("Optional. For example https://example.org"),
        render_kw={"autocomplete": "url", "maxlength": MAX_WEBSITE_LENGTH},
    )
    city = StringField(
        _l("City"),
        [DataRequired(_l("Please enter your city."))],
        render_kw={"autocomplete": "address-level2", "maxlength": MAX_CITY_LENGTH},
    )
    contact_name = StringField(
        _l("Contact person"),
        [DataRequired(_l("Please enter your name."))],
        description=_l("The person we write to about this application."),
        render_kw={"autocomplete": "name", "maxlength": MAX_NAME_LENGTH},
    )
    contact_email = EmailField(
        _l("Email address"),
        [DataRequired(_l("Please enter your email address."))],
        render_kw={"autocomplete": "email", "maxlength": MAX_EMAIL_LENGTH},
    )
    languages = MultiCheckboxField(
        _l("Languages your organisation works in"),
        [DataRequired(_l("Please choose at least one language."))],
        invalid_choice_message=_l("Please choose languages from the list."),
    )
    description = TextAreaField(
        _l("What does your organisation do?"),
        [DataRequired(_l("Please tell us briefly what your organisation does."))],
        description=_l(
            "For example: whom you work with, what you offer, and what you would like to "
            "do together with us. At most %(n)d characters.",
            n=MAX_DESCRIPTION_LENGTH,
        ),
        render_kw={"maxlength": MAX_DESCRIPTION_LENGTH, "rows": 8},
    )
    # The label is the versioned consent text in the reader's language (application_form).
    consent = BooleanField(
        validators=[
            DataRequired(
                _l("Please agree to how we use your data, or we cannot process your application.")
            )
        ],
    )
    submit = SubmitField(_l("Send the application"))

    def to_input(self) -> ApplicationInput:
        return ApplicationInput(
            organisation_name=self.organisation_name.data or "",
            website=self.website.data or "",
            city=self.city.data or "",
            contact_name=self.contact_name.data or "",
            contact_email=self.contact_email.data or "",
            languages=list(self.languages.data or []),
            description=self.description.data or "",
            consent=self.consent.data is True,
        )


def application_form(locale: str, **kwargs) -> ApplicationForm:
    """Return the application form with its language choices named in ``locale``."""
    form = ApplicationForm(**kwargs)
    form.languages.choices = partner_language_choices(locale)
    form.consent.label.text = consent.current(consent.Purpose.PARTNER_APPLICATION, locale).text()
    form.consent.description = consent_hint()
    return form


class AcceptForm(ServiceErrorsMixin, FlaskForm):
    field_order = ("slug",)

    slug = StringField(
        _l("Short name for web addresses"),
        [DataRequired(_l("Please enter a short name for the web address."))],
        description=_l(
            "Used in the organisation's addresses, e.g. /organisations/short-name: "
            "lower-case letters a–z, digits and hyphens."
        ),
        render_kw={"maxlength": MAX_SLUG_LENGTH, "autocomplete": "off", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Accept and send the invitation"))


class DeclineForm(ServiceErrorsMixin, FlaskForm):
    field_order = ("note",)

    note = TextAreaField(
        _l("A note for the applicant"),
        description=_l("Optional. It is included in the email that tells them the decision."),
        render_kw={"maxlength": MAX_NOTE_LENGTH, "rows": 5},
    )
    submit = SubmitField(_l("Yes, decline the application"))
