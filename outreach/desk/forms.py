"""The one real form of the desk: an announcement to the people registered."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import Field, RadioField, StringField, SubmitField, TextAreaField

from outreach.models import Audience
from outreach.services.announcements import MAX_BODY_LENGTH, MAX_SUBJECT_LENGTH
from outreach.services.errors import InvalidInput

AUDIENCE_LABELS = {
    Audience.CONFIRMED: _l("People with a confirmed seat"),
    Audience.WAITLISTED: _l("People on the waitlist"),
    Audience.ACTIVE: _l("Both: confirmed and on the waitlist"),
}


class AnnouncementForm(FlaskForm):
    """Subject, text and audience; the service checks them, the form only carries them."""

    subject = StringField(
        _l("Subject"),
        render_kw={"maxlength": MAX_SUBJECT_LENGTH, "autocomplete": "off"},
    )
    body = TextAreaField(
        _l("Message"),
        description=_l(
            "Plain text. Each person also gets the link to their registration, "
            "where they can change or cancel it."
        ),
        render_kw={"maxlength": MAX_BODY_LENGTH, "rows": 10},
    )
    # The service decides what is a valid audience; a stale choice gets its message.
    audience = RadioField(_l("Who gets the message?"), validate_choice=False)
    preview = SubmitField(_l("Preview"))

    def set_audiences(self, sizes: dict[Audience, int]) -> None:
        """Offer each audience with how many people it reaches now."""
        self.audience.choices = [
            (
                audience.value,
                f"{AUDIENCE_LABELS[audience]} "
                f"({ngettext('%(num)d person', '%(num)d people', sizes.get(audience, 0))})",
            )
            for audience in AUDIENCE_LABELS
        ]
        if not self.audience.data:
            self.audience.data = Audience.CONFIRMED.value

    def fields_in_order(self) -> list[Field]:
        """The fields the error summary links to, in page order."""
        return [self.subject, self.body, self.audience]

    def apply_errors(self, problem: InvalidInput) -> None:
        """Show the service's field messages at the fields."""
        for name, message in problem.errors.items():
            field = getattr(self, name, None)
            if isinstance(field, Field):
                field.errors = [*field.errors, message]
            else:
                self.form_errors.append(message)
