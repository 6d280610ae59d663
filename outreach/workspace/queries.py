"""Read-only lookups for the workspace pages and forms; every write goes through a service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import selectinload, undefer

from outreach.extensions import db
from outreach.models import (
    Event,
    EventStatus,
    Organisation,
    Registration,
    Topic,
    event_hosts,
    utcnow,
)

PAST_EVENTS_SHOWN = 30


@dataclass
class OrganisationEvents:
    """An organisation's events as its workspace groups them."""

    changes_requested: list[Event] = field(default_factory=list)
    drafts: list[Event] = field(default_factory=list)
    submitted: list[Event] = field(default_factory=list)
    upcoming: list[Event] = field(default_factory=list)
    past: list[Event] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not any(
            (self.changes_requested, self.drafts, self.submitted, self.upcoming, self.past)
        )


def _with_page_data(query: Select) -> Select:
    return query.options(
        selectinload(Event.translations),
        selectinload(Event.hosts),
        selectinload(Event.topics),
        selectinload(Event.language_rows),
        undefer(Event.seats_taken),
    )


def _hosted_by(org: Organisation) -> Select:
    return (
        select(Event)
        .join(event_hosts, event_hosts.c.event_id == Event.id)
        .where(event_hosts.c.organisation_id == org.id)
    )


def organisation_events(
    org: Organisation, *, now: datetime | None = None, past_limit: int = PAST_EVENTS_SHOWN
) -> OrganisationEvents:
    """Return the events ``org`` hosts: drafts, submitted, upcoming and the latest past ones."""
    now = now or utcnow()
    published = Event.status == EventStatus.PUBLISHED
    current = _hosted_by(org).where(
        or_(
            Event.status.in_((EventStatus.DRAFT, EventStatus.SUBMITTED)),
            and_(published, Event.ends_at > now),
        )
    )
    past = (
        _hosted_by(org)
        .where(or_(Event.status == EventStatus.CANCELLED, and_(published, Event.ends_at <= now)))
        .order_by(Event.starts_at.desc(), Event.id.desc())
        .limit(past_limit)
    )
    grouped = OrganisationEvents(past=list(db.session.scalars(_with_page_data(past))))
    for event in db.session.scalars(_with_page_data(current.order_by(Event.starts_at, Event.id))):
        if event.status is EventStatus.PUBLISHED:
            grouped.upcoming.append(event)
        elif event.status is EventStatus.SUBMITTED:
            grouped.submitted.append(event)
        elif event.changes_requested:
            grouped.changes_requested.append(event)
        else:
            grouped.drafts.append(event)
    return grouped


def workspace_event(event_id: int) -> Event | None:
    """Return the event with this id in any state, with what its workspace page shows."""
    query = _with_page_data(select(Event)).options(selectinload(Event.questions))
    return db.session.scalar(query.where(Event.id == event_id))


def organisation_choices() -> list[Organisation]:
    """Return every organisation, by name, to choose hosts from."""
    return list(db.session.scalars(select(Organisation).order_by(Organisation.name)))


def topic_choices() -> list[Topic]:
    """Return every topic, to tag events with."""
    return list(db.session.scalars(select(Topic).order_by(Topic.slug)))


def has_registrations(event: Event) -> bool:
    """Return whether anyone has registered for ``event`` (cancelled registrations count)."""
    return bool(db.session.scalar(select(exists().where(Registration.event_id == event.id))))
