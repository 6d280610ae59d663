"""The outbox: one row per message owed, written with the change that caused it."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from outreach.database import begin_write
from outreach.extensions import db
from outreach.mail.outbox import enqueue
from outreach.models import (
    ManageToken,
    MessageKind,
    MessageStatus,
    Organisation,
    OutboxMessage,
    Registration,
    utcnow,
)
from outreach.services.errors import EventFull
from outreach.services.registrations import cancel_registration


def count(model) -> int:
    db.session.rollback()  # a fresh snapshot, not the one the test started with
    return db.session.scalar(select(func.count()).select_from(model))


def test_enqueuing_the_same_dedupe_key_twice_keeps_one_row(app, outbox):
    first = enqueue(
        MessageKind.REMINDER, recipient="a@example.org", language="de", dedupe_key="reminder:1"
    )
    second = enqueue(
        MessageKind.REMINDER, recipient="a@example.org", language="de", dedupe_key="reminder:1"
    )
    db.session.commit()
    third = enqueue(
        MessageKind.REMINDER, recipient="b@example.org", language="en", dedupe_key="reminder:1"
    )
    db.session.commit()

    assert first is not None
    assert second is None
    assert third is None
    [row] = outbox()
    assert row.recipient == "a@example.org"


def test_a_concurrent_enqueue_of_the_same_key_yields_one_row_and_keeps_its_other_work(app, outbox):
    """Two writers owe the same message at once; the unique key settles it."""
    enqueue(MessageKind.REMINDER, recipient="a@example.org", language="de", dedupe_key="k:1")
    db.session.flush()  # the row exists, uncommitted, in this transaction
    outcome: dict[str, object] = {}
    started = threading.Event()

    def other_writer():
        with app.app_context():
            try:
                started.set()
                begin_write()
                db.session.add(Organisation(slug="other", name="Other", description={}))
                outcome["message"] = enqueue(
                    MessageKind.REMINDER, recipient="a@example.org", language="de", dedupe_key="k:1"
                )
                db.session.commit()
            except BaseException as error:
                outcome["error"] = error
            finally:
                db.session.remove()

    thread = threading.Thread(target=other_writer)
    thread.start()
    started.wait()
    time.sleep(0.3)  # let the other writer reach the insert (PostgreSQL) or the lock (SQLite)
    db.session.commit()
    thread.join(timeout=30)

    assert "error" not in outcome, outcome.get("error")
    assert outcome["message"] is None
    assert len(outbox()) == 1
    assert count(Organisation) == 1


def test_a_registration_and_its_message_commit_together_or_not_at_all(
    app, make_event, make_registration
):
    event = make_event(capacity=5)
    seen_in_transaction = {}

    def fail_at_commit(session):
        seen_in_transaction["outbox"] = session.scalar(select(func.count(OutboxMessage.id)))
        seen_in_transaction["registrations"] = session.scalar(select(func.count(Registration.id)))
        raise RuntimeError("the process died before COMMIT")

    session = db.session()
    sa_event.listen(session, "before_commit", fail_at_commit)
    try:
        with pytest.raises(RuntimeError, match="died"):
            make_registration(event)
    finally:
        sa_event.remove(session, "before_commit", fail_at_commit)

    assert seen_in_transaction == {"outbox": 1, "registrations": 1}
    assert count(Registration) == count(OutboxMessage) == count(ManageToken) == 0
    # The service left the session usable: the next registration goes through.
    assert make_registration(event).registration.id is not None
    assert count(OutboxMessage) == 1


def test_a_refused_registration_leaves_no_message(make_event, make_registration):
    event = make_event(capacity=1, waitlist_enabled=False)
    make_registration(event)

    with pytest.raises(EventFull):
        make_registration(event)

    assert count(OutboxMessage) == 1


def test_a_message_row_says_who_what_in_which_language_and_when(
    make_event, make_registration, outbox
):
    event = make_event(capacity=5, languages=["de", "tr"])
    before = utcnow()

    outcome = make_registration(event, name="Ayşe Yılmaz", email="ayse@example.org", language="en")

    [row] = outbox()
    registration = outcome.registration
    assert row.kind is MessageKind.REGISTRATION_CONFIRMED
    assert row.recipient == "ayse@example.org"
    assert row.recipient_name == "Ayşe Yılmaz"
    assert row.language == "en"
    assert row.status is MessageStatus.QUEUED
    assert row.attempts == 0
    assert before - timedelta(seconds=1) <= row.next_attempt_at <= utcnow()
    assert row.next_attempt_at.utcoffset() == timedelta(0)
    assert row.locked_until is None
    assert row.locked_by is None
    assert row.last_error is None
    assert row.sent_at is None
    assert row.event_id == event.id
    assert row.registration_id == registration.id
    assert row.dedupe_key == f"registration_confirmed:{registration.id}"
    assert row.payload == {"token": outcome.token}


def test_each_change_owes_its_own_message(make_event, make_registration, outbox):
    event = make_event(capacity=1)
    holder = make_registration(event, language="de")
    waiting = make_registration(event, language="en")

    cancel_registration(holder.registration)

    kinds = [(row.kind, row.registration_id, row.language) for row in outbox()]
    assert kinds == [
        (MessageKind.REGISTRATION_CONFIRMED, holder.registration.id, "de"),
        (MessageKind.REGISTRATION_WAITLISTED, waiting.registration.id, "en"),
        (MessageKind.REGISTRATION_CANCELLED, holder.registration.id, "de"),
        (MessageKind.WAITLIST_PROMOTED, waiting.registration.id, "en"),
    ]
    assert len({row.dedupe_key for row in outbox()}) == 4
