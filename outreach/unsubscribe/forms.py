"""The preferences form, and the buttons that confirm unsubscribing and leaving."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, RadioField, SelectChoice, SubmitField

from outreach.public.forms import MultiCheckboxField, language_autonym
from outreach.services.errors import InvalidInput
from outreach.services.mail_preferences import Preferences, PreferencesInput


class PreferencesForm(FlaskForm):
    """What bulk mail to get; the service checks the choices, the form carries them."""

    outreach = BooleanField(_l("Invitations and news about events"))
    newsletter = BooleanField(_l("The newsletter"))
    # Stale choices (a topic renamed since the page loaded) get the service's message.
    language = RadioField(_l("Language of the newsletter"), validate_choice=False)
    interests = MultiCheckboxField(
        _l("Topics you are interested in"),
        description=_l("Choose none to get everything."),
        validate_choice=False,
    )
    submit = SubmitField(_l("Save my choices"))

    def offer(self, preferences: Preferences) -> None:
        """Set the choices; on a first view, also what the person gets now."""
        self.language.choices = [
            SelectChoice(code, language_autonym(code), render_kw={"lang": code})
            for code in preferences.languages
        ]
        self.interests.choices = [(topic.slug, topic.name) for topic in preferences.topics]
        if self.is_submitted():
            return
        self.outreach.data = preferences.outreach
        self.newsletter.data = preferences.newsletter
        self.language.data = preferences.language
        self.interests.data = list(preferences.interests)

    def to_input(self) -> PreferencesInput:
        return PreferencesInput(
            outreach=self.outreach.data is True,
            newsletter=self.newsletter.data is True,
            language=self.language.data or None,
            interests=list(self.interests.data or ()),
        )

    def fields_in_order(self) -> list[Field]:
        """The fields the error summary links to, in page order."""
        return [self.outreach, self.newsletter, self.language, self.interests]

    def apply_errors(self, problem: InvalidInput) -> None:
        """Show the service's field messages at the fields."""
        for name, message in problem.errors.items():
            field = self._fields.get(name)
            if field is None:
                self.form_errors.append(message)
            else:
                field.errors = [*field.errors, message]


class LeaveForm(FlaskForm):
    submit = SubmitField(_l("Yes, stop all these emails"))
