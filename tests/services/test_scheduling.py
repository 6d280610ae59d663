"""Moving and cancelling events: SEQUENCE, and one message owed to each registrant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from outreach.extensions import db
from outreach.models import EventStatus, MessageKind, RegistrationStatus
from outreach.services.errors import InvalidInput
from outreach.services.registrations import cancel_registration
from outreach.services.scheduling import (
    EventNotChangeable,
    cancel_event,
    change_texts,
    reschedule,
)

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def booked_event(make_event, make_registration):
    """An event with two confirmed, one waitlisted and one cancelled registration."""
    event = make_event(capacity=2, waitlist_enabled=True)
    people = [make_registration(event).registration for _ in range(4)]
    cancel_registration(people[0])  # frees a seat: person 3 is promoted
    db.session.refresh(event)
    return event, people


def test_moving_an_event_bumps_sequence_and_tells_every_active_registrant(booked_event, outbox):
    event, people = booked_event
    new_start = datetime(2027, 1, 14, 18, 0, tzinfo=BERLIN)

    reschedule(event, starts_at=new_start, ends_at=new_start + timedelta(hours=2))

    assert event.sequence == 1
    assert event.starts_at == datetime(2027, 1, 14, 17, 0, tzinfo=UTC)
    updates = outbox(kind=MessageKind.EVENT_UPDATED)
    active = [p for p in people if p.status is not RegistrationStatus.CANCELLED]
    assert sorted(m.registration_id for m in updates) == sorted(p.id for p in active)
    assert {m.dedupe_key for m in updates} == {f"event_updated:{p.id}:1" for p in active}
    assert all(m.payload["changed"] == ["ends_at", "starts_at"] for m in updates)


def test_two_moves_owe_two_updates_each(booked_event, outbox):
    event, _people = booked_event

    reschedule(event, venue_name="Rathaus")
    reschedule(event, venue_name="Stadtbibliothek")

    assert event.sequence == 2
    keys = [m.dedupe_key.rsplit(":", 1)[1] for m in outbox(kind=MessageKind.EVENT_UPDATED)]
    assert sorted(set(keys)) == ["1", "2"]


def test_an_unchanged_value_changes_nothing(booked_event, outbox):
    event, _people = booked_event

    reschedule(event, venue_name=event.venue_name, starts_at=event.starts_at)

    assert event.sequence == 0
    assert outbox(kind=MessageKind.EVENT_UPDATED) == []


def test_invalid_moves_are_refused_and_store_nothing(booked_event, outbox):
    event, _people = booked_event
    start = event.starts_at

    with pytest.raises(InvalidInput) as refused:
        reschedule(event, ends_at=start - timedelta(hours=1))
    assert "ends_at" in refused.value.errors
    with pytest.raises(InvalidInput) as refused:
        reschedule(event, starts_at=datetime(2027, 1, 1, 18, 0))  # noqa: DTZ001  (naive on purpose)
    assert "starts_at" in refused.value.errors
    with pytest.raises(InvalidInput) as refused:
        reschedule(event, timezone="Mars/Olympus_Mons", online_url="javascript:alert(1)")
    assert set(refused.value.errors) == {"timezone", "online_url"}

    db.session.refresh(event)
    assert event.sequence == 0 and event.starts_at == start
    assert outbox(kind=MessageKind.EVENT_UPDATED) == []


def test_cancelling_an_event_tells_everyone_once_and_keeps_their_registrations(
    booked_event, outbox
):
    event, people = booked_event
    statuses = {p.id: p.status for p in people}

    cancel_event(event, "Der Saal ist gesperrt.")
    cancel_event(event, "again")

    assert event.status is EventStatus.CANCELLED
    assert event.cancellation_reason == "Der Saal ist gesperrt."
    assert event.cancelled_at is not None
    assert event.sequence == 1
    messages = outbox(kind=MessageKind.EVENT_CANCELLED)
    assert len(messages) == 3
    assert {p.id: p.status for p in people} == statuses


def test_a_cancelled_event_cannot_be_moved(make_event, outbox):
    event = make_event()
    cancel_event(event)

    with pytest.raises(EventNotChangeable):
        reschedule(event, venue_name="Anderswo")


def test_a_draft_moves_without_messages(make_event, outbox):
    event = make_event(status=EventStatus.DRAFT)

    reschedule(event, venue_city="Leipzig")
    cancel_event(event)

    assert event.sequence == 2
    assert outbox() == []


def test_a_new_title_bumps_sequence_and_owes_updates(booked_event, outbox):
    event, _people = booked_event
    before = event.updated_at

    change_texts(event, {"de": {"title": "Neuer Titel", "summary": "Kurz"}})

    assert event.sequence == 1
    assert event.text("de").title == "Neuer Titel"
    assert event.updated_at > before
    assert len(outbox(kind=MessageKind.EVENT_UPDATED)) == 3


def test_a_new_description_refreshes_feeds_without_calendar_updates(booked_event, outbox):
    event, _people = booked_event
    before = event.updated_at
    title = event.text("en").title

    change_texts(event, {"en": {"title": title, "description": "Bring a friend."}})

    assert event.sequence == 0
    assert event.updated_at > before
    assert event.text("en").description == "Bring a friend."
    assert outbox(kind=MessageKind.EVENT_UPDATED) == []


def test_a_new_language_version_can_be_added_and_titles_are_required(booked_event):
    event, _people = booked_event

    change_texts(event, {"ar": {"title": "أمسية الأهل"}})
    assert event.text("ar").title == "أمسية الأهل"

    with pytest.raises(InvalidInput) as refused:
        change_texts(event, {"uk": {"title": "  ", "summary": "x" * 501}})
    assert set(refused.value.errors) == {"uk.title", "uk.summary"}
