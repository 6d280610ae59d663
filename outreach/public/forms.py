"""The registration form, built per event: its questions become fields."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from babel import Locale
from babel.core import UnknownLocaleError
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from outreach.consent.links import consent_hint
from outreach.models import Event, QuestionKind, RegistrationQuestion
from outreach.public.robot_trap import RobotTrapMixin
from outreach.services import consent
from outreach.services.errors import InvalidInput
from outreach.services.registration_input import MAX_EMAIL_LENGTH, MAX_NAME_LENGTH

QUESTION_PREFIX = "q_"


def language_autonym(code: str) -> str:
    """The name of a language in itself ('Deutsch', 'English'), for choosing one."""
    try:
        return Locale.parse(code).get_display_name(code) or code
    except (UnknownLocaleError, ValueError):
        return code


def language_choices() -> list[SelectChoice]:
    """The interface languages, each named in itself and marked with its language."""
    return [
        SelectChoice(code, language_autonym(code), render_kw={"lang": code})
        for code in current_app.config["LANGUAGES"]
    ]


def _options(question: RegistrationQuestion, locale: str) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in question.choices_in(locale)]


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes instead of a multiple select."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def question_field(question: RegistrationQuestion, locale: str) -> Field:
    """Build the unbound field that asks ``question`` in ``locale``."""
    label = question.label_in(locale)
    kind = question.kind
    required = question.required
    if kind is QuestionKind.CHECKBOX:
        validators = [DataRequired(_l("Please tick this box to continue."))] if required else []
        return BooleanField(label, validators)
    if kind is QuestionKind.MULTIPLE_CHOICE:
        validators = [DataRequired(_l("Please choose at least one option."))] if required else []
        return MultiCheckboxField(
            label,
            validators,
            choices=_options(question, locale),
            invalid_choice_message=_l("Please choose from the offered options."),
        )
    if kind is QuestionKind.SINGLE_CHOICE:
        validators = [
            DataRequired(_l("This question needs an answer.")) if required else Optional()
        ]
        return RadioField(
            label,
            validators,
            choices=_options(question, locale),
            invalid_choice_message=_l("Please choose from the offered options."),
        )
    validators = [DataRequired(_l("This question needs an answer."))] if required else []
    limit = RegistrationQuestion.MAX_TEXT_LENGTH[kind]
    field_class = TextAreaField if kind is QuestionKind.LONG_TEXT else StringField
    return field_class(label, validators, render_kw={"maxlength": limit})


def field_name(question: RegistrationQuestion) -> str:
    return f"{QUESTION_PREFIX}{question.id}"


def answer_for_form(question: RegistrationQuestion, stored: Any) -> Any:
    """Turn a stored answer into the value its field shows."""
    if question.kind is QuestionKind.CHECKBOX:
        return stored is True
    if question.kind is QuestionKind.MULTIPLE_CHOICE:
        return list(stored or [])
    return stored or None


class QuestionsMixin:
    """Fields ``q_<id>`` for an event's questions, and the answers they hold."""

    questions: list[RegistrationQuestion] = []
    # Names of the fields shown before and after the questions, in page order.
    leading_fields: tuple[str, ...] = ()
    trailing_fields: tuple[str, ...] = ()

    def fields_in_order(self) -> list[Field]:
        """The visible fields in the order the page shows them (for the error summary)."""
        names = [
            *self.leading_fields,
            *(field_name(question) for question in self.questions),
            *self.trailing_fields,
        ]
        return [self._fields[name] for name in names if name in self._fields]

    def question_fields(self) -> Iterator[tuple[RegistrationQuestion, Field]]:
        for question in self.questions:
            yield question, self[field_name(question)]

    def answers(self) -> dict[str, Any]:
        """The answers as the services take them: {str(question_id): value}."""
        answers: dict[str, Any] = {}
        for question, field in self.question_fields():
            value = field.data
            if question.kind is QuestionKind.CHECKBOX:
                value = bool(value)
            elif question.kind is QuestionKind.MULTIPLE_CHOICE:
                value = list(value or [])
            answers[str(question.id)] = value
        return answers

    def apply_errors(self, problem: InvalidInput) -> None:
        """Put the service's errors next to the fields they belong to."""
        for key, message in problem.errors.items():
            name = key
            if key.startswith("answers."):
                name = QUESTION_PREFIX + key.removeprefix("answers.")
            self.add_error(name, message)

    def add_error(self, name: str, message: str) -> None:
        """Attach ``message`` to field ``name``, or to the form if there is no such field."""
        field = self._fields.get(name)
        if field is None:
            self.form_errors.append(message)
        else:
            field.errors = [*field.errors, message]

    @property
    def guests_value(self) -> int:
        field = self._fields.get("guests")
        return (field.data or 0) if field is not None else 0


class GuestsRange:
    """Between 0 and ``maximum`` guests.

    Unlike NumberRange, safe for any integer a person can type (NumberRange
    turns the number into a float and overflows on a few hundred digits).
    """

    def __init__(self, maximum: int, message: str):
        self.maximum = maximum
        self.message = message

    def __call__(self, form, field) -> None:
        if field.data is not None and not 0 <= field.data <= self.maximum:
            raise ValidationError(self.message)


def add_event_fields(form_class: type, event: Event, locale: str) -> None:
    """Add the guests field (if guests are allowed) and one field per question."""
    form_class.questions = list(event.questions)
    for question in event.questions:
        setattr(form_class, field_name(question), question_field(question, locale))
    if event.max_guests > 0:
        form_class.guests = IntegerField(
            _l("Guests you bring along"),
            [
                Optional(),
                GuestsRange(
                    event.max_guests,
                    _("Please choose between 0 and %(n)d guests.", n=event.max_guests),
                ),
            ],
            invalid_value_message=_l("Please enter a whole number."),
            description=_("Not counting yourself: at most %(n)d.", n=event.max_guests),
            render_kw={"min": 0, "max": event.max_guests},
            default=0,
        )


def host_names(event: Event) -> str:
    return ", ".join(host.name for host in event.hosts)


class RegistrationForm(QuestionsMixin, RobotTrapMixin):
    leading_fields = ("name", "email", "language", "guests")
    trailing_fields = ("consent",)

    name = StringField(
        _l("Your name"),
        [DataRequired(_l("Please enter your name."))],
        render_kw={"autocomplete": "name", "maxlength": MAX_NAME_LENGTH},
    )
    email = EmailField(
        _l("Email address"),
        [DataRequired(_l("Please enter your email address."))],
        render_kw={"autocomplete": "email", "maxlength": MAX_EMAIL_LENGTH},
    )
    language = SelectField(_l("Language for our emails"))
    consent = BooleanField(
        validators=[
            DataRequired(_l("Please agree to how we use your data, or we cannot register you."))
        ]
    )
    submit = SubmitField(_l("Register"))


def registration_form(
    event: Event, locale: str, *, waitlist: bool = False, **kwargs
) -> RegistrationForm:
    """Return the registration form for ``event`` with its questions in ``locale``."""

    class EventRegistrationForm(RegistrationForm):
        pass

    add_event_fields(EventRegistrationForm, event, locale)
    form = EventRegistrationForm(**kwargs)
    form.language.choices = language_choices()
    if not form.is_submitted():
        form.language.data = form.language.data or locale
    # The versioned text the service records (services/consent.py), in the page's language.
    wording = consent.current(consent.Purpose.REGISTRATION, locale)
    form.consent.label.text = wording.text(hosts=host_names(event))
    form.consent.description = consent_hint()
    if waitlist:
        form.submit.label.text = _("Join the waitlist")
    return form


def answers_in_words(
    event: Event, answers: Mapping[str, Any], locale: str
) -> list[tuple[str, str]]:
    """Each question with the answer given, in words, for showing it back."""
    shown = []
    for question in event.questions:
        value = answers.get(str(question.id))
        if question.kind is QuestionKind.CHECKBOX:
            words = _("Yes") if value is True else _("No")
        elif question.is_choice:
            labels = dict(question.choices_in(locale))
            chosen = value if isinstance(value, list) else [value] if value else []
            words = ", ".join(labels.get(v, v) for v in chosen) or _("No answer")
        else:
            words = value or _("No answer")
        shown.append((question.label_in(locale), words))
    return shown
