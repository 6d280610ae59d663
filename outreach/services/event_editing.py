"""Creating and changing events from the workspaces and the API.

One entry point each: ``create_event(data, by=user)`` and
``update_event(event, data, by=user)``. ``data`` is an EventInput, built by
the web form or the API from what a person submitted; every rule about an
event's fields is checked here, so both say the same thing.

A published event's registrants hear about changes their calendars must
follow (time, place, title): those bump SEQUENCE and queue an update, as
``scheduling.reschedule`` does. Every creation and change lands in the audit
log with the fields that changed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select

from outreach.extensions import db
from outreach.models import (
    Event,
    EventStatus,
    EventTranslation,
    Organisation,
    QuestionKind,
    Registration,
    RegistrationQuestion,
    Topic,
    User,
    event_hosts,
    utcnow,
)
from outreach.policy import can_edit, is_staff
from outreach.services import audit
from outreach.services.errors import DomainError, InvalidInput
from outreach.services.locks import lock_event
from outreach.services.registration_input import (
    clean_email,
    has_control_characters,
    has_unsafe_text_characters,
)
from outreach.services.scheduling import CALENDAR_FIELDS, TRANSLATION_LIMITS, bump_and_tell

MAX_CAPACITY = 100_000
MAX_GUESTS = 20
MAX_QUESTIONS = 20
MAX_OPTIONS = 30
MAX_HOSTS = 10
MAX_RETENTION_DAYS = 3650
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


class NotAllowed(DomainError):
    default_message = _l("You may not change this event.")


@dataclass
class QuestionInput:
    kind: QuestionKind | str
    label: dict[str, str]
    required: bool = False
    # [{"value": "vegan", "label": {"de": "vegan", "en": "vegan"}}, …] for choices.
    options: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class EventInput:
    """Everything an event form or API request says about an event.

    Times are timezone-aware. ``hosts`` are organisation ids, the lead host
    first; ``topics`` are topic slugs; ``languages`` the codes of the
    languages the event is held in. ``questions`` None leaves them as they are.
    """

    texts: dict[str, dict[str, str]]
    starts_at: datetime
    ends_at: datetime
    timezone: str = "Europe/Berlin"
    venue_name: str | None = None
    venue_address: str | None = None
    venue_city: str | None = None
    online_url: str | None = None
    capacity: int | None = None
    waitlist_enabled: bool = True
    max_guests: int = 0
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    contact_email: str | None = None
    languages: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    hosts: list[int] = field(default_factory=list)
    questions: list[QuestionInput] | None = None
    reminders_enabled: bool = True
    # Days after the end until the registrations are anonymised; None: the default
    # (RETENTION_DAYS). Only staff set it; for partners the event keeps what it has.
    retention_days: int | None = None

    @classmethod
    def from_event(cls, event: Event) -> EventInput:
        """What ``event`` holds now, as input (the starting point of an edit)."""
        return cls(
            texts={
                locale: {
                    "title": version.title,
                    "summary": version.summary,
                    "description": version.description,
                }
                for locale, version in event.translations.items()
            },
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            timezone=event.timezone,
            venue_name=event.venue_name,
            venue_address=event.venue_address,
            venue_city=event.venue_city,
            online_url=event.online_url,
            capacity=event.capacity,
            waitlist_enabled=event.waitlist_enabled,
            max_guests=event.max_guests,
            registration_opens_at=event.registration_opens_at,
            registration_closes_at=event.registration_closes_at,
            contact_email=event.contact_email,
            languages=event.languages,
            topics=[topic.slug for topic in event.topics],
            hosts=[host.id for host in event.hosts],
            questions=[
                QuestionInput(
                    kind=question.kind,
                    label=dict(question.label or {}),
                    required=question.required,
                    options=[dict(option) for option in question.options or []],
                )
                for question in event.questions
            ],
            reminders_enabled=event.reminders_enabled,
            retention_days=event.retention_days,
        )


# The event's own columns that an EventInput sets, as they are audited.
SCALAR_FIELDS = (
    "starts_at",
    "ends_at",
    "timezone",
    "venue_name",
    "venue_address",
    "venue_city",
    "online_url",
    "capacity",
    "waitlist_enabled",
    "max_guests",
    "registration_opens_at",
    "registration_closes_at",
    "contact_email",
    "reminders_enabled",
    "retention_days",
)
_TEXT_LIMITS = {"venue_name": 200, "venue_address": 300, "venue_city": 120, "online_url": 500}


# -- checking -----------------------------------------------------------------------


class _Checker:
    """Collects field errors while cleaning one EventInput."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def text(self, name: str, value: Any, limit: int) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(name, _("Please enter text."))
            return None
        value = value.strip()
        if has_unsafe_text_characters(value):
            self.fail(name, _("This field contains characters we cannot use."))
        elif len(value) > limit:
            self.fail(name, _("Please use at most %(n)d characters.", n=limit))
        return value or None

    def number(self, name: str, value: Any, *, low: int, high: int) -> int | None:
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, _("Please enter a whole number."))
            return None
        if not low <= value <= high:
            self.fail(
                name, _("Please enter a number from %(low)d to %(high)d.", low=low, high=high)
            )
        return value


def _clean_texts(check: _Checker, texts: Any) -> dict[str, dict[str, str]]:
    if not isinstance(texts, dict) or not texts:
        check.fail("texts", _("Please give the event a title in at least one language."))
        return {}
    cleaned: dict[str, dict[str, str]] = {}
    for locale, values in texts.items():
        if not isinstance(locale, str) or not LANGUAGE_CODE.match(locale):
            check.fail(f"texts.{locale}", _("Please choose languages from the list."))
            continue
        values = values if isinstance(values, dict) else {}
        version = {}
        for name, limit in TRANSLATION_LIMITS.items():
            version[name] = check.text(f"{locale}.{name}", values.get(name) or "", limit) or ""
        if has_control_characters(version["title"]):
            check.fail(f"{locale}.title", _("The title contains characters we cannot use."))
        # A language version is there when it has a title; empty ones are left out.
        if version["title"]:
            cleaned[locale] = version
        elif version["summary"] or version["description"]:
            check.fail(f"{locale}.title", _("Please give this language version a title."))
    if not cleaned and not any(key.endswith(".title") for key in check.errors):
        first = next(iter(texts), "de")
        check.fail(f"{first}.title", _("Please give the event a title."))
    return cleaned


def _clean_questions(check: _Checker, questions: list[QuestionInput]) -> list[QuestionInput]:
    if len(questions) > MAX_QUESTIONS:
        check.fail("questions", _("Please ask at most %(n)d questions.", n=MAX_QUESTIONS))
        return []
    cleaned = []
    for number, question in enumerate(questions):
        name = f"questions.{number}"
        try:
            kind = QuestionKind(question.kind)
        except ValueError:
            check.fail(f"{name}.kind", _("Please choose a kind of question."))
            continue
        label = {
            locale: text.strip()
            for locale, text in (question.label or {}).items()
            if isinstance(text, str) and text.strip()
        }
        if not label:
            check.fail(f"{name}.label", _("Please write the question."))
        elif any(len(text) > 300 for text in label.values()):
            check.fail(f"{name}.label", _("Please use at most %(n)d characters.", n=300))
        options = []
        if kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE):
            options = [option for option in question.options or [] if option.get("value")]
            values = [option["value"] for option in options]
            if len(options) < 2:
                check.fail(f"{name}.options", _("Please give at least two answers to choose from."))
            elif len(options) > MAX_OPTIONS or len(set(values)) != len(values):
                check.fail(
                    f"{name}.options",
                    _("Please give at most %(n)d different answers.", n=MAX_OPTIONS),
                )
        cleaned.append(
            QuestionInput(kind=kind, label=label, required=bool(question.required), options=options)
        )
    return cleaned


def _zone(check: _Checker, name: Any) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        check.fail("timezone", _("Please choose a known time zone."))
        return "Europe/Berlin"
    return name


def _hosts(
    check: _Checker, host_ids: list[int], by: User, lead_id: int | None
) -> list[Organisation]:
    """The hosts, lead first. Partners cannot drop their own organisation or the lead.

    ``lead_id`` is the current lead host of an event being changed (None for
    a new event, which the proposing partner's organisation leads).
    """
    ids = list(dict.fromkeys(host_ids))
    if not is_staff(by):
        first = lead_id or by.organisation_id
        others = [i for i in ids if i not in (first, by.organisation_id)]
        ids = list(dict.fromkeys([first, by.organisation_id, *others]))
    if not ids:
        check.fail("hosts", _("Please choose at least one host organisation."))
        return []
    if len(ids) > MAX_HOSTS:
        check.fail("hosts", _("Please choose at most %(n)d host organisations.", n=MAX_HOSTS))
        return []
    found = {
        org.id: org
        for org in db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)))
    }
    if len(found) != len(ids):
        check.fail("hosts", _("Please choose organisations from the list."))
        return []
    return [found[i] for i in ids]


def _topics(check: _Checker, slugs: list[str]) -> list[Topic]:
    slugs = list(dict.fromkeys(slugs))
    found = list(db.session.scalars(select(Topic).where(Topic.slug.in_(slugs)))) if slugs else []
    if len(found) != len(slugs):
        check.fail("topics", _("Please choose topics from the list."))
    return found


def _retention_days(check: _Checker, value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        check.fail("retention_days", _("Please enter a whole number of days, or leave it empty."))
        return None
    if not 0 <= value <= MAX_RETENTION_DAYS:
        check.fail(
            "retention_days",
            _(
                "Please enter a number of days from 0 to %(high)d, or leave it empty "
                "for the usual period.",
                high=MAX_RETENTION_DAYS,
            ),
        )
        return None
    return value


def _clean(
    data: EventInput, by: User, event: Event | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check ``data`` (for ``event``, if it exists); return (columns, relations) or raise."""
    check = _Checker()
    values: dict[str, Any] = {}
    languages = [code for code in dict.fromkeys(data.languages or []) if isinstance(code, str)]
    if not languages:
        languages = list(data.texts or {}) or ["de"]
    if any(not LANGUAGE_CODE.match(code) for code in languages):
        check.fail("languages", _("Please choose languages from the list."))
    texts = _clean_texts(check, data.texts)

    for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
        value = getattr(data, name)
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            check.fail(name, _("Please give a date and time."))
            value = None
        values[name] = value
    if values["starts_at"] is None:
        check.fail("starts_at", _("Please give a date and time."))
    if values["ends_at"] is None:
        check.fail("ends_at", _("Please give a date and time."))
    elif values["starts_at"] and values["ends_at"] <= values["starts_at"]:
        check.fail("ends_at", _("The event must end after it starts."))
    opens, closes = values["registration_opens_at"], values["registration_closes_at"]
    if opens and closes and closes <= opens:
        check.fail("registration_closes_at", _("Registration must close after it opens."))
    if closes and values["starts_at"] and closes > values["starts_at"]:
        check.fail("registration_closes_at", _("Registration must close before the event starts."))

    values["timezone"] = _zone(check, data.timezone)
    for name, limit in _TEXT_LIMITS.items():
        values[name] = check.text(name, getattr(data, name), limit)
    if values["online_url"] and not values["online_url"].startswith(("https://", "http://")):
        check.fail("online_url", _("Please give a web address starting with https://."))
    if not (values["venue_name"] or values["venue_address"] or values["online_url"]):
        check.fail("venue_name", _("Please give a venue or an online link."))
    values["capacity"] = check.number("capacity", data.capacity, low=0, high=MAX_CAPACITY)
    values["max_guests"] = check.number("max_guests", data.max_guests, low=0, high=MAX_GUESTS) or 0
    values["waitlist_enabled"] = bool(data.waitlist_enabled)
    values["reminders_enabled"] = bool(data.reminders_enabled)
    contact = check.text("contact_email", data.contact_email, 254)
    if contact:
        try:
            contact = clean_email(contact)
        except ValueError as problem:
            check.fail("contact_email", str(problem))
    values["contact_email"] = contact
    if is_staff(by):
        values["retention_days"] = _retention_days(check, data.retention_days)
    else:  # partners cannot choose how long registrations are kept
        values["retention_days"] = event.retention_days if event is not None else None

    relations = {
        "texts": texts,
        "languages": languages,
        "hosts": _hosts(
            check, data.hosts or [], by, event.lead_host.id if event and event.lead_host else None
        ),
        "topics": _topics(check, data.topics or []),
        "questions": None if data.questions is None else _clean_questions(check, data.questions),
    }
    if check.errors:
        raise InvalidInput(check.errors)
    return values, relations


# -- writing --------------------------------------------------------------------------


# German spells these out in ASCII; other accents just drop (é → e).
_SPELLED_OUT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)


def _slug_for(title: str) -> str:
    spelled = title.translate(_SPELLED_OUT)
    ascii_title = unicodedata.normalize("NFKD", spelled).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:80] or "event"
    slug, number = base, 1
    while db.session.scalar(select(Event.id).where(Event.slug == slug)):
        number += 1
        slug = f"{base}-{number}"
    return slug


def _set_hosts(event: Event, hosts: list[Organisation]) -> None:
    db.session.execute(delete(event_hosts).where(event_hosts.c.event_id == event.id))
    db.session.execute(
        insert(event_hosts),
        [
            {"event_id": event.id, "organisation_id": host.id, "position": position}
            for position, host in enumerate(hosts)
        ],
    )
    db.session.expire(event, ["hosts"])


def _set_texts(event: Event, texts: dict[str, dict[str, str]]) -> None:
    for locale in list(event.translations):
        if locale not in texts:
            del event.translations[locale]
    for locale, values in texts.items():
        version = event.translations.get(locale)
        if version is None:
            version = event.translations[locale] = EventTranslation(locale=locale)
        version.title, version.summary = values["title"], values["summary"]
        version.description = values["description"]


def _set_questions(event: Event, questions: list[QuestionInput]) -> None:
    event.questions = [
        RegistrationQuestion(
            position=position,
            kind=question.kind,
            required=question.required,
            label=question.label,
            options=question.options,
        )
        for position, question in enumerate(questions)
    ]


def _questions_of(event: Event) -> list[dict[str, Any]]:
    return [
        {
            "kind": question.kind.value,
            "label": question.label,
            "required": question.required,
            "options": question.options,
        }
        for question in event.questions
    ]


def _state(event: Event) -> dict[str, Any]:
    """What the audit log compares before and after a change."""
    return {
        **audit.snapshot(event, SCALAR_FIELDS),
        "texts": {
            locale: {"title": v.title, "summary": v.summary, "description": v.description}
            for locale, v in sorted(event.translations.items())
        },
        "languages": list(event.languages),
        "hosts": [host.slug for host in event.hosts],
        "topics": [topic.slug for topic in event.topics],
        "questions": _questions_of(event),
    }


def create_event(data: EventInput, *, by: User, now: datetime | None = None) -> Event:
    """Create a draft event from ``data``, made by ``by``; commits.

    Partner users create events of their own organisation (it leads as
    first host); staff choose the hosts. Raises InvalidInput or NotAllowed.
    """
    if not (is_staff(by) or by.organisation_id):
        raise NotAllowed()
    values, relations = _clean(data, by)
    try:
        event = Event(
            slug=_slug_for(next(iter(relations["texts"].values()))["title"]),
            status=EventStatus.DRAFT,
            created_by_id=by.id,
            created_at=now or utcnow(),
            **values,
        )
        event.languages = relations["languages"]
        event.topics = relations["topics"]
        _set_texts(event, relations["texts"])
        _set_questions(event, relations["questions"] or [])
        db.session.add(event)
        db.session.flush()
        _set_hosts(event, relations["hosts"])
        audit.record("event.created", event, actor=by, changes=audit.changes({}, _state(event)))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return event


def _has_registrations(event: Event) -> bool:
    return bool(
        db.session.scalar(
            select(func.count()).select_from(Registration).where(Registration.event_id == event.id)
        )
    )


def update_event(event: Event, data: EventInput, *, by: User, now: datetime | None = None) -> Event:
    """Change ``event`` to what ``data`` says; commits.

    Raises NotAllowed (partners change drafts only; nobody a cancelled event),
    or InvalidInput. Questions cannot change once people have registered.
    """
    now = now or utcnow()
    if not can_edit(by, event):
        raise NotAllowed()
    values, relations = _clean(data, by, event)
    try:
        event = lock_event(event.id)
        if not can_edit(by, event):
            raise NotAllowed()
        before = _state(event)
        questions = relations["questions"]
        if questions is not None and _has_registrations(event):
            current = _questions_of(event)
            wanted = [
                {
                    "kind": q.kind.value,
                    "label": q.label,
                    "required": q.required,
                    "options": q.options,
                }
                for q in questions
            ]
            if current != wanted:
                message = _("People have registered already: the questions stay as they are.")
                raise InvalidInput({"questions": message})
            questions = None
        calendar_changed = {
            name for name in CALENDAR_FIELDS if getattr(event, name) != values[name]
        }
        titles_before = {locale: version.title for locale, version in event.translations.items()}
        for name, value in values.items():
            setattr(event, name, value)
        event.languages = relations["languages"]
        event.topics = relations["topics"]
        _set_texts(event, relations["texts"])
        if questions is not None:
            _set_questions(event, questions)
        _set_hosts(event, relations["hosts"])
        db.session.flush()
        after = _state(event)
        changed = audit.changes(before, after)
        if not changed:
            db.session.rollback()
            return event
        if titles_before != {locale: v.title for locale, v in event.translations.items()}:
            calendar_changed.add("title")
        event.updated_at = now
        if calendar_changed:
            bump_and_tell(event, calendar_changed)
        audit.record("event.updated", event, actor=by, changes=changed)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return event


def event_input_fields() -> tuple[str, ...]:
    """The names EventInput takes (for the API's field errors)."""
    return tuple(item.name for item in fields(EventInput))
