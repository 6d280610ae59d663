"""Finding events: filters, pages, drafts kept out, past events apart, few queries."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import EventStatus, Organisation, utcnow
from outreach.services.events import (
    EventFilters,
    past_events,
    public_event,
    upcoming_events,
    upcoming_events_of,
)

ONLINE = dict(venue_name=None, venue_city=None, online_url="https://meet.example.org/x")
HYBRID = dict(online_url="https://meet.example.org/y")
ADDRESS_ONLY = dict(venue_name=None, venue_address="Hauptstraße 1")


def slugs(page_or_list) -> list[str]:
    items = getattr(page_or_list, "items", page_or_list)
    return [event.slug for event in items]


@pytest.fixture
def soon():
    start = utcnow().replace(microsecond=0) + timedelta(days=1)
    return lambda days: start + timedelta(days=days)


@pytest.fixture
def catalogue(make_event, make_org, soon):
    """A handful of published events that differ in one filter each, plus drafts."""
    sahel, anatolia = make_org(slug="sahel"), make_org(slug="anatolia")
    make_event(slug="in-person", starts_at=soon(1), topics=["culture"], hosts=[sahel])
    make_event(slug="online", starts_at=soon(2), languages=["en"], **ONLINE)
    make_event(
        slug="hybrid", starts_at=soon(3), languages=["tr", "de"], hosts=[anatolia, sahel], **HYBRID
    )
    make_event(slug="address-only", starts_at=soon(4), topics=["health"], **ADDRESS_ONLY)
    make_event(slug="draft", status=EventStatus.DRAFT, starts_at=soon(0), topics=["culture"])
    make_event(slug="submitted", status=EventStatus.SUBMITTED, starts_at=soon(0), hosts=[sahel])


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (EventFilters(), ["in-person", "online", "hybrid", "address-only"]),
        (EventFilters(topic="culture"), ["in-person"]),
        (EventFilters(topic="health"), ["address-only"]),
        (EventFilters(topic="nothing-like-this"), []),
        (EventFilters(language="tr"), ["hybrid"]),
        (EventFilters(language="en"), ["online"]),
        (EventFilters(format="online"), ["online", "hybrid"]),
        (EventFilters(format="in_person"), ["in-person", "hybrid", "address-only"]),
        (EventFilters(format="bogus"), ["in-person", "online", "hybrid", "address-only"]),
        (EventFilters(host="sahel"), ["in-person", "hybrid"]),
        (EventFilters(host="anatolia"), ["hybrid"]),
        (EventFilters(host="sahel", format="online"), ["hybrid"]),
        (EventFilters(host="sahel", topic="culture", language="de"), ["in-person"]),
    ],
    ids=repr,
)
def test_upcoming_events_are_filtered(catalogue, filters, expected):
    assert slugs(upcoming_events(filters)) == expected


def test_drafts_and_submitted_events_are_never_listed_or_shown(catalogue):
    sahel = db.session.scalar(select(Organisation).where(Organisation.slug == "sahel"))

    assert "draft" not in slugs(upcoming_events())
    assert "submitted" not in slugs(upcoming_events(EventFilters(host="sahel")))
    assert "submitted" not in slugs(upcoming_events_of(sahel))
    assert public_event("draft") is None
    assert public_event("submitted") is None
    assert public_event("hybrid").slug == "hybrid"


def test_a_cancelled_event_keeps_its_page_but_leaves_the_listing(make_event):
    make_event(slug="called-off", status=EventStatus.CANCELLED)

    assert slugs(upcoming_events()) == []
    assert public_event("called-off").status is EventStatus.CANCELLED


def test_pages_hold_per_page_events_soonest_first(make_event, soon):
    for day in range(30, 0, -1):
        make_event(slug=f"day-{day:02d}", starts_at=soon(day))

    first = upcoming_events(page=1, per_page=12)
    last = upcoming_events(page=3, per_page=12)
    beyond = upcoming_events(page=9, per_page=12)

    assert first.total == 30
    assert first.pages == 3
    assert slugs(first) == [f"day-{day:02d}" for day in range(1, 13)]
    assert slugs(last) == [f"day-{day:02d}" for day in range(25, 31)]
    assert slugs(beyond) == []


def test_past_events_are_apart_and_latest_first(make_event):
    now = utcnow().replace(microsecond=0)
    make_event(slug="last-year", starts_at=now - timedelta(days=365))
    make_event(slug="last-week", starts_at=now - timedelta(days=7))
    make_event(slug="running-now", starts_at=now - timedelta(hours=1))
    make_event(slug="tomorrow", starts_at=now + timedelta(days=1))
    make_event(slug="old-draft", status=EventStatus.DRAFT, starts_at=now - timedelta(days=3))

    assert slugs(past_events()) == ["last-week", "last-year"]
    assert slugs(upcoming_events()) == ["running-now", "tomorrow"]


def test_upcoming_events_of_an_organisation(make_event, make_org, soon):
    host, other = make_org(), make_org()
    make_event(slug="mine-later", starts_at=soon(5), hosts=[host])
    make_event(slug="joint", starts_at=soon(2), hosts=[other, host])
    make_event(slug="theirs", starts_at=soon(1), hosts=[other])
    make_event(slug="mine-past", starts_at=utcnow() - timedelta(days=2), hosts=[host])

    assert slugs(upcoming_events_of(host)) == ["joint", "mine-later"]


@contextmanager
def counted_queries():
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", count)


def render_listing(filters: EventFilters | None = None) -> int:
    """List a page and read what a listing shows; return how many events it had."""
    db.session.expunge_all()
    page = upcoming_events(filters or EventFilters(), per_page=50)
    shown = [
        (
            event.text("en").title,
            [host.name for host in event.hosts],
            [topic.name_in("de") for topic in event.topics],
            event.languages,
            event.seats_left,
            event.is_hybrid,
        )
        for event in page.items
    ]
    return len(shown)


def test_a_listing_takes_the_same_number_of_queries_for_few_or_many_events(
    make_event, make_org, soon
):
    host_ids = [make_org().id, make_org().id]

    def add_events(first_day: int, number: int) -> None:
        hosts = [db.session.get(Organisation, host_id) for host_id in host_ids]
        for day in range(first_day, first_day + number):
            make_event(starts_at=soon(day), hosts=hosts, topics=["culture", "work"], capacity=9)

    add_events(0, 2)
    with counted_queries() as few:
        assert render_listing() == 2
    add_events(2, 28)
    with counted_queries() as many:
        assert render_listing() == 30
    with counted_queries() as filtered:
        assert render_listing(EventFilters(topic="culture", format="in_person")) == 30

    assert len(many) == len(few)
    assert len(filtered) == len(few)
    assert len(many) <= 8
