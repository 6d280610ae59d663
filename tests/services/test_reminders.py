"""Reminders before an event: due on time, once per person and offset, to the right people.

Registrations are made through the real service at the real time, for events
a few days ahead; the scheduler is then run at explicit ``now`` values.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.models import (
    EventStatus,
    MessageKind,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    utcnow,
)
from outreach.services.registrations import cancel_registration
from outreach.services.reminders import (
    due_offset,
    enqueue_due_reminders,
    insert_ignoring_duplicates,
    reminder_key,
)
from outreach.services.tokens import registration_for_token
from tests.concurrency import run_together

DAY, TWO_HOURS = 24 * 60, 2 * 60


@pytest.fixture
def start():
    """A start three days ahead: everyone registered now is before every window."""
    return utcnow().replace(microsecond=0) + timedelta(days=3)


def at(start, minutes_before: int, *, plus: int = 0):
    """The moment ``minutes_before`` the start, moved on by ``plus`` minutes."""
    return start - timedelta(minutes=minutes_before) + timedelta(minutes=plus)


def reminders(outbox, **filters) -> list[OutboxMessage]:
    db.session.rollback()
    return outbox(kind=MessageKind.REMINDER, **filters)


def keys(outbox) -> set[str]:
    return {row.dedupe_key for row in reminders(outbox)}


def confirmed(make_registration, event, **values) -> Registration:
    registration = make_registration(event, **values).registration
    assert registration.status is RegistrationStatus.CONFIRMED
    return registration


def test_day_and_two_hour_reminders_come_when_their_windows_open(
    make_event, make_registration, outbox, start
):
    event = make_event(starts_at=start)
    person = confirmed(make_registration, event)

    assert enqueue_due_reminders(now=at(start, DAY, plus=-1)) == 0
    assert reminders(outbox) == []

    assert enqueue_due_reminders(now=at(start, DAY)) == 1
    assert keys(outbox) == {f"reminder:{DAY}:{person.id}"}

    assert enqueue_due_reminders(now=at(start, TWO_HOURS, plus=-1)) == 0
    assert enqueue_due_reminders(now=at(start, TWO_HOURS)) == 1
    assert keys(outbox) == {f"reminder:{DAY}:{person.id}", f"reminder:{TWO_HOURS}:{person.id}"}

    row = reminders(outbox, dedupe_key=reminder_key(TWO_HOURS, person.id))[0]
    assert (row.event_id, row.registration_id) == (event.id, person.id)
    assert (row.recipient, row.recipient_name) == (person.email, person.name)
    assert row.payload["offset"] == TWO_HOURS


def test_running_again_queues_nothing_new(make_event, make_registration, outbox, start):
    event = make_event(starts_at=start)
    for _ in range(3):
        confirmed(make_registration, event)
    now = at(start, DAY, plus=5)

    assert enqueue_due_reminders(now=now) == 3
    assert enqueue_due_reminders(now=now) == 0
    assert enqueue_due_reminders(now=now + timedelta(minutes=1)) == 0
    assert len(reminders(outbox)) == 3


def test_nothing_once_the_event_has_started(make_event, make_registration, outbox, start):
    event = make_event(starts_at=start)
    confirmed(make_registration, event)

    assert enqueue_due_reminders(now=start) == 0
    assert enqueue_due_reminders(now=start + timedelta(minutes=30)) == 0
    assert reminders(outbox) == []


def test_switched_off_reminders_queue_nothing(make_event, make_registration, outbox, start):
    event = make_event(starts_at=start, reminders_enabled=False)
    confirmed(make_registration, event)

    assert enqueue_due_reminders(now=at(start, DAY)) == 0
    assert enqueue_due_reminders(now=at(start, TWO_HOURS)) == 0
    assert reminders(outbox) == []


def test_unpublished_events_get_no_reminders(make_event, make_registration, outbox, start):
    event = make_event(starts_at=start)
    confirmed(make_registration, event)
    event.status = EventStatus.CANCELLED
    db.session.commit()

    assert enqueue_due_reminders(now=at(start, TWO_HOURS)) == 0
    assert reminders(outbox) == []


def test_custom_offsets_are_honoured(make_event, make_registration, outbox, start):
    event = make_event(starts_at=start, reminder_offsets=[2 * DAY, 30])
    person = confirmed(make_registration, event)

    assert enqueue_due_reminders(now=at(start, DAY)) == 1  # the 2-day window is open
    assert enqueue_due_reminders(now=at(start, TWO_HOURS)) == 0  # no 2-hour reminder here
    assert enqueue_due_reminders(now=at(start, 30)) == 1
    assert keys(outbox) == {f"reminder:{2 * DAY}:{person.id}", f"reminder:30:{person.id}"}


def test_a_stale_reminder_gives_way_to_the_later_one():
    start = utcnow()
    # The scheduler was down: an hour before the start, "tomorrow" is wrong.
    assert due_offset(start, [DAY, TWO_HOURS], start - timedelta(hours=1)) == TWO_HOURS
    assert due_offset(start, [DAY, TWO_HOURS], start - timedelta(hours=3)) == DAY
    assert due_offset(start, [DAY, TWO_HOURS], start - timedelta(hours=25)) is None
    assert due_offset(start, [DAY, 0, -5, "x", True], start - timedelta(minutes=1)) == DAY
    assert due_offset(start, None, start - timedelta(minutes=1)) is None


def test_registered_after_the_window_opened_gets_only_the_reminders_ahead(
    make_event, make_registration, outbox
):
    # Ten hours ahead: the day-before window opened before anyone registered.
    start = utcnow().replace(microsecond=0) + timedelta(hours=10)
    event = make_event(starts_at=start)
    late = confirmed(make_registration, event)

    assert enqueue_due_reminders(now=utcnow()) == 0
    assert enqueue_due_reminders(now=at(start, TWO_HOURS)) == 1
    assert keys(outbox) == {f"reminder:{TWO_HOURS}:{late.id}"}


def test_cancelled_people_get_none(make_event, make_registration, outbox, start):
    event = make_event(starts_at=start)
    staying = confirmed(make_registration, event)
    leaving = confirmed(make_registration, event)
    cancel_registration(leaving)

    enqueue_due_reminders(now=at(start, DAY))
    enqueue_due_reminders(now=at(start, TWO_HOURS))
    assert keys(outbox) == {f"reminder:{DAY}:{staying.id}", f"reminder:{TWO_HOURS}:{staying.id}"}


def test_still_waitlisted_people_get_none(make_event, make_registration, outbox, start):
    event = make_event(starts_at=start, capacity=1)
    seated = confirmed(make_registration, event)
    make_registration(event)

    enqueue_due_reminders(now=at(start, DAY))
    enqueue_due_reminders(now=at(start, TWO_HOURS))
    assert {row.registration_id for row in reminders(outbox)} == {seated.id}


def test_promoted_after_the_day_window_opened_gets_only_the_two_hour_reminder(
    make_event, make_registration, outbox, start
):
    event = make_event(starts_at=start, capacity=1)
    first = confirmed(make_registration, event)
    second = make_registration(event).registration
    assert enqueue_due_reminders(now=at(start, DAY)) == 1

    promoted = cancel_registration(first, now=at(start, DAY, plus=120))
    assert [registration.id for registration in promoted] == [second.id]

    assert enqueue_due_reminders(now=at(start, DAY, plus=121)) == 0
    assert enqueue_due_reminders(now=at(start, TWO_HOURS)) == 1
    assert keys(outbox) == {f"reminder:{DAY}:{first.id}", f"reminder:{TWO_HOURS}:{second.id}"}


def test_each_reminder_carries_a_working_link_in_the_persons_language(
    make_event, make_registration, outbox, start
):
    event = make_event(starts_at=start, languages=["de", "en"])
    german = confirmed(make_registration, event, language="de")
    english = confirmed(make_registration, event, language="en")

    assert enqueue_due_reminders(now=at(start, DAY)) == 2
    by_person = {row.registration_id: row for row in reminders(outbox)}
    for person, language in ((german, "de"), (english, "en")):
        row = by_person[person.id]
        assert row.language == language
        assert row.payload["offset"] == DAY
        opened = registration_for_token(row.payload["token"], grace_days=30)
        assert opened is not None and opened.id == person.id
    assert by_person[german.id].payload["token"] != by_person[english.id].payload["token"]


def test_a_key_written_by_someone_else_meanwhile_is_left_alone(
    make_event, make_registration, outbox, start
):
    event = make_event(starts_at=start)
    person = confirmed(make_registration, event)
    row = {
        "kind": MessageKind.REMINDER,
        "recipient": person.email,
        "language": "de",
        "dedupe_key": reminder_key(DAY, person.id),
        "event_id": event.id,
        "registration_id": person.id,
        "payload": {"offset": DAY},
    }
    assert insert_ignoring_duplicates([row]) == 1
    assert insert_ignoring_duplicates([row, {**row, "dedupe_key": "reminder:1:1"}]) == 1
    db.session.commit()
    assert len(reminders(outbox)) == 2


def queued_and_statements(now) -> tuple[int, list[str]]:
    """Run the scheduler at ``now``; return what it queued and the SQL statements it ran."""
    db.session.rollback()  # start with no transaction open, as the worker does
    statements: list[str] = []

    def record(_connection, _cursor, statement, *_args):
        statements.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", record)
    try:
        queued = enqueue_due_reminders(now=now)
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", record)
    return queued, statements


def test_queries_do_not_grow_with_the_number_of_people(make_event, make_registration, start):
    small = make_event(starts_at=start)
    # Far enough apart that each run finds only its own event due.
    large = make_event(starts_at=start + timedelta(days=5))
    small_reminder, large_reminder = at(small.starts_at, DAY), at(large.starts_at, DAY)
    for _ in range(2):
        confirmed(make_registration, small)
    for _ in range(20):
        confirmed(make_registration, large)

    queued_small, for_small = queued_and_statements(small_reminder)
    queued_large, for_large = queued_and_statements(large_reminder)
    assert (queued_small, queued_large) == (2, 20)
    assert len(for_large) == len(for_small)

    # Nothing left to do (the usual minute): a look, and no lock taken.
    queued, statements = queued_and_statements(large_reminder)
    assert queued == 0
    assert len(statements) <= 3
    assert not any("FOR UPDATE" in sql or "IMMEDIATE" in sql for sql in statements)


def test_eight_schedulers_at_once_queue_one_reminder_per_person_and_offset(
    app, backend, make_event, make_registration, start
):
    event = make_event(starts_at=start)
    people = [confirmed(make_registration, event).id for _ in range(40)]

    for offset in (DAY, TWO_HOURS):
        now = at(start, offset, plus=1)
        results = run_together(app, [lambda now=now: enqueue_due_reminders(now=now)] * 8)
        assert [outcome for outcome, _ in results] == ["ok"] * 8, (backend, results)
        assert sum(queued for _, queued in results) == 40

        db.session.rollback()
        rows = db.session.scalars(
            select(OutboxMessage.registration_id).where(
                OutboxMessage.dedupe_key.like(f"reminder:{offset}:%")
            )
        ).all()
        assert sorted(rows) == sorted(people)

    total = db.session.scalar(
        select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == MessageKind.REMINDER)
    )
    assert total == 80


def test_send_due_prints_how_many_were_queued(runner, make_event, make_registration, outbox):
    # Starts in an hour: the two-hour reminder is due now, for people who
    # registered before its window opened.
    event = make_event(starts_at=utcnow().replace(microsecond=0) + timedelta(hours=1))
    people = [confirmed(make_registration, event) for _ in range(2)]
    for person in people:
        person.created_at = utcnow() - timedelta(days=2)
    db.session.commit()

    result = runner.invoke(args=["outreach", "send-due"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Queued 2 reminder(s)."
    assert {row.payload["offset"] for row in reminders(outbox)} == {TWO_HOURS}

    result = runner.invoke(args=["outreach", "send-due"])
    assert result.output.strip() == "Queued 0 reminder(s)."
