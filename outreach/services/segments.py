"""Segments: who a campaign goes to, as a JSON description and as one SQL query.

A segment is stored on the campaign as JSON and comes in three types::

    {"type": "registrants", "events": [ids], "statuses": ["confirmed", …],
     "attendance": null | "attended" | "no_show", "languages": [codes],
     "question": null | {"id": question id, "answer": "value"}}
    {"type": "subscribers", "languages": [codes], "interests": [topic slugs]}
    {"type": "contacts", "organisations": [ids]}

:func:`recipients` turns one into a single SELECT with one row per distinct
lower-cased address (a person registered for two of the events is one
recipient, named as in their most recent registration), leaving out the
addresses suppressed for all mail or for the campaign kind's scope, and
subscribers who are not active. Nothing here loops over people in Python:
counting, sampling and enqueuing all run that query.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    cast,
    exists,
    false,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import JSONB

from outreach.extensions import db
from outreach.models import (
    CampaignKind,
    Event,
    Organisation,
    OutboxMessage,
    QuestionKind,
    Registration,
    RegistrationQuestion,
    RegistrationStatus,
    Role,
    Subscriber,
    SubscriberStatus,
    Suppression,
    SuppressionScope,
    User,
    utcnow,
)
from outreach.services.errors import InvalidInput

REGISTRANTS = "registrants"
SUBSCRIBERS = "subscribers"
CONTACTS = "contacts"
TYPES = (REGISTRANTS, SUBSCRIBERS, CONTACTS)

ATTENDED = "attended"
NO_SHOW = "no_show"
ATTENDANCE = (ATTENDED, NO_SHOW)
CHECKBOX_ANSWERS = ("yes", "no")

# Bounds that keep a segment (and its query) a reasonable size.
MAX_IDS = 100
MAX_INTERESTS = 50

SCOPES = {
    CampaignKind.OUTREACH: SuppressionScope.OUTREACH,
    CampaignKind.NEWSLETTER: SuppressionScope.NEWSLETTER,
}


@dataclass(frozen=True)
class Recipient:
    """One row of a segment: a person to write to, in their language."""

    email: str
    name: str
    language: str
    registration_id: int | None = None
    subscriber_id: int | None = None
    event_id: int | None = None

    @property
    def first_name(self) -> str:
        parts = self.name.split()
        return parts[0] if parts else ""

    @classmethod
    def from_message(cls, message: OutboxMessage) -> Recipient:
        """Read the recipient an outbox row of a campaign was written for."""
        subscriber = (message.payload or {}).get("subscriber")
        return cls(
            email=message.recipient,
            name=message.recipient_name or "",
            language=message.language,
            registration_id=message.registration_id,
            subscriber_id=subscriber if type(subscriber) is int else None,
            event_id=message.event_id,
        )


@dataclass(frozen=True)
class QuestionFilter:
    """Registrations whose answer to a question is (or, for a checkbox, is not) ``answer``."""

    id: int
    answer: str


@dataclass(frozen=True)
class Segment:
    """Who a campaign is for; build it with :meth:`from_dict`."""

    type: ClassVar[str]

    @staticmethod
    def from_dict(data: Any, *, verify: bool = True) -> Segment:
        """Read and check a segment's JSON; raise InvalidInput with a message per field.

        With ``verify`` (the default) the events, questions and organisations
        named must exist; the enqueuing of a saved campaign skips that check,
        since a deleted event only means fewer recipients.
        """
        if not isinstance(data, Mapping):
            raise InvalidInput({"type": _("Choose who the campaign is for.")})
        kind = data.get("type")
        parser = _PARSERS.get(kind) if isinstance(kind, str) else None
        if parser is None:
            raise InvalidInput({"type": _("Choose who the campaign is for.")})
        errors: dict[str, str] = {}
        unknown = set(data) - {"type", *parser.fields}
        if unknown:
            errors["type"] = _(
                "These fields do not belong to this kind of audience: %(names)s",
                names=", ".join(sorted(map(str, unknown))),
            )
        segment = parser.parse(data, errors, verify=verify)
        if errors:
            raise InvalidInput(errors)
        return segment

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def scope_for(self, kind: CampaignKind) -> SuppressionScope:
        """Return the scope (besides ALL) that keeps an address out of this kind of mail."""
        return SCOPES[CampaignKind(kind)]

    @property
    def placeholders(self) -> frozenset[str]:
        """Name the placeholders a text for this segment may use (see campaign_text)."""
        return frozenset({"first_name", "name", "unsubscribe_url", "preferences_url"})

    def query(self, scope: SuppressionScope, after: str | None, upto: str | None) -> Select:
        raise NotImplementedError

    def addresses(self, scope: SuppressionScope, after: str | None) -> Select:
        """Select the segment's addresses after ``after`` (column ``email``), in no order."""
        rows = self.query(scope, after, None).subquery()
        return select(rows.c.email)


@dataclass(frozen=True)
class RegistrantsSegment(Segment):
    type: ClassVar[str] = REGISTRANTS
    fields: ClassVar[tuple[str, ...]] = (
        "events",
        "statuses",
        "attendance",
        "languages",
        "question",
    )

    events: tuple[int, ...]
    statuses: tuple[str, ...] = (RegistrationStatus.CONFIRMED.value,)
    attendance: str | None = None
    languages: tuple[str, ...] = ()
    question: QuestionFilter | None = None

    @classmethod
    def parse(cls, data: Mapping, errors: dict[str, str], *, verify: bool) -> Segment:
        events = _ids(data.get("events"), "events", errors)
        if events is not None and not events:
            errors["events"] = _("Choose at least one event.")
        elif events and verify:
            found = set(db.session.scalars(select(Event.id).where(Event.id.in_(events))))
            if missing := [str(event_id) for event_id in events if event_id not in found]:
                errors["events"] = _("There is no event %(ids)s.", ids=", ".join(missing))
        statuses = _strings(data.get("statuses", ["confirmed"]), "statuses", errors)
        valid_statuses = {status.value for status in RegistrationStatus}
        if statuses is not None and not statuses:
            errors["statuses"] = _("Choose at least one registration status.")
        elif statuses and not set(statuses) <= valid_statuses:
            errors["statuses"] = _("Choose statuses from the list.")
        attendance = data.get("attendance")
        if attendance is not None and attendance not in ATTENDANCE:
            errors["attendance"] = _("Choose “attended”, “no-show” or neither.")
        elif attendance == NO_SHOW and statuses and "confirmed" not in statuses:
            errors["attendance"] = _("No-shows had a seat: include confirmed registrations.")
        languages = _languages(data.get("languages", []), errors)
        question = _question(data.get("question"), events or (), errors, verify=verify)
        return cls(
            events=tuple(events or ()),
            statuses=tuple(sorted(set(statuses or ()))),
            attendance=attendance,
            languages=languages,
            question=question,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "events": list(self.events),
            "statuses": list(self.statuses),
            "attendance": self.attendance,
            "languages": list(self.languages),
            "question": (
                {"id": self.question.id, "answer": self.question.answer} if self.question else None
            ),
        }

    @property
    def placeholders(self) -> frozenset[str]:
        return super().placeholders | {"event", "manage_url"}

    def addresses(self, scope: SuppressionScope, after: str | None) -> Select:
        # The same addresses as query() gives, without ranking anyone's registrations.
        email = func.lower(Registration.email)
        return (
            select(email.label("email")).where(*self._conditions(email, scope, after, None))
        ).distinct()

    def query(self, scope: SuppressionScope, after: str | None, upto: str | None) -> Select:
        email = func.lower(Registration.email)
        ranked = (
            select(
                email.label("email"),
                Registration.name.label("name"),
                Registration.language.label("language"),
                Registration.id.label("registration_id"),
                cast(null(), Integer).label("subscriber_id"),
                Registration.event_id.label("event_id"),
                func.row_number()
                .over(
                    partition_by=email,
                    order_by=(Registration.created_at.desc(), Registration.id.desc()),
                )
                .label("rank"),
            )
            .where(*self._conditions(email, scope, after, upto))
            .subquery("ranked")
        )
        return _columns(ranked).where(ranked.c.rank == 1)

    def _conditions(
        self, email: ColumnElement, scope: SuppressionScope, after: str | None, upto: str | None
    ) -> list[ColumnElement]:
        conditions = [
            Registration.event_id.in_(self.events),
            Registration.status.in_([RegistrationStatus(s) for s in self.statuses]),
            # An anonymised registration has no person to write to any more.
            Registration.anonymised_at.is_(None),
            _not_suppressed(email, scope),
            *_bounds(email, after, upto),
        ]
        if self.languages:
            conditions.append(Registration.language.in_(self.languages))
        if self.attendance == ATTENDED:
            conditions.append(Registration.checked_in_at.is_not(None))
        elif self.attendance == NO_SHOW:
            ended = select(Event.id).where(Event.id.in_(self.events), Event.ends_at < utcnow())
            conditions += [
                Registration.status == RegistrationStatus.CONFIRMED,
                Registration.checked_in_at.is_(None),
                Registration.event_id.in_(ended),
            ]
        if self.question is not None:
            conditions.append(_answer_matches(self.question))
        return conditions


@dataclass(frozen=True)
class SubscribersSegment(Segment):
    type: ClassVar[str] = SUBSCRIBERS
    fields: ClassVar[tuple[str, ...]] = ("languages", "interests")

    languages: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()

    @classmethod
    def parse(cls, data: Mapping, errors: dict[str, str], *, verify: bool) -> Segment:
        languages = _languages(data.get("languages", []), errors)
        interests = _strings(data.get("interests", []), "interests", errors) or []
        if len(interests) > MAX_INTERESTS or any(len(slug) > 80 for slug in interests):
            errors["interests"] = _("Choose topics from the list.")
        return cls(languages=languages, interests=tuple(sorted(set(interests))))

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "languages": list(self.languages),
            "interests": list(self.interests),
        }

    def query(self, scope: SuppressionScope, after: str | None, upto: str | None) -> Select:
        email = func.lower(Subscriber.email)
        conditions = [
            Subscriber.status == SubscriberStatus.ACTIVE,
            _not_suppressed(email, scope),
            *_bounds(email, after, upto),
        ]
        if self.languages:
            conditions.append(Subscriber.language.in_(self.languages))
        if self.interests:
            # No interests chosen means interested in everything.
            conditions.append(
                or_(
                    func.json_array_length(Subscriber.interests) == 0,
                    _json_has_any(Subscriber.interests, self.interests),
                )
            )
        # Subscriber addresses are unique and stored lower-cased: one row each already.
        return select(
            email.label("email"),
            Subscriber.name.label("name"),
            Subscriber.language.label("language"),
            cast(null(), Integer).label("registration_id"),
            Subscriber.id.label("subscriber_id"),
            cast(null(), Integer).label("event_id"),
        ).where(*conditions)


@dataclass(frozen=True)
class ContactsSegment(Segment):
    type: ClassVar[str] = CONTACTS
    fields: ClassVar[tuple[str, ...]] = ("organisations",)

    organisations: tuple[int, ...] = field(default=())

    @classmethod
    def parse(cls, data: Mapping, errors: dict[str, str], *, verify: bool) -> Segment:
        ids = _ids(data.get("organisations"), "organisations", errors)
        if ids is not None and not ids:
            errors["organisations"] = _("Choose at least one organisation.")
        elif ids and verify:
            found = set(db.session.scalars(select(Organisation.id).where(Organisation.id.in_(ids))))
            if missing := [str(org_id) for org_id in ids if org_id not in found]:
                errors["organisations"] = _(
                    "There is no organisation %(ids)s.", ids=", ".join(missing)
                )
        return cls(organisations=tuple(ids or ()))

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "organisations": list(self.organisations)}

    def query(self, scope: SuppressionScope, after: str | None, upto: str | None) -> Select:
        language = literal(current_app.config["BABEL_DEFAULT_LOCALE"], String)
        org_email = func.lower(func.trim(Organisation.contact_email))
        user_email = func.lower(User.email)
        # A partner user (a person, with a name) wins over the organisation's own address.
        contacts = union_all(
            select(
                user_email.label("email"),
                func.coalesce(func.nullif(User.name, ""), Organisation.name).label("name"),
                literal(0).label("preference"),
            )
            .join(Organisation, User.organisation_id == Organisation.id)
            .where(
                User.organisation_id.in_(self.organisations),
                User.role == Role.PARTNER,
                User.is_active.is_(True),
            ),
            select(
                org_email.label("email"),
                Organisation.name.label("name"),
                literal(1).label("preference"),
            ).where(
                Organisation.id.in_(self.organisations),
                func.coalesce(func.trim(Organisation.contact_email), "") != "",
            ),
        ).subquery("contacts")
        ranked = (
            select(
                contacts.c.email,
                contacts.c.name,
                language.label("language"),
                cast(null(), Integer).label("registration_id"),
                cast(null(), Integer).label("subscriber_id"),
                cast(null(), Integer).label("event_id"),
                func.row_number()
                .over(
                    partition_by=contacts.c.email,
                    order_by=(contacts.c.preference, contacts.c.name),
                )
                .label("rank"),
            )
            .where(
                _not_suppressed(contacts.c.email, scope),
                *_bounds(contacts.c.email, after, upto),
            )
            .subquery("ranked")
        )
        return _columns(ranked).where(ranked.c.rank == 1)


_PARSERS: dict[str, Any] = {
    REGISTRANTS: RegistrantsSegment,
    SUBSCRIBERS: SubscribersSegment,
    CONTACTS: ContactsSegment,
}


# -- the queries ------------------------------------------------------------------


def recipients(
    segment: Segment,
    kind: CampaignKind,
    *,
    after: str | None = None,
    upto: str | None = None,
) -> Select:
    """Build the SELECT of the segment's recipients for a campaign of ``kind``.

    Columns: email (lower-cased, one row each), name, language,
    registration_id, subscriber_id, event_id. ``after`` and ``upto`` bound
    the addresses (``after < email <= upto``), for walking the segment in chunks.
    """
    return segment.query(segment.scope_for(kind), after, upto)


def segment_size(segment: Segment, kind: CampaignKind) -> int:
    """Count the people the segment reaches now (one COUNT over its query)."""
    rows = recipients(segment, kind).subquery()
    return db.session.scalar(select(func.count()).select_from(rows)) or 0


def sample(segment: Segment, kind: CampaignKind, limit: int = 20) -> list[Recipient]:
    """Return a few recipients, in address order, to show or to preview as."""
    rows = recipients(segment, kind).subquery()
    return [
        _recipient(row)
        for row in db.session.execute(select(rows).order_by(rows.c.email).limit(limit))
    ]


def find_recipient(segment: Segment, kind: CampaignKind, email: str) -> Recipient | None:
    """Return the segment's row for ``email``, or None when the address is not in it."""
    rows = recipients(segment, kind).subquery()
    row = db.session.execute(select(rows).where(rows.c.email == email.strip().lower())).first()
    return _recipient(row) if row is not None else None


def _recipient(row: Any) -> Recipient:
    return Recipient(
        email=row.email,
        name=row.name or "",
        language=row.language,
        registration_id=row.registration_id,
        subscriber_id=row.subscriber_id,
        event_id=row.event_id,
    )


def _columns(ranked: Any) -> Select:
    return select(
        ranked.c.email,
        ranked.c.name,
        ranked.c.language,
        ranked.c.registration_id,
        ranked.c.subscriber_id,
        ranked.c.event_id,
    )


def _bounds(email: ColumnElement, after: str | None, upto: str | None) -> list[ColumnElement]:
    bounds = []
    if after is not None:
        bounds.append(email > after)
    if upto is not None:
        bounds.append(email <= upto)
    return bounds


def _not_suppressed(email: ColumnElement, scope: SuppressionScope) -> ColumnElement:
    return ~exists().where(
        Suppression.email == email,
        Suppression.scope.in_([SuppressionScope.ALL, scope]),
    )


def _is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _json_has_any(
    column: ColumnElement, values: Sequence[str], key: str | None = None
) -> ColumnElement:
    """Whether a JSON column (or its member ``key``) is one of ``values`` or a list holding one."""
    if _is_postgresql():
        document = column[key] if key is not None else column
        # jsonb containment: an array contains a scalar it holds, a scalar itself.
        as_jsonb = cast(document, JSONB)
        return or_(*(as_jsonb.contains(literal(value, JSONB)) for value in values))
    # json_each walks an array's items, or gives a scalar as its one row.
    arguments = (column, f'$."{key}"') if key is not None else (column,)
    items = func.json_each(*arguments).table_valued("value")
    return exists(select(1).select_from(items).where(items.c.value.in_(list(values))))


def _answer_matches(question: QuestionFilter) -> ColumnElement:
    key = str(question.id)
    kind = db.session.scalar(
        select(RegistrationQuestion.kind).where(RegistrationQuestion.id == question.id)
    )
    if kind is QuestionKind.CHECKBOX:
        ticked = func.coalesce(Registration.answers[key].as_boolean(), false())
        return ticked if question.answer == "yes" else ~ticked
    return _json_has_any(Registration.answers, [question.answer], key)


# -- reading the JSON ----------------------------------------------------------------


# The largest id any of our tables hands out (a 32-bit integer column); larger
# numbers cannot name a row, and SQLite would overflow on them.
MAX_ID = 2**31 - 1


def _ids(raw: Any, name: str, errors: dict[str, str]) -> list[int] | None:
    if raw is None:
        raw = []
    if not isinstance(raw, list) or not all(
        type(item) is int and 0 < item <= MAX_ID for item in raw
    ):  # bool is an int: type() keeps it out
        errors[name] = _("Choose from the list.")
        return None
    if len(raw) > MAX_IDS:
        errors[name] = _("Choose at most %(n)d.", n=MAX_IDS)
        return None
    return list(dict.fromkeys(raw))


def _strings(raw: Any, name: str, errors: dict[str, str]) -> list[str] | None:
    if raw is None:
        raw = []
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        errors[name] = _("Choose from the list.")
        return None
    return list(dict.fromkeys(raw))


def _languages(raw: Any, errors: dict[str, str]) -> tuple[str, ...]:
    codes = _strings(raw, "languages", errors)
    if codes is None:
        return ()
    supported = tuple(current_app.config["LANGUAGES"])
    if not set(codes) <= set(supported):
        errors["languages"] = _("Choose languages from the list.")
        return ()
    return tuple(code for code in supported if code in codes)


def _question(
    raw: Any, events: Sequence[int], errors: dict[str, str], *, verify: bool
) -> QuestionFilter | None:
    if raw is None:
        return None
    question_id = raw.get("id") if isinstance(raw, Mapping) else None
    answer = raw.get("answer") if isinstance(raw, Mapping) else None
    if (
        type(question_id) is not int
        or not 0 < question_id <= MAX_ID
        or not isinstance(answer, str)
        or not answer
    ):
        errors["question"] = _("Choose a question and an answer.")
        return None
    if not verify:
        return QuestionFilter(question_id, answer)
    question = db.session.get(RegistrationQuestion, question_id)
    if question is None or question.event_id not in events:
        errors["question"] = _("This question does not belong to the chosen events.")
        return None
    if question.kind is QuestionKind.CHECKBOX:
        if answer not in CHECKBOX_ANSWERS:
            errors["question"] = _("For a checkbox, choose ticked or not ticked.")
            return None
    elif question.is_choice:
        if answer not in question.option_values:
            errors["question"] = _("Choose one of the question's options.")
            return None
    else:
        errors["question"] = _("Only answers to choice questions and checkboxes can select people.")
        return None
    return QuestionFilter(question_id, answer)
