"""What staff look at: the dashboard, the list of all events, one event with its history.

Read-only queries; the pages that change something call the services that
own those changes (review, scheduling, event editing, mail queue).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload, undefer

from outreach.extensions import db
from outreach.models import (
    ACTIVE_STATUSES,
    AuditEntry,
    Event,
    EventStatus,
    EventTranslation,
    Organisation,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    Topic,
    utcnow,
)
from outreach.services import audit, mail_queue

# The applications' own count, under the name the overview uses.
from outreach.services.applications import pending_count as pending_applications

MAX_SEARCH_LENGTH = 100
# Characters that LIKE treats specially, escaped so a search finds them literally.
_LIKE_SPECIAL = re.compile(r"([\\%_])")


# -- the dashboard ----------------------------------------------------------------------


@dataclass(frozen=True)
class EventFill:
    """An upcoming event and how full it is."""

    event: Event
    seats_taken: int
    waitlisted: int

    @property
    def capacity(self) -> int | None:
        return self.event.capacity

    @property
    def percent(self) -> int | None:
        """Return the seats taken as a share of the capacity (0–100), None without a limit."""
        if not self.capacity:
            return None
        return min(round(100 * self.seats_taken / self.capacity), 100)


@dataclass(frozen=True)
class MailHealth:
    """The mail queue at a glance: counts, the oldest waiting message, the failures."""

    counts: Mapping[str, Any]
    failed: list[OutboxMessage]

    @property
    def failed_count(self) -> int:
        return self.counts["by_status"]["failed"]

    @property
    def oldest_queued_age_seconds(self) -> int | None:
        return self.counts["oldest_queued_age_seconds"]

    def as_json(self) -> dict[str, Any]:
        """Return the shape monitoring reads from /staff/mail.json."""
        return {
            "total": self.counts["total"],
            "counts": dict(self.counts["by_status"]),
            "by_kind": {
                kind: dict(numbers)
                for kind, numbers in self.counts["by_kind"].items()
                if numbers["total"]
            },
            "due_now": self.counts["due_now"],
            "expired_leases": self.counts["expired_leases"],
            "oldest_queued_age_seconds": self.oldest_queued_age_seconds,
            "failed_count": self.failed_count,
            "failed": [
                {
                    "id": message.id,
                    "kind": message.kind.value,
                    "recipient": message.recipient,
                    "attempts": message.attempts,
                    "last_error": message.last_error,
                    "event_id": message.event_id,
                    "created_at": message.created_at.isoformat(),
                }
                for message in self.failed
            ],
        }


@dataclass(frozen=True)
class Dashboard:
    upcoming: list[EventFill]
    awaiting_review: list[Event]
    mail: MailHealth
    pending_applications: int


def _waitlist_length():
    """Build SQL for the number of people waiting for a seat at the outer event."""
    return (
        select(func.count(Registration.id))
        .where(
            Registration.event_id == Event.id,
            Registration.status == RegistrationStatus.WAITLISTED,
        )
        .correlate_except(Registration)
        .scalar_subquery()
    )


def upcoming_with_fill(*, now: datetime | None = None, limit: int = 10) -> list[EventFill]:
    """List published events that have not ended, soonest first, with seats and waitlist."""
    now = now or utcnow()
    rows = db.session.execute(
        select(Event, _waitlist_length())
        .options(
            undefer(Event.seats_taken),
            selectinload(Event.translations),
            selectinload(Event.hosts),
        )
        .where(Event.status == EventStatus.PUBLISHED, Event.ends_at > now)
        .order_by(Event.starts_at, Event.id)
        .limit(limit)
    )
    return [EventFill(event, event.seats_taken, waiting) for event, waiting in rows]


def awaiting_review(*, limit: int = 50) -> list[Event]:
    """List the events submitted for review, the longest waiting first."""
    return list(
        db.session.scalars(
            select(Event)
            .options(selectinload(Event.translations), selectinload(Event.hosts))
            .where(Event.status == EventStatus.SUBMITTED)
            .order_by(Event.submitted_at, Event.id)
            .limit(limit)
        )
    )


def mail_health(*, now: datetime | None = None, failed_limit: int = 100) -> MailHealth:
    """Count the mail queue and list its failed messages, newest first."""
    return MailHealth(
        counts=mail_queue.queue_counts(now=now),
        failed=mail_queue.failed_messages(limit=failed_limit),
    )


def overview(*, now: datetime | None = None) -> Dashboard:
    """Gather what the staff dashboard shows."""
    now = now or utcnow()
    return Dashboard(
        upcoming=upcoming_with_fill(now=now),
        awaiting_review=awaiting_review(),
        mail=mail_health(now=now, failed_limit=5),
        pending_applications=pending_applications(),
    )


# -- all events ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EventSearch:
    """The staff event list's filter: a status and words from the title (or the slug)."""

    status: EventStatus | None = None
    text: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> EventSearch:
        """Read the filter from query arguments; an unknown status means all of them."""
        try:
            status = EventStatus(args.get("status") or "")
        except ValueError:
            status = None
        text = " ".join((args.get("q") or "").split())[:MAX_SEARCH_LENGTH]
        return cls(status=status, text=text)

    @property
    def active(self) -> bool:
        return bool(self.status or self.text)


def find_events(search: EventSearch, *, page: int = 1, per_page: int = 25) -> Pagination:
    """Find events in every state matching ``search``, the newest first."""
    query = select(Event).options(
        selectinload(Event.translations),
        selectinload(Event.hosts),
        undefer(Event.seats_taken),
    )
    if search.status:
        query = query.where(Event.status == search.status)
    if search.text:
        pattern = "%" + _LIKE_SPECIAL.sub(r"\\\1", search.text.lower()) + "%"
        query = query.where(
            or_(
                Event.translations.any(
                    func.lower(EventTranslation.title).like(pattern, escape="\\")
                ),
                Event.slug.like(pattern, escape="\\"),
            )
        )
    query = query.order_by(Event.created_at.desc(), Event.id.desc())
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


# -- one event ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventDetails:
    """One event as staff see it: its registrations in numbers and its history."""

    event: Event
    registrations: dict[str, int]
    checked_in: int
    history: list[AuditEntry] = field(default_factory=list)
    # What the slugs in the history's "hosts" and "topics" stand for.
    host_names: dict[str, str] = field(default_factory=dict)
    topics: dict[str, Topic] = field(default_factory=dict)

    @property
    def active_registrations(self) -> int:
        return sum(self.registrations[status.value] for status in ACTIVE_STATUSES)

    @property
    def told_if_cancelled(self) -> int:
        """Count whom a cancellation would write to (registrants of a published event)."""
        return self.active_registrations if self.event.status is EventStatus.PUBLISHED else 0


def event_details(event_id: int) -> EventDetails | None:
    """Return ``event_id`` with its registrations counted and its audit log, or None."""
    event = db.session.scalar(
        select(Event)
        .options(
            undefer(Event.seats_taken),
            selectinload(Event.translations),
            selectinload(Event.hosts),
            selectinload(Event.topics),
            selectinload(Event.language_rows),
        )
        .where(Event.id == event_id)
    )
    if event is None:
        return None
    counts = {status.value: 0 for status in RegistrationStatus}
    rows = db.session.execute(
        select(Registration.status, func.count())
        .where(Registration.event_id == event.id)
        .group_by(Registration.status)
    )
    for status, number in rows:
        counts[status.value] = number
    checked_in = db.session.scalar(
        select(func.count(Registration.id)).where(
            Registration.event_id == event.id, Registration.checked_in_at.is_not(None)
        )
    )
    history = audit.entries_for(event)
    host_slugs, topic_slugs = _slugs_in(history, "hosts"), _slugs_in(history, "topics")
    return EventDetails(
        event=event,
        registrations=counts,
        checked_in=checked_in,
        history=history,
        host_names=dict(
            db.session.execute(
                select(Organisation.slug, Organisation.name).where(
                    Organisation.slug.in_(host_slugs)
                )
            ).all()
        ),
        topics={
            topic.slug: topic
            for topic in db.session.scalars(select(Topic).where(Topic.slug.in_(topic_slugs)))
        },
    )


def _slugs_in(history: list[AuditEntry], name: str) -> set[str]:
    """Collect every slug a list-valued field ``name`` held before or after in ``history``."""
    slugs: set[str] = set()
    for entry in history:
        for value in (entry.changes or {}).get(name) or ():
            if isinstance(value, list):
                slugs.update(item for item in value if isinstance(item, str))
    return slugs
