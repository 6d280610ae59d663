"""Long mixed runs of registering, changing and cancelling keep every promise.

A seeded random walk through the services, checking after each step what must
always hold: no overbooking, nobody waiting whose party would fit, the queue in
order, and exactly the messages each change owes.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import MessageKind, OutboxMessage, Registration, RegistrationStatus
from outreach.services.errors import InvalidInput, NotEnoughSeats, RegistrationNotChangeable
from outreach.services.registration_input import RegistrationChanges
from outreach.services.registrations import cancel_registration, change_registration

CAPACITY = 7
MAX_GUESTS = 3


def check_promises(event_id: int) -> None:
    db.session.expire_all()
    registrations = list(
        db.session.scalars(select(Registration).where(Registration.event_id == event_id))
    )
    confirmed = [r for r in registrations if r.status is RegistrationStatus.CONFIRMED]
    waiting = [r for r in registrations if r.status is RegistrationStatus.WAITLISTED]
    free = CAPACITY - sum(r.seats for r in confirmed)

    assert free >= 0, "overbooked"
    assert all(r.seats > free for r in waiting), "someone waits whose party fits"
    seqs = [r.waitlist_seq for r in registrations if r.waitlist_seq is not None]
    assert len(seqs) == len(set(seqs))
    assert all(r.waitlist_seq is not None for r in waiting)

    messages = Counter(
        (row.registration_id, row.kind) for row in db.session.scalars(select(OutboxMessage))
    )
    for r in registrations:
        first = (
            MessageKind.REGISTRATION_WAITLISTED
            if r.waitlist_seq is not None
            else MessageKind.REGISTRATION_CONFIRMED
        )
        assert messages[(r.id, first)] == 1
        assert messages[(r.id, MessageKind.WAITLIST_PROMOTED)] == (r.promoted_at is not None)
        assert messages[(r.id, MessageKind.REGISTRATION_CANCELLED)] == (
            r.status is RegistrationStatus.CANCELLED
        )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mixed_registrations_changes_and_cancellations_keep_every_promise(
    seed, make_event, make_registration
):
    rng = random.Random(seed)
    event = make_event(capacity=CAPACITY, max_guests=MAX_GUESTS, waitlist_enabled=True)
    event_id = event.id
    ids: list[int] = []

    for _ in range(45):
        action = rng.choices(["register", "change", "cancel"], weights=[5, 3, 2])[0]
        if action == "register" or not ids:
            outcome = make_registration(event, guests=rng.randint(0, MAX_GUESTS))
            ids.append(outcome.registration.id)
        else:
            registration = db.session.get(Registration, rng.choice(ids))
            try:
                if action == "change":
                    change_registration(
                        registration,
                        RegistrationChanges(guests=rng.randint(0, MAX_GUESTS), language="en"),
                    )
                else:
                    cancel_registration(registration)
            except (NotEnoughSeats, RegistrationNotChangeable, InvalidInput):
                pass
        check_promises(event_id)

    # The walk went through the interesting states, not just the easy ones.
    statuses = {r.status for r in db.session.scalars(select(Registration))}
    assert statuses == {
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.WAITLISTED,
        RegistrationStatus.CANCELLED,
    }
    assert db.session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.kind == MessageKind.WAITLIST_PROMOTED)
    )
