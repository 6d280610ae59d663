"""The campaign forms: name, audience builder, texts per language, scheduling, preview.

The audience fields carry the segment JSON (see services.segments) in form
fields that work without JavaScript; the same fields, sent as query
arguments, ask for the size of a segment while it is being built.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import (
    DateField,
    Field,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Optional

from outreach.models import Campaign
from outreach.public.forms import MultiCheckboxField
from outreach.services.campaign_text import MAX_BODY_LENGTH, MAX_SUBJECT_LENGTH
from outreach.services.errors import InvalidInput
from outreach.staff.campaign_queries import AudienceChoices, audience_choices
from outreach.staff.campaign_words import WORDS, campaign_zone
from outreach.staff.forms import StaffForm, _at_most, _plain_text
from outreach.workspace.choices import language_name, text_direction

MAX_NAME_LENGTH = 200

# Newsletter subscribers agreed to the newsletter only: they are no audience of outreach.
AUDIENCES = [SelectChoice(code, WORDS.AUDIENCE[code]) for code in ("registrants", "contacts")]
REGISTRATION_STATUSES = [
    SelectChoice(code, WORDS.REGISTRATION_STATUS[code])
    for code in ("confirmed", "waitlisted", "cancelled")
]
ATTENDANCE = [
    SelectChoice("", _l("Everyone, whether they came or not")),
    *(SelectChoice(code, label) for code, label in WORDS.ATTENDANCE.items()),
]
# The fields that make up the segment, by audience; "audience" itself is the type.
SEGMENT_FIELDS = {
    "registrants": ("events", "statuses", "attendance", "languages", "question", "answer"),
    "contacts": ("organisations",),
}
# What a segment error key means on this form, where the names differ.
SEGMENT_ERROR_FIELDS = {"type": "audience"}


# Ids are positive and fit the database's integer columns (SQLite refuses bigger numbers).
MAX_ID = 2**31 - 1


def _record_id(value: Any) -> int:
    """Read an id from a form value; ValueError (a field error) for anything else."""
    number = int(value)
    if not 0 < number <= MAX_ID:
        raise ValueError(value)
    return number


def _optional_id(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return _record_id(value)


class _FromTheList:
    """A choice field whose unreadable values get a message a person understands."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)  # type: ignore[misc]
        except ValueError as problem:
            raise ValueError(_("Choose from the list.")) from problem


class IdsField(_FromTheList, SelectMultipleField):
    pass


class IdField(_FromTheList, SelectField):
    pass


# -- the campaign form -------------------------------------------------------------------


class CampaignForm(StaffForm):
    """A new or changed outreach campaign; texts per interface language are added on build."""

    name = StringField(
        _l("Name of the campaign"),
        [DataRequired(_l("Please give the campaign a name.")), _at_most(MAX_NAME_LENGTH)],
        description=_l("For you and your colleagues; recipients do not see it."),
        render_kw={"maxlength": MAX_NAME_LENGTH, "autocomplete": "off"},
    )
    audience = RadioField(
        _l("Who gets it?"),
        choices=AUDIENCES,
        default="registrants",
        validate_choice=False,
    )
    events = IdsField(
        _l("Events"),
        coerce=_record_id,
        validate_choice=False,
        description=_l(
            "Past events are listed too. To choose several, hold Ctrl (or ⌘ on a Mac) "
            "while you click."
        ),
        render_kw={"size": 8},
    )
    statuses = MultiCheckboxField(
        _l("Registration status"),
        choices=REGISTRATION_STATUSES,
        default=["confirmed"],
        validate_choice=False,
    )
    attendance = RadioField(_l("Attendance"), choices=ATTENDANCE, default="", validate_choice=False)
    languages = MultiCheckboxField(
        _l("Language of the registration"),
        validate_choice=False,
        description=_l("Tick none to include every language."),
    )
    question = IdField(
        _l("Registration question"),
        coerce=_optional_id,
        validate_choice=False,
        description=_l(
            "Optional: only people who gave a certain answer to a choice question or checkbox "
            "of the chosen events."
        ),
    )
    answer = SelectField(_l("Answer"), validate_choice=False)
    organisations = IdsField(
        _l("Organisations"),
        coerce=_record_id,
        validate_choice=False,
        description=_l(
            "Their contact address and their active partner users. To choose several, "
            "hold Ctrl (or ⌘ on a Mac) while you click."
        ),
        render_kw={"size": 8},
    )
    # The service says when the choice is no version that was written.
    fallback_language = SelectField(
        _l("For everybody else"),
        validate_choice=False,
        description=_l("People whose language has no version of its own get this version."),
    )
    count = SubmitField(_l("Update count"))
    save = SubmitField(_l("Save the campaign"))

    locales: tuple[str, ...] = ()
    choices: AudienceChoices

    def offer(self, choices: AudienceChoices) -> None:
        """Fill the lists to choose from."""
        self.choices = choices
        self.events.choices = [SelectChoice(event.id, event.label) for event in choices.events]
        self.organisations.choices = [
            SelectChoice(org.id, org.name) for org in choices.organisations
        ]
        languages = [SelectChoice(code, language_name(code)) for code in self.locales]
        self.languages.choices = languages
        self.fallback_language.choices = languages
        # The question and answer lists are drawn in groups by the template.
        questions = [question for event in choices.events for question in event.questions]
        self.question.choices = [SelectChoice("", _("No question"))] + [
            SelectChoice(q.id, q.label) for q in questions
        ]
        self.answer.choices = [SelectChoice("", _("Please choose"))] + [
            SelectChoice(value, label) for q in questions for value, label in q.answers
        ]

    # -- reading ---------------------------------------------------------------------------

    @property
    def wants_count(self) -> bool:
        return bool(self.count.data)

    def text_fields(self) -> list[tuple[str, Field, Field]]:
        return [(code, self[f"subject_{code}"], self[f"body_{code}"]) for code in self.locales]

    def texts(self) -> dict[str, dict[str, str]]:
        """The versions someone wrote; a language left empty has no version."""
        texts = {}
        for code, subject, body in self.text_fields():
            if (subject.data or "").strip() or (body.data or "").strip():
                texts[code] = {"subject": subject.data or "", "body": body.data or ""}
        return texts

    def segment(self) -> dict[str, Any]:
        """Return the segment JSON the audience fields describe."""
        return segment_of(self)

    def check_segment_fields(self) -> bool:
        """Validate the audience fields only (for counting without saving)."""
        valid = True
        for name in ("audience", *SEGMENT_FIELDS.get(self.audience.data or "", ())):
            if not self[name].validate(self):
                valid = False
        return valid

    def show_errors(self, problem: InvalidInput, names: Mapping[str, str] | None = None) -> None:
        """Put the service's messages at the fields: texts, segment parts and the rest."""
        mapped = {self._field_name(key): message for key, message in problem.errors.items()}
        super().show_errors(InvalidInput(mapped), names)

    def _field_name(self, key: str) -> str:
        parts = key.split(".")
        if len(parts) == 2 and parts[0] in self.locales and parts[1] in ("subject", "body"):
            return f"{parts[1]}_{parts[0]}"
        if parts[0] == "texts" and len(parts) == 3:
            return f"{parts[2]}_{parts[1]}"
        if key == "texts" and self.locales:
            return f"subject_{self.locales[0]}"
        return SEGMENT_ERROR_FIELDS.get(key, key)

    def fields_in_order(self) -> list[Field]:
        names = ["name", "audience", *SEGMENT_FIELDS.get(self.audience.data or "", ())]
        fields = [self[name] for name in names]
        for _code, subject, body in self.text_fields():
            fields += [subject, body]
        return [*fields, self.fallback_language]


def segment_of(form: CampaignForm) -> dict[str, Any]:
    """Return the segment JSON for the audience fields of ``form``."""
    audience = form.audience.data or "registrants"
    if audience == "contacts":
        return {"type": "contacts", "organisations": list(form.organisations.data or [])}
    if audience != "registrants":
        return {"type": audience}  # the service names what is wrong with it
    question = None
    if form.question.data is not None:
        question = {"id": form.question.data, "answer": (form.answer.data or "").strip()}
    return {
        "type": audience,
        "events": list(form.events.data or []),
        "statuses": list(form.statuses.data or []),
        "attendance": form.attendance.data or None,
        "languages": list(form.languages.data or []),
        "question": question,
    }


def segment_field_errors(form: CampaignForm) -> dict[str, str]:
    """The audience fields' messages by field name (what belongs to none goes to "audience")."""
    errors = {
        name: " ".join(str(error) for error in form[name].errors)
        for name in ("audience", *SEGMENT_FIELDS.get(form.audience.data or "", ()))
        if form[name].errors
    }
    if form.form_errors:
        errors["audience"] = " ".join([errors.get("audience", ""), *map(str, form.form_errors)])
        errors["audience"] = errors["audience"].strip()
    return errors


def _form_data(campaign: Campaign) -> dict[str, Any]:
    """The form's values that show ``campaign`` as it is."""
    data: dict[str, Any] = {
        "name": campaign.name,
        "fallback_language": campaign.fallback_language,
    }
    for code, version in (campaign.texts or {}).items():
        data[f"subject_{code}"] = version.get("subject", "")
        data[f"body_{code}"] = version.get("body", "")
    segment = campaign.segment or {}
    audience = segment.get("type", "registrants")
    data["audience"] = audience
    if audience == "contacts":
        data["organisations"] = segment.get("organisations", [])
    elif audience == "registrants":
        data["events"] = segment.get("events", [])
        data["statuses"] = segment.get("statuses", [])
        data["attendance"] = segment.get("attendance") or ""
        data["languages"] = segment.get("languages", [])
        question = segment.get("question") or {}
        data["question"] = question.get("id")
        data["answer"] = question.get("answer", "")
    return data


def _add_text_fields(form_class: type, locales: tuple[str, ...]) -> None:
    for code in locales:
        name = language_name(code)
        language = {"lang": code, "dir": text_direction(code)}
        setattr(
            form_class,
            f"subject_{code}",
            StringField(
                _l("Subject (%(language)s)", language=name),
                [Optional(), _at_most(MAX_SUBJECT_LENGTH), _plain_text],
                render_kw={"maxlength": MAX_SUBJECT_LENGTH, "autocomplete": "off", **language},
            ),
        )
        setattr(
            form_class,
            f"body_{code}",
            TextAreaField(
                _l("Message (%(language)s)", language=name),
                [Optional(), _at_most(MAX_BODY_LENGTH), _plain_text],
                description=_l("In Markdown: **bold**, *italic*, [a link](https://…), - lists."),
                render_kw={"maxlength": MAX_BODY_LENGTH, "rows": 12, **language},
            ),
        )


def campaign_form(
    campaign: Campaign | None = None,
    *,
    formdata: MultiDict | None = None,
    csrf: bool = True,
) -> CampaignForm:
    """Build the campaign form with one subject and message per interface language.

    Without ``formdata`` the form reads the request's form on a POST, as
    Flask-WTF does; ``formdata`` (query arguments) is for counting only.
    """
    locales = tuple(current_app.config["LANGUAGES"])

    class Form(CampaignForm):
        pass

    _add_text_fields(Form, locales)
    Form.locales = locales
    data = _form_data(campaign) if campaign is not None else {}
    data.setdefault("fallback_language", current_app.config["BABEL_DEFAULT_LOCALE"])
    kwargs: dict[str, Any] = {"data": data}
    if not csrf:
        kwargs["meta"] = {"csrf": False}
    if formdata is not None:
        kwargs["formdata"] = formdata
    form = Form(**kwargs)
    form.offer(audience_choices())
    return form


# -- scheduling, preview and test sending ------------------------------------------------


class ScheduleForm(StaffForm):
    send_date = DateField(
        _l("Date"), [InputRequired(_l("Please give the date."))], render_kw={"required": False}
    )
    send_time = TimeField(
        _l("Time"), [InputRequired(_l("Please give the time."))], render_kw={"required": False}
    )
    schedule = SubmitField(_l("Schedule"))

    @classmethod
    def for_campaign(cls, campaign: Campaign) -> ScheduleForm:
        """Return the form showing the campaign's time in Berlin, if it has one."""
        data: dict[str, Any] = {}
        if campaign.scheduled_at is not None:
            local = campaign.scheduled_at.astimezone(campaign_zone())
            data = {"send_date": local.date(), "send_time": local.time().replace(second=0)}
        return cls(data=data)

    def moment(self) -> datetime | None:
        """Return the chosen moment, aware; None (with a message) for a time the clocks skip."""
        day: date = self.send_date.data
        clock: time = self.send_time.data
        zone = campaign_zone()
        local = datetime.combine(day, clock).replace(tzinfo=zone)
        back = local.astimezone(UTC).astimezone(zone)
        if (back.date(), back.time()) != (day, clock):
            self.send_time.errors = [
                *self.send_time.errors,
                _("The clocks skip this time on that day. Please choose another one."),
            ]
            return None
        return local

    def fields_in_order(self) -> list[Field]:
        return [self.send_date, self.send_time]


class TestSendForm(StaffForm):
    version = SelectField(_l("Language version"), validate_choice=False)
    send_test = SubmitField(_l("Send a test to me"))


class SendNowForm(StaffForm):
    submit = SubmitField(_l("Yes, send it now"))


class CancelCampaignForm(StaffForm):
    submit = SubmitField(_l("Yes, cancel the campaign"))
