"""Data-subject requests: everything held about an address, and its export.

``find_person`` gathers every row that holds an address (matched without
regard to case): registrations, the newsletter subscription, partner
applications, user accounts, mail rows, suppression entries (plain or
hashed), delivery reports, audit entries that mention it, data-protection
requests, and organisations or events that name it as their contact.

``describe`` turns that into the export, a JSON-serialisable dict whose shape
stays stable (``format`` names its version; times are ISO 8601 in UTC)::

    {"format": "outreach-personal-data/1", "generated_at", "email",
     "registrations": [{"id", "event": {"id", "slug", "title", "starts_at", "ends_at",
                        "timezone", "status"}, "name", "email", "language", "guests",
                        "status", "answers": [{"question", "answer"}],
                        "consent": {"version", "language", "given_at"},
                        "registered_at", "updated_at", "promoted_at", "cancelled_at",
                        "checked_in_at"}],
     "newsletter": null | {"email", "name", "language", "interests", "status",
                   "consent": {"version", "language", "given_at", "ip"},
                   "subscribed_at", "confirmed_at", "unsubscribed_at"},
     "partner_applications": [{"id", "organisation_name", "website", "city",
                               "contact_name", "contact_email", "languages", "description",
                               "language", "status", "consent": {...}, "applied_at",
                               "decided_at", "decision_note"}],
     "accounts": [{"id", "email", "name", "role", "organisation", "active", "created_at",
                   "api_tokens": [{"name", "created_at", "last_used_at", "revoked_at"}]}],
     "messages": [{"id", "kind", "status", "language", "event", "created_at", "sent_at"}],
     "suppressions": [{"scope", "reason", "detail", "since", "hashed"}],
     "delivery_reports": [{"problem", "source", "detail", "received_at"}],
     "audit_log": [{"id", "at", "action", "subject", "fields", "in_comment"}],
     "privacy_requests": [{"kind", "status", "language", "requested_at", "confirmed_at",
                           "completed_at"}],
     "contact_for": {"organisations": [{"id", "name"}], "events": [{"id", "title"}]}}

Mail rows are listed without their payload (which holds the links' tokens).

``services/erasure.py`` removes the person and keeps the numbers. Every
look-up, export and erasure is audited with the address's salted hash
(``mail.suppression.hashed_address``), never the address itself.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Text, cast, func, or_, select, text
from sqlalchemy.orm import selectinload

from outreach.database import begin_write, is_postgresql
from outreach.extensions import db
from outreach.mail.suppression import hashed_address
from outreach.models import (
    ACTIVE_STATUSES,
    ApiToken,
    AuditEntry,
    DeliveryReport,
    Event,
    MessageKind,
    Organisation,
    OutboxMessage,
    PartnerApplication,
    PrivacyRequest,
    Registration,
    Subscriber,
    Suppression,
    User,
    utcnow,
)
from outreach.services import audit
from outreach.services.errors import InvalidInput
from outreach.services.registration_input import clean_email

EXPORT_FORMAT = "outreach-personal-data/1"
_LOCK_KEY = int.from_bytes(hashlib.sha256(b"privacy").digest()[:8], "big", signed=True)


def checked_address(raw: Any) -> str:
    """Return the address as stored everywhere; raise InvalidInput (key ``email``) if bad."""
    try:
        return clean_email(raw)
    except ValueError as problem:
        raise InvalidInput({"email": str(problem)}) from None


def normalised(email: str) -> str:
    """Return the address as every table stores it: trimmed and lower-cased."""
    return email.strip().lower()


def begin_privacy_write() -> None:
    """Begin a write transaction that no other erasure or request runs beside.

    SQLite's BEGIN IMMEDIATE lets one writer in anyway; PostgreSQL takes a
    transaction-level advisory lock, so two erasures of one address, or a
    request and its twin, never work from the same stale look-up.
    """
    begin_write()
    if is_postgresql():
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


# -- finding -----------------------------------------------------------------------------


@dataclass
class Person:
    """Every row that holds one address."""

    email: str
    registrations: list[Registration] = field(default_factory=list)
    subscriber: Subscriber | None = None
    applications: list[PartnerApplication] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    messages: list[OutboxMessage] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)
    delivery_reports: list[DeliveryReport] = field(default_factory=list)
    audit_entries: list[AuditEntry] = field(default_factory=list)
    privacy_requests: list[PrivacyRequest] = field(default_factory=list)
    organisations: list[Organisation] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Count the rows of each kind that hold the address."""
        return {
            "registrations": len(self.registrations),
            "newsletter": int(self.subscriber is not None),
            "partner_applications": len(self.applications),
            "accounts": len(self.users),
            "messages": len(self.messages),
            "suppressions": len(self.suppressions),
            "delivery_reports": len(self.delivery_reports),
            "audit_log": len(self.audit_entries),
            "privacy_requests": len(self.privacy_requests),
            "contact_for": len(self.organisations) + len(self.events),
        }

    @property
    def holds_data(self) -> bool:
        """Tell whether anything is held beyond the data-protection requests and their mail."""
        own_mail = all(message.kind is MessageKind.PRIVACY_REQUEST for message in self.messages)
        counts = self.counts()
        del counts["privacy_requests"], counts["messages"]
        return any(counts.values()) or not own_mail

    def to_cancel(self, now: datetime) -> list[Registration]:
        """Return the registrations an erasure cancels: active, for events not yet begun."""
        return [
            registration for registration in self.registrations if withdrawable(registration, now)
        ]


def withdrawable(registration: Registration, now: datetime) -> bool:
    return registration.status in ACTIVE_STATUSES and registration.is_changeable_at(now)


def same_address(column: Any, email: str) -> Any:
    return func.lower(column) == email


def address_pattern(email: str) -> re.Pattern[str]:
    """Match the address as a whole word, any case: "ada@x.org" is not in "mada@x.org"."""
    return re.compile(
        r"(?<![\w.!#$%&'*+/=?^`{|}~-])" + re.escape(email) + r"(?![\w-])(?!\.[\w-])",
        re.IGNORECASE,
    )


def _mentions(value: Any, pattern: re.Pattern[str]) -> bool:
    """Tell whether ``pattern`` matches a string (a key too) anywhere inside ``value``."""
    if isinstance(value, str):
        return pattern.search(value) is not None
    if isinstance(value, dict):
        return any(
            _mentions(key, pattern) or _mentions(item, pattern) for key, item in value.items()
        )
    if isinstance(value, list):
        return any(_mentions(item, pattern) for item in value)
    return False


def _audit_mentions(email: str) -> list[AuditEntry]:
    """Return the audit entries whose changes, comment or actor name the address.

    SQL narrows them down by the text of the JSON (as stored, non-ASCII may be
    escaped, so both spellings are searched); Python then checks each value.
    """
    changes = func.lower(cast(AuditEntry.changes, Text))
    needles = {email, json.dumps(email)[1:-1].lower()}
    candidates = db.session.scalars(
        select(AuditEntry)
        .where(
            or_(
                *(changes.contains(needle, autoescape=True) for needle in needles),
                func.lower(AuditEntry.comment).contains(email, autoescape=True),
                same_address(AuditEntry.actor_label, email),
            )
        )
        .order_by(AuditEntry.id)
    )
    pattern = address_pattern(email)
    return [
        entry
        for entry in candidates
        if _mentions(entry.changes, pattern)
        or _mentions(entry.comment, pattern)
        or (entry.actor_label or "").lower() == email
    ]


def _rows(model: Any, condition: Any, *options: Any) -> list:
    """Return the rows of ``model`` that match ``condition``, oldest first."""
    query = select(model).where(condition).options(*options).order_by(model.id)
    return list(db.session.scalars(query))


def find_person(email: str) -> Person:
    """Return every row that holds ``email`` (any case), for a look-up, an export or an erasure."""
    email = normalised(email)
    with_event = selectinload(Registration.event)
    return Person(
        email=email,
        registrations=_rows(
            Registration,
            same_address(Registration.email, email),
            with_event.selectinload(Event.translations),
            with_event.selectinload(Event.questions),
        ),
        subscriber=db.session.scalar(
            select(Subscriber).where(same_address(Subscriber.email, email))
        ),
        applications=_rows(
            PartnerApplication, same_address(PartnerApplication.contact_email, email)
        ),
        users=_rows(User, same_address(User.email, email), selectinload(User.organisation)),
        messages=_rows(
            OutboxMessage,
            same_address(OutboxMessage.recipient, email),
            selectinload(OutboxMessage.event).selectinload(Event.translations),
        ),
        suppressions=_rows(
            Suppression,
            or_(same_address(Suppression.email, email), Suppression.email == hashed_address(email)),
        ),
        delivery_reports=_rows(DeliveryReport, same_address(DeliveryReport.email, email)),
        audit_entries=_audit_mentions(email),
        privacy_requests=_rows(PrivacyRequest, same_address(PrivacyRequest.email, email)),
        organisations=_rows(Organisation, same_address(Organisation.contact_email, email)),
        events=_rows(
            Event, same_address(Event.contact_email, email), selectinload(Event.translations)
        ),
    )


# -- the export --------------------------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _answers(registration: Registration) -> list[dict[str, Any]]:
    """List the answers with their questions' labels, in the person's language."""
    answers = dict(registration.answers or {})
    shown = []
    for question in registration.event.questions:
        if str(question.id) not in answers:
            continue
        value = answers.pop(str(question.id))
        if question.is_choice:
            labels = dict(question.choices_in(registration.language))
            chosen = value if isinstance(value, list) else [value]
            value = [labels.get(item, item) for item in chosen if isinstance(item, str)]
        shown.append({"question": question.label_in(registration.language), "answer": value})
    # Answers to questions removed since are held all the same.
    shown += [{"question": None, "answer": value} for value in answers.values()]
    return shown


def _registration(registration: Registration) -> dict[str, Any]:
    event = registration.event
    return {
        "id": registration.id,
        "event": {
            "id": event.id,
            "slug": event.slug,
            "title": event.title_in(registration.language),
            "starts_at": _time(event.starts_at),
            "ends_at": _time(event.ends_at),
            "timezone": event.timezone,
            "status": event.status.value,
        },
        "name": registration.name,
        "email": registration.email,
        "language": registration.language,
        "guests": registration.guests,
        "status": registration.status.value,
        "answers": _answers(registration),
        "consent": {
            "version": registration.consent_version,
            "language": registration.consent_language,
            "given_at": _time(registration.consented_at),
        },
        "registered_at": _time(registration.created_at),
        "updated_at": _time(registration.updated_at),
        "promoted_at": _time(registration.promoted_at),
        "cancelled_at": _time(registration.cancelled_at),
        "checked_in_at": _time(registration.checked_in_at),
    }


def _subscriber(subscriber: Subscriber | None) -> dict[str, Any] | None:
    if subscriber is None:
        return None
    return {
        "email": subscriber.email,
        "name": subscriber.name,
        "language": subscriber.language,
        "interests": list(subscriber.interests or []),
        "status": subscriber.status.value,
        "consent": {
            "version": subscriber.consent_version,
            "language": subscriber.consent_language,
            "given_at": _time(subscriber.consented_at),
            "ip": subscriber.consent_ip,
        },
        "subscribed_at": _time(subscriber.created_at),
        "confirmed_at": _time(subscriber.confirmed_at),
        "unsubscribed_at": _time(subscriber.unsubscribed_at),
    }


def _application(application: PartnerApplication) -> dict[str, Any]:
    return {
        "id": application.id,
        "organisation_name": application.organisation_name,
        "website": application.website,
        "city": application.city,
        "contact_name": application.contact_name,
        "contact_email": application.contact_email,
        "languages": list(application.languages or []),
        "description": application.description,
        "language": application.language,
        "status": application.status.value,
        "consent": {
            "version": application.consent_version,
            "language": application.consent_language,
            "given_at": _time(application.consented_at),
        },
        "applied_at": _time(application.created_at),
        "decided_at": _time(application.decided_at),
        "decision_note": application.decision_note,
    }


def _account(user: User) -> dict[str, Any]:
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
    )
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role.value,
        "organisation": user.organisation.name if user.organisation else None,
        "active": user.is_active,
        "created_at": _time(user.created_at),
        "api_tokens": [
            {
                "name": token.name,
                "created_at": _time(token.created_at),
                "last_used_at": _time(token.last_used_at),
                "revoked_at": _time(token.revoked_at),
            }
            for token in tokens
        ],
    }


def _message(message: OutboxMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "kind": message.kind.value,
        "status": message.status.value,
        "language": message.language,
        "event": message.event.title_in(message.language) if message.event else None,
        "created_at": _time(message.created_at),
        "sent_at": _time(message.sent_at),
    }


def _audit_entry(entry: AuditEntry, email: str) -> dict[str, Any]:
    pattern = address_pattern(email)
    return {
        "id": entry.id,
        "at": _time(entry.at),
        "action": entry.action,
        "subject": f"{entry.subject_type}:{entry.subject_id}",
        "fields": sorted(
            name for name, value in (entry.changes or {}).items() if _mentions(value, pattern)
        ),
        "in_comment": _mentions(entry.comment, pattern),
    }


def _default_locale() -> str:
    return str(current_app.config.get("BABEL_DEFAULT_LOCALE", "de"))


def describe(person: Person, *, now: datetime | None = None) -> dict[str, Any]:
    """Return the export of ``person``: plain JSON values in the documented shape."""
    now = now or utcnow()
    return {
        "format": EXPORT_FORMAT,
        "generated_at": _time(now),
        "email": person.email,
        "registrations": [_registration(registration) for registration in person.registrations],
        "newsletter": _subscriber(person.subscriber),
        "partner_applications": [_application(application) for application in person.applications],
        "accounts": [_account(user) for user in person.users],
        "messages": [_message(message) for message in person.messages],
        "suppressions": [
            {
                "scope": entry.scope.value,
                "reason": entry.reason.value,
                "detail": entry.detail,
                "since": _time(entry.created_at),
                "hashed": entry.email != person.email,
            }
            for entry in person.suppressions
        ],
        "delivery_reports": [
            {
                "problem": report.problem.value,
                "source": report.source,
                "detail": report.detail,
                "received_at": _time(report.received_at),
            }
            for report in person.delivery_reports
        ],
        "audit_log": [_audit_entry(entry, person.email) for entry in person.audit_entries],
        "privacy_requests": [
            {
                "kind": request.kind.value,
                "status": request.status.value,
                "language": request.language,
                "requested_at": _time(request.requested_at),
                "confirmed_at": _time(request.confirmed_at),
                "completed_at": _time(request.completed_at),
            }
            for request in person.privacy_requests
        ],
        "contact_for": {
            "organisations": [{"id": org.id, "name": org.name} for org in person.organisations],
            "events": [
                {"id": event.id, "title": event.title_in(_default_locale())}
                for event in person.events
            ],
        },
    }


# -- audited look-ups and exports --------------------------------------------------------


@dataclass(frozen=True)
class _NoRequest:
    """The audit subject of something staff did without a request: the person, id 0."""

    __tablename__ = "person"
    id: int = 0


def _subject(request: PrivacyRequest | None) -> Any:
    return request if request is not None else _NoRequest()


def audited(
    action: str,
    email: str,
    *,
    by: User | None,
    request: PrivacyRequest | None,
    comment: str | None = None,
    counts: dict[str, int] | None = None,
) -> AuditEntry:
    changes: dict[str, Any] = {"email_hash": hashed_address(email)}
    if counts is not None:
        changes["counts"] = counts
    return audit.record(action, _subject(request), actor=by, changes=changes, comment=comment)


def audited_export(
    email: str, *, by: User | None, request: PrivacyRequest | None, fmt: str
) -> AuditEntry:
    """Record that the export of ``email`` was given, in ``fmt``; does not commit."""
    return audited("person.exported", normalised(email), by=by, request=request, comment=fmt)


def look_up(email: str, *, by: User) -> Person:
    """Find everything held about ``email`` for a staff member, and audit that; commits."""
    email = normalised(email)
    try:
        person = find_person(email)
        audited("person.looked_up", email, by=by, request=None, counts=person.counts())
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return find_person(email)


def export(
    email: str,
    *,
    by: User | None,
    request: PrivacyRequest | None = None,
    fmt: str = "json",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Return the export of ``email`` (see the module's docstring) and audit it; commits.

    ``by`` is the staff member exporting, None for the person themself (then
    ``request`` is their confirmed request). ``fmt`` says which form it is
    given in ("json" or "html"), for the audit log.
    """
    email = normalised(email)
    now = now or utcnow()
    try:
        data = describe(find_person(email), now=now)
        audited_export(email, by=by, request=request, fmt=fmt)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return data
