"""Forms behind the private manage link: change a registration, or cancel it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField

from outreach.models import Registration
from outreach.public.forms import (
    QuestionsMixin,
    add_event_fields,
    answer_for_form,
    field_name,
    language_choices,
)


class ChangeForm(QuestionsMixin, FlaskForm):
    leading_fields = ("guests", "language")

    language = SelectField(_l("Language for our emails"))
    submit = SubmitField(_l("Save changes"))


def change_form(registration: Registration, locale: str) -> ChangeForm:
    """Return the change form for ``registration``, filled with what it holds now."""
    event = registration.event

    class RegistrationChangeForm(ChangeForm):
        pass

    add_event_fields(RegistrationChangeForm, event, locale)
    data = {"language": registration.language, "guests": registration.guests}
    for question in event.questions:
        data[field_name(question)] = answer_for_form(
            question, (registration.answers or {}).get(str(question.id))
        )
    form = RegistrationChangeForm(data=data)
    form.language.choices = language_choices()
    return form


class CancelForm(FlaskForm):
    submit = SubmitField(_l("Yes, cancel my registration"))
