"""Finding events and organisations for the public pages, the API and feeds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import selectinload, undefer

from outreach.extensions import db
from outreach.models import (
    Event,
    EventLanguage,
    EventStatus,
    Organisation,
    Topic,
    event_hosts,
    utcnow,
)

PUBLIC_STATUSES = (EventStatus.PUBLISHED, EventStatus.CANCELLED)
FORMATS = ("online", "in_person")


@dataclass(frozen=True)
class EventFilters:
    topic: str | None = None
    language: str | None = None
    format: str | None = None
    host: str | None = None

    @property
    def active(self) -> bool:
        return any((self.topic, self.language, self.format, self.host))


def _with_listing_data(query: Select) -> Select:
    return query.options(
        selectinload(Event.translations),
        selectinload(Event.hosts),
        selectinload(Event.topics),
        selectinload(Event.language_rows),
        undefer(Event.seats_taken),
    )


def _filtered(query: Select, filters: EventFilters) -> Select:
    if filters.topic:
        query = query.where(Event.topics.any(Topic.slug == filters.topic))
    if filters.language:
        query = query.where(Event.language_rows.any(EventLanguage.code == filters.language))
    if filters.format == "online":
        query = query.where(Event.online_url.is_not(None), Event.online_url != "")
    elif filters.format == "in_person":
        # As Event.is_in_person: a venue name or an address makes it in person.
        query = query.where(
            or_(
                and_(Event.venue_name.is_not(None), Event.venue_name != ""),
                and_(Event.venue_address.is_not(None), Event.venue_address != ""),
            )
        )
    if filters.host:
        query = query.where(Event.hosts.any(Organisation.slug == filters.host))
    return query


def _published_page(
    filters: EventFilters, *, upcoming: bool, page: int, per_page: int, now: datetime | None
) -> Pagination:
    now = now or utcnow()
    query = select(Event).where(Event.status == EventStatus.PUBLISHED)
    if upcoming:
        query = query.where(Event.ends_at > now).order_by(Event.starts_at, Event.id)
    else:
        query = query.where(Event.ends_at <= now).order_by(Event.starts_at.desc(), Event.id.desc())
    query = _with_listing_data(_filtered(query, filters))
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


def upcoming_events(
    filters: EventFilters = EventFilters(),
    *,
    page: int = 1,
    per_page: int = 12,
    now: datetime | None = None,
) -> Pagination:
    """Published events that have not ended, soonest first."""
    return _published_page(filters, upcoming=True, page=page, per_page=per_page, now=now)


def past_events(
    filters: EventFilters = EventFilters(),
    *,
    page: int = 1,
    per_page: int = 12,
    now: datetime | None = None,
) -> Pagination:
    """Published events that have ended, latest first."""
    return _published_page(filters, upcoming=False, page=page, per_page=per_page, now=now)


def public_event(slug: str) -> Event | None:
    """A published or cancelled event by slug; drafts are never public."""
    return db.session.scalar(
        _with_listing_data(select(Event))
        .options(selectinload(Event.questions))
        .where(Event.slug == slug, Event.status.in_(PUBLIC_STATUSES))
    )


def event_for_registration(slug: str) -> Event | None:
    """A public event with just what registering needs (its questions), by slug."""
    return db.session.scalar(
        select(Event)
        .options(selectinload(Event.questions))
        .where(Event.slug == slug, Event.status.in_(PUBLIC_STATUSES))
    )


def organisation(slug: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(Organisation.slug == slug))


def upcoming_events_of(
    org: Organisation, *, now: datetime | None = None, limit: int = 50
) -> list[Event]:
    now = now or utcnow()
    query = (
        select(Event)
        .join(event_hosts, event_hosts.c.event_id == Event.id)
        .where(
            event_hosts.c.organisation_id == org.id,
            Event.status == EventStatus.PUBLISHED,
            Event.ends_at > now,
        )
        .order_by(Event.starts_at)
        .limit(limit)
    )
    return list(db.session.scalars(_with_listing_data(query)))


def filter_choices() -> dict[str, list]:
    """What the filter controls offer: topics, hosts and event languages in use."""
    return {
        "topics": list(db.session.scalars(select(Topic).order_by(Topic.slug))),
        "hosts": list(db.session.scalars(select(Organisation).order_by(Organisation.name))),
        "languages": list(
            db.session.scalars(select(EventLanguage.code).distinct().order_by(EventLanguage.code))
        ),
    }
