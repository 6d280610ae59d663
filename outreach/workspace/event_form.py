"""The event form both workspaces use to propose and change an event.

``EventForm.for_new(user)`` and ``EventForm.for_event(event, user)`` build
it (prefilled for an event; on a POST both read the submitted form);
``form.to_input()`` turns what was entered into an EventInput for
``create_event`` / ``update_event``, and ``form.show_errors(problem)`` puts
the service's field errors next to the fields they belong to.

A partner's own organisation always leads what it proposes, so partners
only pick co-hosts; staff pick a lead host and co-hosts. Once people have
registered, the questions are shown read-only and left as they are.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Field,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.validators import Optional

from outreach.models import DEFAULT_TIMEZONE, Event, RegistrationQuestion, User
from outreach.policy import is_staff
from outreach.public.forms import MultiCheckboxField
from outreach.services.errors import InvalidInput
from outreach.services.event_editing import (
    MAX_CAPACITY,
    MAX_GUESTS,
    MAX_QUESTIONS,
    MAX_RETENTION_DAYS,
    EventInput,
    create_event,
    update_event,
)
from outreach.workspace import choices, queries
from outreach.workspace import question_rows as rows
from outreach.workspace.choices import language_name, text_direction

QUESTION_ROWS = 5
TIME_FORMATS = ["%H:%M", "%H:%M:%S"]
TEXT_LIMITS = {"title": 200, "summary": 500, "description": 10_000}
# The moments of an event as (EventInput field, date field, time field).
MOMENTS = (
    ("starts_at", "start_date", "start_time"),
    ("ends_at", "end_date", "end_time"),
    ("registration_opens_at", "opens_date", "opens_time"),
    ("registration_closes_at", "closes_date", "closes_time"),
)
# Service error keys that name a field of another name here.
FIELD_FOR_KEY = {key: day for key, day, _clock in MOMENTS} | {"hosts": "co_hosts"}
PLAIN_FIELDS = (
    "timezone",
    "venue_name",
    "venue_address",
    "venue_city",
    "online_url",
    "languages",
    "topics",
    "capacity",
    "waitlist_enabled",
    "max_guests",
    "contact_email",
    "reminders_enabled",
    "retention_days",
)


def _optional_int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def _date(label: str) -> DateField:
    return DateField(label, [Optional()], format="%Y-%m-%d")


def _time(label: str) -> TimeField:
    return TimeField(label, [Optional()], format=TIME_FORMATS)


class EventForm(FlaskForm):
    """The event's texts, time, place, registration settings, hosts and questions."""

    start_date = _date(_l("Start date"))
    start_time = _time(_l("Start time"))
    end_date = _date(_l("End date"))
    end_time = _time(_l("End time"))
    timezone = SelectField(
        _l("Time zone"),
        default=DEFAULT_TIMEZONE,
        description=_l("The dates and times above are in this time zone."),
        invalid_choice_message=_l("Please choose a known time zone."),
    )
    venue_name = StringField(_l("Venue"), render_kw={"maxlength": 200})
    venue_address = StringField(_l("Street and number"), render_kw={"maxlength": 300})
    venue_city = StringField(_l("City"), render_kw={"maxlength": 120})
    online_url = URLField(
        _l("Online link"),
        description=_l("Only people with a confirmed registration see it."),
        render_kw={"maxlength": 500, "placeholder": "https://"},
    )
    languages = MultiCheckboxField(
        _l("Languages the event is held in"),
        invalid_choice_message=_l("Please choose languages from the list."),
    )
    topics = MultiCheckboxField(
        _l("Topics"), invalid_choice_message=_l("Please choose topics from the list.")
    )
    lead_host = SelectField(
        _l("Lead host"),
        coerce=_optional_int,
        invalid_choice_message=_l("Please choose organisations from the list."),
    )
    co_hosts = MultiCheckboxField(
        _l("Co-hosts"),
        coerce=int,
        invalid_choice_message=_l("Please choose organisations from the list."),
    )
    capacity = IntegerField(
        _l("Seats"),
        [Optional()],
        description=_l("Leave empty for no limit."),
        invalid_value_message=_l("Please enter a whole number."),
        render_kw={"min": 0, "max": MAX_CAPACITY},
    )
    waitlist_enabled = BooleanField(_l("Offer a waitlist when all seats are taken"), default=True)
    max_guests = IntegerField(
        _l("Guests per registration"),
        [Optional()],
        default=0,
        description=_l("How many people one person may bring along; 0 for none."),
        invalid_value_message=_l("Please enter a whole number."),
        render_kw={"min": 0, "max": MAX_GUESTS},
    )
    opens_date = _date(_l("Registration opens on"))
    opens_time = _time(_l("Registration opens at"))
    closes_date = _date(_l("Registration closes on"))
    closes_time = _time(_l("Registration closes at"))
    contact_email = EmailField(
        _l("Contact email address"),
        description=_l("Shown to people with questions about the event."),
        render_kw={"maxlength": 254},
    )
    reminders_enabled = BooleanField(_l("Send reminders before the event"), default=True)
    # Staff only (left out of partners' forms); the hint names the default (_build).
    retention_days = IntegerField(
        _l("Anonymise the registrations after (days)"),
        [Optional()],
        invalid_value_message=_l("Please enter a whole number of days, or leave it empty."),
        render_kw={"min": 0, "max": MAX_RETENTION_DAYS},
    )

    # Set by for_new() and for_event().
    locales: tuple[str, ...] = ()
    question_rows: int = 0
    staff: bool = False
    event: Event | None = None
    user: User | None = None
    frozen_questions: list[RegistrationQuestion] | None = None

    # -- building ----------------------------------------------------------------------

    @classmethod
    def _build(cls, user: User, event: Event | None, data: dict[str, Any]) -> EventForm:
        locales = tuple(current_app.config["LANGUAGES"])
        staff = is_staff(user)
        frozen = event is not None and queries.has_registrations(event)
        question_rows = 0
        if not frozen:
            existing = len(event.questions) if event is not None else 0
            question_rows = min(max(QUESTION_ROWS, existing + 1), MAX_QUESTIONS)

        class BoundEventForm(cls):
            pass

        _add_text_fields(BoundEventForm, locales)
        rows.add_fields(BoundEventForm, question_rows, locales)
        if not staff:
            # A partner's own organisation leads: the field is left out of the form.
            BoundEventForm.lead_host = None
            BoundEventForm.retention_days = None
        BoundEventForm.locales = locales
        BoundEventForm.question_rows = question_rows
        BoundEventForm.staff = staff
        form = BoundEventForm(data=data)
        form.event, form.user = event, user
        if staff:
            form.retention_days.description = _(
                "How many days after the event ends its registrations keep names, addresses "
                "and answers; 0 removes them right after the end. Leave it empty for the "
                "usual %(days)d days.",
                days=current_app.config["RETENTION_DAYS"],
            )
        form.frozen_questions = list(event.questions) if frozen and event is not None else None
        form._question_rows_used = []
        form._offer_choices(event)
        return form

    @classmethod
    def for_new(cls, user: User) -> EventForm:
        """Return the empty form for a new event (on a POST: what was submitted)."""
        data: dict[str, Any] = {"languages": ["de"]}
        if is_staff(user):
            lead = next((o for o in queries.organisation_choices() if o.is_host), None)
            data["lead_host"] = lead.id if lead is not None else None
        return cls._build(user, None, data)

    @classmethod
    def for_event(cls, event: Event, user: User) -> EventForm:
        """Return the form showing ``event`` as it is (on a POST: what was submitted)."""
        return cls._build(user, event, _initial_data(event, user))

    def _offer_choices(self, event: Event | None) -> None:
        self.timezone.choices = choices.time_zone_choices(event.timezone if event else None)
        self.languages.choices = choices.language_choices(event.languages if event else ())
        self.topics.choices = choices.topic_options(queries.topic_choices())
        organisations = queries.organisation_choices()
        if self.staff:
            self.lead_host.choices = [
                SelectChoice("", _("Please choose")),
                *choices.organisation_options(organisations),
            ]
            self.co_hosts.choices = choices.organisation_options(organisations)
        else:
            own = self.user.organisation_id if self.user else None
            self.co_hosts.choices = choices.organisation_options(
                [org for org in organisations if org.id != own]
            )

    # -- reading -------------------------------------------------------------------------

    def validate(self, extra_validators: Any = None) -> bool:
        """Check the fields, then that dates come with times and answer lists match."""
        valid = super().validate(extra_validators)
        for _key, day_name, clock_name in MOMENTS:
            day, clock = self[day_name], self[clock_name]
            if day.errors or clock.errors or (day.data is None) == (clock.data is None):
                continue
            missing = clock if clock.data is None else day
            missing.errors = [*missing.errors, _("Please give both a date and a time.")]
            valid = False
        if self.staff and self.lead_host.data is None and not self.lead_host.errors:
            self.lead_host.errors = [_("Please choose the lead host.")]
            valid = False
        return rows.check_answer_lines(self, self.question_rows, self.locales) and valid

    def _zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone.data or DEFAULT_TIMEZONE)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(DEFAULT_TIMEZONE)

    def _moment(self, key: str, day: date | None, clock: time | None) -> datetime | None:
        if day is None or clock is None:
            return None
        zone = self._zone()
        local = datetime.combine(day, clock.replace(second=0, microsecond=0), tzinfo=zone)
        original = getattr(self.event, key, None) if self.event is not None else None
        # The form shows minutes: an unchanged time keeps its seconds instead of moving.
        if original is not None and original.astimezone(zone).replace(
            second=0, microsecond=0
        ) == local.replace(second=0, microsecond=0):
            return original
        return local.astimezone(UTC)

    def _texts(self) -> dict[str, dict[str, str]]:
        texts = {}
        if self.event is not None:
            # Language versions the form does not show (made through the API) stay.
            for locale, version in self.event.translations.items():
                if locale not in self.locales:
                    texts[locale] = {
                        "title": version.title,
                        "summary": version.summary,
                        "description": version.description,
                    }
        for locale in self.locales:
            texts[locale] = {
                part: (self[f"{part}_{locale}"].data or "").strip() for part in TEXT_LIMITS
            }
        return texts

    def _hosts(self) -> list[int]:
        chosen = [org_id for org_id in self.co_hosts.data or []]
        if self.staff:
            lead = self.lead_host.data
            return [lead, *(i for i in chosen if i != lead)] if lead is not None else chosen
        own = self.user.organisation_id if self.user else None
        current = [host.id for host in self.event.hosts] if self.event is not None else []
        kept = [i for i in current if i == own or i in chosen]
        return list(dict.fromkeys([*(kept or [own]), own, *chosen]))

    def to_input(self) -> EventInput:
        """Return what the form says as an EventInput (times converted to aware UTC)."""
        moments = {
            key: self._moment(key, self[day].data, self[clock].data) for key, day, clock in MOMENTS
        }
        questions = None
        if self.frozen_questions is None:
            existing = list(self.event.questions) if self.event is not None else []
            questions, self._question_rows_used = rows.read_questions(
                self, self.question_rows, self.locales, existing
            )
        return EventInput(
            texts=self._texts(),
            starts_at=moments["starts_at"],
            ends_at=moments["ends_at"],
            timezone=self.timezone.data or DEFAULT_TIMEZONE,
            venue_name=_text(self.venue_name.data),
            venue_address=_text(self.venue_address.data),
            venue_city=_text(self.venue_city.data),
            online_url=_text(self.online_url.data),
            capacity=self.capacity.data,
            waitlist_enabled=bool(self.waitlist_enabled.data),
            max_guests=self.max_guests.data or 0,
            registration_opens_at=moments["registration_opens_at"],
            registration_closes_at=moments["registration_closes_at"],
            contact_email=_text(self.contact_email.data),
            languages=list(self.languages.data or []),
            topics=list(self.topics.data or []),
            hosts=self._hosts(),
            questions=questions,
            reminders_enabled=bool(self.reminders_enabled.data),
            retention_days=self.retention_days.data if "retention_days" in self else None,
        )

    # -- errors --------------------------------------------------------------------------

    def _field_for(self, key: str) -> Field | None:
        locale, _dot, part = key.partition(".")
        if locale in self.locales and part in TEXT_LIMITS:
            return self[f"{part}_{locale}"]
        if key.startswith("questions.") and key.count(".") == 2:
            _questions, number, part = key.split(".")
            used = self._question_rows_used
            row = used[int(number)] if number.isdigit() and int(number) < len(used) else None
            if row is None or part not in ("kind", "label", "options"):
                return None
            locale_part = self.locales[0] if part in ("label", "options") else None
            return self[rows.field_name(row, part, locale_part)]
        if key == "hosts" and self.staff and not self.co_hosts.data:
            return self.lead_host
        name = FIELD_FOR_KEY.get(key, key)
        known = name in PLAIN_FIELDS or name in FIELD_FOR_KEY.values()
        return self[name] if known and name in self else None

    def show_errors(self, problem: InvalidInput) -> None:
        """Put the service's field errors on their fields; the rest above the form."""
        for key, message in problem.errors.items():
            field = self._field_for(key)
            if field is None:
                self.form_errors.append(message)
            else:
                field.errors = [*field.errors, message]

    def save(self, by: User, event: Event | None = None) -> Event | None:
        """Create (or change ``event``) from what was submitted; None when it is refused.

        A refusal leaves its messages on the form and nothing in the database.
        NotAllowed (the event may not be changed by ``by``) is left to the caller.
        """
        if not self.validate():
            return None
        try:
            if event is None:
                return create_event(self.to_input(), by=by)
            return update_event(event, self.to_input(), by=by)
        except InvalidInput as problem:
            self.show_errors(problem)
            return None

    def fields_in_order(self) -> list[Field]:
        """The visible fields in the order the page shows them (for the error summary)."""
        names = [f"{part}_{locale}" for locale in self.locales for part in TEXT_LIMITS]
        names += ["start_date", "start_time", "end_date", "end_time", "timezone"]
        names += ["venue_name", "venue_address", "venue_city", "online_url"]
        names += ["languages", "topics", "lead_host", "co_hosts"]
        names += ["capacity", "waitlist_enabled", "max_guests"]
        names += ["opens_date", "opens_time", "closes_date", "closes_time", "contact_email"]
        names += ["reminders_enabled", "retention_days"]
        fields = [self[name] for name in names if name in self]
        for row in range(self.question_rows):
            fields += rows.row_fields(self, row, self.locales)
        return fields

    def question_row_fields(self) -> list[list[Field]]:
        """The question rows' fields, row by row (for the template)."""
        return [rows.row_fields(self, row, self.locales) for row in range(self.question_rows)]

    def kind_name(self, kind: str) -> str:
        """The words for a kind of question (for questions shown read-only)."""
        labels = {choice.value: choice.label for choice in rows.QUESTION_KINDS}
        return str(labels.get(kind, kind))

    def lead_host_name(self) -> str:
        """The lead host a partner's form shows (it cannot be changed there)."""
        if self.event is not None and self.event.lead_host is not None:
            return self.event.lead_host.name
        organisation = self.user.organisation if self.user else None
        return organisation.name if organisation else ""


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


def _add_text_fields(form_class: type, locales: tuple[str, ...]) -> None:
    for locale in locales:
        name = language_name(locale)
        language = {"lang": locale, "dir": text_direction(locale)}
        setattr(
            form_class,
            f"title_{locale}",
            StringField(
                _("Title (%(language)s)", language=name),
                render_kw={"maxlength": TEXT_LIMITS["title"], **language},
            ),
        )
        setattr(
            form_class,
            f"summary_{locale}",
            TextAreaField(
                _("Summary (%(language)s)", language=name),
                description=_l("One or two sentences for the event list."),
                render_kw={"maxlength": TEXT_LIMITS["summary"], "rows": 2, **language},
            ),
        )
        setattr(
            form_class,
            f"description_{locale}",
            TextAreaField(
                _("Description (%(language)s)", language=name),
                description=_l("You can use Markdown: **bold**, *italic*, lists and links."),
                render_kw={"maxlength": TEXT_LIMITS["description"], "rows": 8, **language},
            ),
        )


def _initial_data(event: Event, user: User) -> dict[str, Any]:
    """The form's values that show ``event`` as it is, times in its own zone."""
    locales = tuple(current_app.config["LANGUAGES"])
    data: dict[str, Any] = {}
    for locale in locales:
        version = event.translations.get(locale)
        for part in TEXT_LIMITS:
            data[f"{part}_{locale}"] = getattr(version, part) if version is not None else ""
    zone = event.zone
    for key, day, clock in MOMENTS:
        value = getattr(event, key)
        if value is not None:
            local = value.astimezone(zone)
            data[day], data[clock] = local.date(), local.time().replace(second=0, microsecond=0)
    for name in PLAIN_FIELDS:
        if name not in ("languages", "topics"):
            data[name] = getattr(event, name)
    data["languages"] = list(event.languages)
    data["topics"] = [topic.slug for topic in event.topics]
    hosts = [host.id for host in event.hosts]
    if is_staff(user):
        data["lead_host"] = hosts[0] if hosts else None
        data["co_hosts"] = hosts[1:]
    else:
        data["co_hosts"] = [i for i in hosts if i != user.organisation_id]
    data.update(rows.initial_data(list(event.questions), locales))
    return data
