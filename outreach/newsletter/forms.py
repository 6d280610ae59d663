"""The subscribe form, and the one-button form that confirms a subscription."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, Field, RadioField, StringField, SubmitField
from wtforms.validators import DataRequired

from outreach.models import Topic
from outreach.public.forms import MultiCheckboxField, language_choices
from outreach.services.errors import InvalidInput
from outreach.services.newsletter import SubscriptionInput
from outreach.services.registration_input import MAX_EMAIL_LENGTH, MAX_NAME_LENGTH


class SubscribeForm(FlaskForm):
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
    # The wording is versioned (NEWSLETTER_CONSENT_VERSION): a change needs a new version.
    consent = BooleanField(
        _l(
            "Yes, please send me the newsletter by email, about twice a year. I can "
            "unsubscribe at any time with the link in every newsletter. I agree that my "
            "address, name, language and topics are stored for this, together with the time "
            "and the internet address of this consent as proof."
        ),
        [DataRequired(_l("Please agree, or we may not send you the newsletter."))],
    )
    # A trap for robots: hidden from people and screen readers, so only a robot fills it in.
    homepage = StringField(
        _l("Leave this field empty"),
        render_kw={"autocomplete": "off", "tabindex": "-1"},
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
        return form

    def fields_in_order(self) -> list[Field]:
        """The fields the error summary links to, in page order."""
        return [self._fields[name] for name in self.field_order]

    def filled_by_a_robot(self) -> bool:
        """Return whether the hidden trap field holds anything."""
        return bool((self.homepage.data or "").strip())

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

    def apply_errors(self, problem: InvalidInput) -> None:
        """Show each of the service's messages at its field, unless the field has one."""
        for name, message in problem.errors.items():
            field = self._fields.get(name) if name in self.field_order else None
            if field is None:
                self.form_errors.append(message)
            elif not field.errors:
                field.errors = [message]
