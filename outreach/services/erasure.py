"""Erasure: remove a person from everything we hold and keep the numbers.

What is found comes from ``services/privacy.find_person``; ``erase`` says what
happens to each kind of row. The address survives only as its salted hash
(``mail.suppression.hashed_address``), on the suppression list (so an
unsubscribe is still honoured) and in the ``person.erased`` audit entry.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, tuple_, update

from outreach.extensions import db
from outreach.mail.suppression import hashed_address, hide_address
from outreach.models import (
    ApiToken,
    AuditEntry,
    Event,
    OutboxMessage,
    PrivacyRequest,
    PrivacyRequestStatus,
    Registration,
    Role,
    User,
    utcnow,
)
from outreach.services.anonymisation import anonymise_registrations, purge_outbox_rows
from outreach.services.errors import DomainError
from outreach.services.privacy import (
    Person,
    address_pattern,
    audited,
    begin_privacy_write,
    find_person,
    normalised,
    same_address,
    withdrawable,
)
from outreach.services.registrations import withdraw_quietly

# What stands in an audit entry or a suppression detail where the address or name was.
ERASED = "[erased]"
# An erased account keeps its row (events and audit entries point to it), not its person.
ERASED_USER_EMAIL = "erased-user-{id}@anonymised.invalid"


class CannotEraseSelf(DomainError):
    default_message = _l(
        "This is the address of your own account. Another staff member has to erase it."
    )


class CannotEraseLastStaff(DomainError):
    default_message = _l(
        "This address belongs to the last active staff account. Make another staff "
        "account first, or nobody could run this service any more."
    )


@dataclass
class ErasureSummary:
    """What an erasure did, counted; ``entry_id`` is its ``person.erased`` audit entry."""

    registrations_cancelled: int = 0
    waitlist_promoted: int = 0
    registrations_anonymised: int = 0
    subscriptions_deleted: int = 0
    applications_anonymised: int = 0
    accounts_deactivated: int = 0
    messages_purged: int = 0
    delivery_reports_deleted: int = 0
    suppressions_hashed: int = 0
    audit_entries_scrubbed: int = 0
    privacy_requests_cleared: int = 0
    contacts_removed: int = 0
    entry_id: int | None = None

    def counts(self) -> dict[str, int]:
        counts = asdict(self)
        del counts["entry_id"]
        return counts


def _refuse_unerasable(users: list[User], by: User | None) -> None:
    """Raise unless the accounts with the address may go."""
    if by is not None and any(user.id == by.id for user in users):
        raise CannotEraseSelf()
    staff = [user.id for user in users if user.role is Role.STAFF and user.is_active]
    if not staff:
        return
    others = db.session.scalar(
        select(func.count(User.id)).where(
            User.role == Role.STAFF, User.is_active.is_(True), User.id.not_in(staff)
        )
    )
    if not others:
        raise CannotEraseLastStaff()


def _withdraw(registrations: list[Registration], now: datetime, summary: ErasureSummary) -> None:
    """Cancel the registrations for events not yet begun, quietly; promote the waitlists."""
    by_event: dict[int, list[Registration]] = {}
    for registration in registrations:
        if withdrawable(registration, now):
            by_event.setdefault(registration.event_id, []).append(registration)
    # One event lock after the other, always in the same order: no deadlock with a twin.
    for event_id in sorted(by_event):
        db.session.execute(
            select(Event)
            .where(Event.id == event_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one()
        for registration in by_event[event_id]:
            db.session.refresh(registration)
            if not withdrawable(registration, now):
                continue
            promoted = withdraw_quietly(registration, now=now)
            summary.registrations_cancelled += 1
            summary.waitlist_promoted += len(promoted)


def _close_accounts(users: list[User], now: datetime) -> int:
    for user in users:
        user.is_active = False
        user.email = ERASED_USER_EMAIL.format(id=user.id)
        user.name = ""
        user.set_password(secrets.token_urlsafe(32))
        db.session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
    return len(users)


def _scrubbed(value: Any, patterns: list[re.Pattern[str]]) -> Any:
    """Return ``value`` with every match of ``patterns`` in its strings (keys too) replaced."""
    if isinstance(value, str):
        for pattern in patterns:
            value = pattern.sub(ERASED, value)
        return value
    if isinstance(value, dict):
        return {_scrubbed(key, patterns): _scrubbed(item, patterns) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrubbed(item, patterns) for item in value]
    return value


def _name_pattern(name: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(name) + r"(?!\w)", re.IGNORECASE)


def _scrub_audit_log(person: Person, names: Iterable[str], subjects: set[tuple[str, int]]) -> int:
    """Take the address out of every entry, and the person's names out of entries about them."""
    address = [address_pattern(person.email)]
    with_names = address + [_name_pattern(name) for name in names]
    entries = {entry.id: entry for entry in person.audit_entries}
    if subjects:
        about = db.session.scalars(
            select(AuditEntry).where(
                tuple_(AuditEntry.subject_type, AuditEntry.subject_id).in_(sorted(subjects))
            )
        )
        entries.update({entry.id: entry for entry in about})
    scrubbed = 0
    for entry in entries.values():
        patterns = with_names if (entry.subject_type, entry.subject_id) in subjects else address
        changes = _scrubbed(entry.changes or {}, patterns)
        comment = _scrubbed(entry.comment, patterns)
        label = ERASED if (entry.actor_label or "").lower() == person.email else entry.actor_label
        if (changes, comment, label) != (entry.changes or {}, entry.comment, entry.actor_label):
            entry.changes, entry.comment, entry.actor_label = changes, comment, label
            scrubbed += 1
    return scrubbed


def _subjects(person: Person) -> tuple[list[str], set[tuple[str, int]]]:
    """Return the person's names (longest first) and the audit subjects that are theirs."""
    names = [registration.name for registration in person.registrations]
    names += [application.contact_name for application in person.applications]
    names += [user.name for user in person.users]
    subjects = {("registrations", registration.id) for registration in person.registrations}
    subjects |= {("partner_applications", application.id) for application in person.applications}
    subjects |= {("users", user.id) for user in person.users}
    if person.subscriber is not None:
        names.append(person.subscriber.name)
        subjects.add(("subscribers", person.subscriber.id))
    # A name shorter than two letters would match inside words.
    kept = {name.strip() for name in names if len((name or "").strip()) >= 2}
    return sorted(kept, key=len, reverse=True), subjects


def erase(
    email: str,
    *,
    by: User | None,
    request: PrivacyRequest | None = None,
    now: datetime | None = None,
) -> ErasureSummary:
    """Remove the person with ``email`` and keep the numbers; commits. Returns what was done.

    Their registrations for events not yet begun are cancelled without a mail
    to them (the waitlist moves up, and whoever gets the seat is told); every
    registration of theirs is anonymised; their newsletter subscription and
    delivery reports are deleted; partner applications lose their contact;
    mail still queued for them is dropped and every mail row to them loses its
    address; suppression entries keep only the salted hash; accounts with the
    address are deactivated and lose address, name and password; audit
    entries lose the address (and the person's name where the entry is about
    them); their data-protection requests keep only the hash. One audit entry
    ``person.erased`` records the counts and the hash.

    Raises CannotEraseSelf when ``by`` has the address, CannotEraseLastStaff
    when it belongs to the last active staff account; then nothing changes.
    """
    try:
        begin_privacy_write()
        summary = erase_locked(email, by=by, request=request, now=now or utcnow())
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return summary


def erase_locked(
    email: str, *, by: User | None, request: PrivacyRequest | None, now: datetime
) -> ErasureSummary:
    """Do what ``erase`` says inside the caller's transaction (begun with begin_privacy_write)."""
    email = normalised(email)
    summary = ErasureSummary()
    person = find_person(email)
    _refuse_unerasable(person.users, by)
    names, subjects = _subjects(person)

    _withdraw(person.registrations, now, summary)
    summary.messages_purged = purge_outbox_rows(
        same_address(OutboxMessage.recipient, email), now=now, skip_queued=True
    )
    summary.registrations_anonymised = anonymise_registrations(
        [registration.id for registration in person.registrations], now=now
    )
    if person.subscriber is not None:
        db.session.delete(person.subscriber)
        summary.subscriptions_deleted = 1
    mentions = [address_pattern(email), *(_name_pattern(name) for name in names)]
    for application in person.applications:
        application.contact_name = ""
        application.contact_email = ""
        # The organisation's own words stay, without the person in them.
        application.description = _scrubbed(application.description, mentions)
        application.decision_note = _scrubbed(application.decision_note, mentions)
    summary.applications_anonymised = len(person.applications)
    summary.accounts_deactivated = _close_accounts(person.users, now)
    for report in person.delivery_reports:
        db.session.delete(report)
    summary.delivery_reports_deleted = len(person.delivery_reports)
    summary.suppressions_hashed = hide_address(email)
    for org in person.organisations:
        org.contact_email = None
    for event in person.events:
        event.contact_email = None
    summary.contacts_removed = len(person.organisations) + len(person.events)
    summary.audit_entries_scrubbed = _scrub_audit_log(person, names, subjects)

    hashed = hashed_address(email)
    for own in person.privacy_requests:
        own.email, own.email_hash = None, hashed
    summary.privacy_requests_cleared = len(person.privacy_requests)
    if request is not None:
        request.status = PrivacyRequestStatus.COMPLETED
        request.completed_at = now
        request.email, request.email_hash = None, hashed

    entry = audited("person.erased", email, by=by, request=request, counts=summary.counts())
    db.session.flush()
    summary.entry_id = entry.id
    return summary


def erasure_entry(entry_id: int) -> AuditEntry | None:
    """Return the ``person.erased`` audit entry with this id, or None."""
    entry = db.session.get(AuditEntry, entry_id)
    return entry if entry is not None and entry.action == "person.erased" else None
