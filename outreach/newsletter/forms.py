"""The subscribe form, and the one-button form that confirms a subscription."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, RadioField, StringField, SubmitField
from wtforms.validators import DataRequired

from outreach.consent.links import consent_hint
from outreach.form_errors import ServiceErrorsMixin
from outreach.models import Topic
from outreach.public.forms import MultiCheckboxField, language_choices
from outreach.public.robot_trap import RobotTrapMixin
from outreach.services import consent
from outreach.services.newsletter import SubscriptionInput
from outreach.services.registration_input import MAX_EMAIL_LENGTH, MAX_NAME_LENGTH


class SubscribeForm(ServiceErrorsMixin, RobotTrapMixin):
    field_order = ("email", "name", "language", "interests", "consent")

    email = EmailField(
        _l("Email address"),
        [DataRequired(_l("Please enter your email address."))],
        render_kw={"autocomplete": "email", "maxlength": MAX_EMAIL_LENGTH},
    )
    name = StringField(
        _l("Your name"),
        description=_l("Optional. We use it to greet you."),
        render_kw={"autocomplete": "name", "maxlength": MAX_NAME_LENGTH},
    )
    language = RadioField(
        _l("Language of the newsletter"),
        [DataRequired(_l("Please choose one of the offered languages."))],
        invalid_choice_message=_l("Please choose one of the offered languages."),
    )
    interests = MultiCheckboxField(
        _l("Topics you are interested in"),
        description=_l("Optional. Choose none to hear about everything."),
        invalid_choice_message=_l("Please choose topics from the list."),
    )
    # The label is the versioned consent text in the reader's language (for_locale).
    consent = BooleanField(
        validators=[DataRequired(_l("Please agree, or we may not send you the newsletter."))]
    )
    submit = SubmitField(_l("Subscribe"))

    @classmethod
    def for_locale(cls, locale: str, topics: list[Topic], **kwargs) -> SubscribeForm:
        """Return the form with its language and topic choices, the reader's language first."""
        form = cls(**kwargs)
        form.language.choices = language_choices()
        form.interests.choices = [(topic.slug, topic.name_in(locale)) for topic in topics]
        if not form.is_submitted():
            form.language.data = locale
        form.consent.label.text = consent.current(consent.Purpose.NEWSLETTER, locale).text()
        form.consent.description = consent_hint()
        return form

    def to_input(self, *, consent_language: str, ip: str | None) -> SubscriptionInput:
        return SubscriptionInput(
            email=self.email.data or "",
            name=self.name.data or "",
            language=self.language.data or "",
            interests=list(self.interests.data or []),
            consent=self.consent.data is True,
            consent_language=consent_language,
            ip=ip,
        )
