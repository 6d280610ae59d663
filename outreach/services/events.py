"""Finding events and organisations for the public pages, the API and feeds."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, and_, func, or_, select
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
# Filter values are slugs or language codes.
FILTER_VALUE = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


@dataclass(frozen=True)
class EventFilters:
    topic: str | None = None
    language: str | None = None
    format: str | None = None
    host: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> EventFilters:
        """Read filters from query arguments; values that cannot be a slug are ignored."""

        def value(name: str) -> str | None:
            text = (args.get(name) or "").strip()
            return text if FILTER_VALUE.match(text) else None

        event_format = value("format")
        return cls(
            topic=value("topic"),
            language=value("language"),
            format=event_format if event_format in FORMATS else None,
            host=value("host"),
        )

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


def _calendar_selection(filters: EventFilters, now: datetime, keep_days: int) -> Select:
    """Events a calendar feed shows: upcoming and recent ones, and recent cancellations.

    A cancelled event stays for ``keep_days`` as CANCELLED, so that subscribed
    calendars remove it instead of silently keeping a stale copy.
    """
    kept_since = now - timedelta(days=keep_days)
    query = select(Event).where(
        Event.ends_at > kept_since,
        or_(
            Event.status == EventStatus.PUBLISHED,
            and_(Event.status == EventStatus.CANCELLED, Event.cancelled_at > kept_since),
        ),
    )
    return _filtered(query, filters)


def calendar_events(
    filters: EventFilters = EventFilters(), *, now: datetime | None = None, keep_days: int = 30
) -> list[Event]:
    """The events of a feed, soonest first, with what a VEVENT needs loaded in bulk."""
    query = _calendar_selection(filters, now or utcnow(), keep_days).options(
        selectinload(Event.translations),
        selectinload(Event.hosts),
        selectinload(Event.topics),
    )
    return list(db.session.scalars(query.order_by(Event.starts_at, Event.id)))


@dataclass(frozen=True)
class FeedFingerprint:
    """A summary that changes whenever the events of a feed, or any of them, change."""

    count: int
    id_sum: int
    sequence_sum: int
    last_modified: datetime | None


def calendar_fingerprint(
    filters: EventFilters = EventFilters(), *, now: datetime | None = None, keep_days: int = 30
) -> FeedFingerprint:
    """One aggregate query over the same events as calendar_events()."""
    selection = _calendar_selection(filters, now or utcnow(), keep_days).subquery()
    row = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(selection.c.id), 0),
            func.coalesce(func.sum(selection.c.sequence), 0),
            func.max(selection.c.updated_at),
        )
    ).one()
    last_modified = row[3]
    if last_modified is not None and last_modified.tzinfo is None:  # SQLite: naive UTC
        last_modified = last_modified.replace(tzinfo=UTC)
    return FeedFingerprint(row[0], row[1], row[2], last_modified)


def any_event(slug: str) -> Event | None:
    """An event in any state, drafts included (for operators, never public pages)."""
    return db.session.scalar(select(Event).where(Event.slug == slug))


def topic(slug: str) -> Topic | None:
    return db.session.scalar(select(Topic).where(Topic.slug == slug))


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
