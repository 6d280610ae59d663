"""Capacity is a hard limit when many people register, change and cancel at once.

Every worker is a real thread with its own application context, so its own
session and its own database connection; a barrier releases them together.
These tests run on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from outreach.extensions import db
from outreach.models import (
    Event,
    ManageToken,
    MessageKind,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    utcnow,
)
from outreach.services.errors import EventFull
from outreach.services.registration_input import RegistrationDetails
from outreach.services.registrations import cancel_registration, register
from tests.concurrency import run_together

KIND_FOR_STATUS = {
    RegistrationStatus.CONFIRMED: MessageKind.REGISTRATION_CONFIRMED,
    RegistrationStatus.WAITLISTED: MessageKind.REGISTRATION_WAITLISTED,
}


def registering(event_id: int, **values) -> Callable[[], Any]:
    """A job that registers one person for the event, loaded in the worker's session."""

    def job():
        event = db.session.get(Event, event_id)
        outcome = register(event, RegistrationDetails(language="de", consent=True, **values))
        return outcome.registration.id, outcome.status, outcome.token

    return job


def cancelling(registration_id: int) -> Callable[[], Any]:
    def job():
        registration = db.session.get(Registration, registration_id)
        return [promoted.id for promoted in cancel_registration(registration)]

    return job


def all_registrations(event_id: int) -> list[Registration]:
    # End the main thread's read transaction: its snapshot predates the workers.
    db.session.rollback()
    return list(
        db.session.scalars(
            select(Registration).where(Registration.event_id == event_id).order_by(Registration.id)
        )
    )


def confirmed_seats(registrations: list[Registration]) -> int:
    return sum(r.seats for r in registrations if r.status is RegistrationStatus.CONFIRMED)


def errors_of(results) -> list[BaseException]:
    return [value for state, value in results if state == "error"]


def party_sizes(people: int) -> list[int]:
    """Guests per person: mostly single people, some couples, a few threes.

    More single people than seats guarantees the event fills exactly: a free
    seat is never left while a single person is waiting.
    """
    return [0] * (people - 15) + [1] * 10 + [2] * 5


def test_last_seats_are_never_given_twice_and_the_rest_are_waitlisted(app, make_event, outbox):
    capacity = 20
    event = make_event(capacity=capacity, max_guests=2, waitlist_enabled=True)
    jobs = [
        registering(event.id, name=f"Person {n}", email=f"p{n}@example.org", guests=guests)
        for n, guests in enumerate(party_sizes(50))
    ]

    results = run_together(app, jobs)

    assert errors_of(results) == []
    registrations = all_registrations(event.id)
    assert len(registrations) == 50
    assert confirmed_seats(registrations) == capacity
    statuses = Counter(r.status for r in registrations)
    assert set(statuses) == {RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED}

    waitlisted = [r for r in registrations if r.status is RegistrationStatus.WAITLISTED]
    assert sorted(r.waitlist_seq for r in waitlisted) == list(range(1, len(waitlisted) + 1))
    assert all(
        r.waitlist_seq is None for r in registrations if r.status is RegistrationStatus.CONFIRMED
    )
    # Whoever is waiting really did not fit when they came: no seat is left for anyone.
    assert all(r.seats > 0 for r in waitlisted)

    rows = outbox()
    assert len(rows) == len(registrations)
    by_registration = {row.registration_id: row for row in rows}
    assert set(by_registration) == {r.id for r in registrations}
    for registration in registrations:
        assert by_registration[registration.id].kind is KIND_FOR_STATUS[registration.status]
        assert by_registration[registration.id].recipient == registration.email

    # Each worker was told what was stored, and got the token of its own row.
    reported = {value[0]: value[1] for _, value in results}
    assert reported == {r.id: r.status for r in registrations}
    assert db.session.scalar(select(func.count(ManageToken.id))) == 50


def test_without_a_waitlist_the_rest_are_refused_and_nothing_is_stored(app, make_event, outbox):
    capacity = 20
    event = make_event(capacity=capacity, max_guests=2, waitlist_enabled=False)
    jobs = [
        registering(event.id, name=f"Person {n}", email=f"p{n}@example.org", guests=guests)
        for n, guests in enumerate(party_sizes(50))
    ]

    results = run_together(app, jobs)

    refused = errors_of(results)
    assert all(isinstance(error, EventFull) for error in refused), refused
    registrations = all_registrations(event.id)
    assert all(r.status is RegistrationStatus.CONFIRMED for r in registrations)
    assert confirmed_seats(registrations) == capacity
    assert len(registrations) + len(refused) == 50
    assert len(outbox()) == len(registrations)
    assert {row.kind for row in outbox()} == {MessageKind.REGISTRATION_CONFIRMED}
    assert db.session.scalar(select(func.count(ManageToken.id))) == len(registrations)


def test_concurrent_cancellations_and_registrations_never_overbook(
    app, make_event, make_registration, outbox
):
    capacity = 20
    event = make_event(capacity=capacity, max_guests=2, waitlist_enabled=True)
    confirmed = [make_registration(event).registration.id for _ in range(capacity)]
    waiting = [make_registration(event, guests=n % 3).registration.id for n in range(10)]
    jobs = [cancelling(registration_id) for registration_id in confirmed[:12]]
    jobs += [cancelling(registration_id) for registration_id in waiting[:2]]
    jobs += [
        registering(event.id, name=f"Late {n}", email=f"late{n}@example.org", guests=n % 3)
        for n in range(36)
    ]

    results = run_together(app, jobs)

    assert errors_of(results) == []
    registrations = all_registrations(event.id)
    assert confirmed_seats(registrations) <= capacity
    free = capacity - confirmed_seats(registrations)
    waitlisted = [r for r in registrations if r.status is RegistrationStatus.WAITLISTED]
    # Nobody waits while their party would fit into the seats left.
    assert all(r.seats > free for r in waitlisted)
    seqs = [r.waitlist_seq for r in registrations if r.waitlist_seq is not None]
    assert len(seqs) == len(set(seqs))

    cancelled = {r.id for r in registrations if r.status is RegistrationStatus.CANCELLED}
    assert cancelled == set(confirmed[:12] + waiting[:2])
    assert {row.registration_id for row in outbox(kind=MessageKind.REGISTRATION_CANCELLED)} == (
        cancelled
    )
    promoted = {r.id for r in registrations if r.promoted_at is not None}
    reported_promotions = [pid for state, value in results[:14] for pid in value]
    assert sorted(reported_promotions) == sorted(promoted)
    assert {row.registration_id for row in outbox(kind=MessageKind.WAITLIST_PROMOTED)} == promoted
    # A promoted person stays in, unless they were among those who cancelled.
    assert all(
        r.status is RegistrationStatus.CONFIRMED
        for r in registrations
        if r.id in promoted - cancelled
    )


def test_the_same_address_submitted_at_once_registers_only_once(app, make_event, outbox):
    event_id = make_event(capacity=5).id
    now = utcnow()
    # All twenty submissions fall in one resend window.
    now = now - timedelta(seconds=now.timestamp() % 60)

    def job():
        loaded = db.session.get(Event, event_id)
        details = RegistrationDetails(
            name="Ada", email="Ada@Example.org", language="en", consent=True
        )
        outcome = register(loaded, details, now=now)
        return outcome.registration.id, outcome.is_duplicate

    results = run_together(app, [job] * 20)

    assert errors_of(results) == []
    registrations = all_registrations(event_id)
    assert len(registrations) == 1
    assert registrations[0].email == "ada@example.org"
    assert {value[0] for _, value in results} == {registrations[0].id}
    assert sorted(value[1] for _, value in results) == [False] + [True] * 19
    assert confirmed_seats(registrations) == 1
    assert [row.kind for row in outbox()] == [
        MessageKind.REGISTRATION_CONFIRMED,
        MessageKind.MANAGE_LINK,
    ]
    assert db.session.scalar(select(func.count(ManageToken.id))) == 2
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 2
