"""Retention: past events keep their numbers and lose their people; old mail loses its content."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, update

from outreach.extensions import db
from outreach.mail.outbox import enqueue
from outreach.mail.worker import Worker
from outreach.models import (
    AuditEntry,
    Event,
    ManageToken,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    QuestionKind,
    Registration,
    RegistrationStatus,
    SuppressionScope,
    utcnow,
)
from outreach.services import checkin, dashboard, exports, retention
from outreach.services.anonymisation import anonymise_registrations
from outreach.services.errors import InvalidInput
from outreach.services.event_editing import EventInput, create_event, update_event
from outreach.services.registrations import cancel_registration
from outreach.services.reminders import enqueue_due_reminders
from outreach.services.segments import RegistrantsSegment
from tests.concurrency import run_together

NOW = utcnow().replace(microsecond=0)
QUESTION = {"kind": QuestionKind.SHORT_TEXT, "label": {"de": "Ernährung", "en": "Diet"}}


def fresh(model, **filters) -> list:
    db.session.rollback()
    return list(db.session.scalars(select(model).filter_by(**filters).order_by(model.id)))


def mark_sent(condition, *, at) -> None:
    """Record rows as the worker would have: sent at ``at``."""
    db.session.execute(
        update(OutboxMessage)
        .where(condition)
        .values(status=MessageStatus.SENT, sent_at=at, next_attempt_at=at)
    )
    db.session.commit()


@pytest.fixture
def staff(make_user):
    return make_user("staff")


@pytest.fixture
def past_event(make_event, make_registration, staff):
    """An event that ended ``days_ago`` days ago, with people in every state.

    Amina (confirmed, one guest, checked in), Bilal (cancelled, which moved
    Chen up), Chen (confirmed), Dana (waitlisted); everyone answered the
    question, and every message they were owed was sent at registration time.
    """

    def make(days_ago: int = 100, **values):
        ends_at = NOW - timedelta(days=days_ago)
        starts_at = ends_at - timedelta(hours=2)
        event = make_event(
            starts_at=starts_at,
            ends_at=ends_at,
            capacity=3,
            max_guests=2,
            questions=[QUESTION],
            **values,
        )
        question = str(event.questions[0].id)
        before = starts_at - timedelta(days=10)
        people = {}
        for name, guests in (("Amina", 1), ("Bilal", 0), ("Chen", 0), ("Dana", 0)):
            outcome = make_registration(
                event,
                now=before,
                name=f"{name} Example",
                email=f"{name.lower()}@example.org",
                guests=guests,
                answers={question: f"{name} isst vegetarisch"},
            )
            people[name] = outcome.registration.id
        cancel_registration(db.session.get(Registration, people["Bilal"]), now=before)
        checkin.check_in(db.session.get(Registration, people["Amina"]), by=staff, now=starts_at)
        mark_sent(OutboxMessage.event_id == event.id, at=before)
        return event

    return make


def statistics(event_id: int) -> dict:
    """Every number staff and the desk see about the event."""
    db.session.rollback()
    event = db.session.get(Event, event_id)
    details = dashboard.event_details(event_id)
    return {
        "counts": exports.registration_counts(event),
        "by_status": details.registrations,
        "checked_in": details.checked_in,
        "seats_taken": details.event.seats_taken,
        "door": checkin.check_in_counts(event),
        "rows": [
            (r.status, r.guests, r.checked_in_at, r.waitlist_seq, r.language)
            for r in fresh(Registration, event_id=event_id)
        ],
    }


def anonymised_entries(event_id: int) -> list[AuditEntry]:
    return fresh(
        AuditEntry,
        action="event.registrations_anonymised",
        subject_type="events",
        subject_id=event_id,
    )


# -- registrations ------------------------------------------------------------------------


def test_retention_leaves_every_count_as_it_was(app, past_event):
    event = past_event()
    before = statistics(event.id)

    report = retention.purge(NOW)

    assert [(e.event_id, e.registrations) for e in report.events] == [(event.id, 4)]
    assert statistics(event.id) == before
    assert before["counts"] == exports.RegistrationCounts(
        confirmed=2, confirmed_guests=1, waitlisted=1, cancelled=1, checked_in=1
    )
    assert before["seats_taken"] == 3


def test_no_name_address_answer_or_link_is_left(app, past_event):
    event = past_event()

    retention.purge(NOW)

    registrations = fresh(Registration, event_id=event.id)
    assert len(registrations) == 4
    for registration in registrations:
        assert registration.name == ""
        assert registration.email == f"anonymised-{registration.id}@anonymised.invalid"
        assert registration.answers == {}
        assert registration.anonymised_at == NOW
    assert {r.status for r in registrations} >= {RegistrationStatus.CANCELLED}
    ids = {r.id for r in registrations}
    assert not [token for token in fresh(ManageToken) if token.registration_id in ids]
    for message in fresh(OutboxMessage, event_id=event.id):
        assert message.recipient == "purged@anonymised.invalid"
        assert (message.recipient_name, message.payload, message.purged_at) == ("", {}, NOW)
    # The people are gone from everything staff can read or export.
    table = exports.registration_table(event, "en")
    text = " ".join(str(cell) for row in table.rows for cell in row)
    for name in ("Amina", "Bilal", "Chen", "Dana", "example.org", "vegetarisch"):
        assert name not in text


def test_one_audit_entry_per_event_counts_without_naming_anyone(app, past_event, monkeypatch):
    monkeypatch.setattr(retention, "CHUNK_SIZE", 3)  # four people: two chunks
    event = past_event()

    retention.purge(NOW)

    [entry] = anonymised_entries(event.id)
    assert entry.changes == {"registrations_anonymised": [None, 4]}
    assert entry.actor_id is None and entry.actor_label == "system"
    assert "example" not in str(entry.changes) and entry.comment is None


def test_the_staff_event_page_says_when_registrations_go_and_went(app, past_event, make_event):
    event = past_event()
    upcoming = make_event(ends_at=NOW + timedelta(days=8), starts_at=NOW + timedelta(days=7))

    assert retention.state(upcoming).due_at == upcoming.ends_at + timedelta(days=90)
    assert retention.state(event).anonymised_at is None
    retention.purge(NOW)
    assert retention.state(db.session.get(Event, event.id)).anonymised_at == NOW


def test_events_still_within_their_period_are_left_alone(app, past_event):
    recent = past_event(days_ago=89)

    report = retention.purge(NOW)

    assert report.events == []
    assert all(r.anonymised_at is None for r in fresh(Registration, event_id=recent.id))
    assert "Amina Example" in {r.name for r in fresh(Registration, event_id=recent.id)}


def test_the_configured_default_applies(app, past_event):
    app.config["RETENTION_DAYS"] = 10
    event = past_event(days_ago=11)

    assert [e.event_id for e in retention.purge(NOW).events] == [event.id]


# -- the per-event override ---------------------------------------------------------------


def test_zero_days_anonymises_as_soon_as_the_event_has_ended(app, past_event, make_event):
    ended = past_event(days_ago=0, retention_days=0)
    running = make_event(
        starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=1), retention_days=0
    )

    report = retention.purge(NOW + timedelta(seconds=1))

    assert [e.event_id for e in report.events] == [ended.id]
    assert running.id not in {e.event_id for e in report.events}


def test_a_longer_override_keeps_the_data(app, past_event):
    kept = past_event(days_ago=100, retention_days=365)
    shorter = past_event(days_ago=100, retention_days=30)

    report = retention.purge(NOW)

    assert [e.event_id for e in report.events] == [shorter.id]
    assert {r.name for r in fresh(Registration, event_id=kept.id)} == {
        "Amina Example",
        "Bilal Example",
        "Chen Example",
        "Dana Example",
    }
    assert retention.purge(NOW + timedelta(days=266)).events[0].event_id == kept.id


# -- mail rows ----------------------------------------------------------------------------


def account_mail(key: str, status: MessageStatus, *, at) -> int:
    message = enqueue(
        MessageKind.PASSWORD_RESET,
        recipient=f"{key}@example.org",
        recipient_name=key.title(),
        language="de",
        dedupe_key=key,
        payload={"token": "secret-link"},
    )
    db.session.flush()
    message.status = status
    message.next_attempt_at = at
    message.last_error = "550 mailbox full" if status is MessageStatus.FAILED else None
    message.sent_at = at if status is MessageStatus.SENT else None
    if status is MessageStatus.SENDING:
        message.locked_by, message.locked_until = "worker", at + timedelta(minutes=5)
    db.session.commit()
    return message.id


def test_old_finished_mail_is_purged_but_queued_sending_and_recent_mail_is_not(app):
    old = NOW - timedelta(days=31)
    purged = {
        account_mail("sent", MessageStatus.SENT, at=old),
        account_mail("failed", MessageStatus.FAILED, at=old),
        account_mail("skipped", MessageStatus.SKIPPED, at=old),
    }
    kept = {
        account_mail("queued", MessageStatus.QUEUED, at=old),
        account_mail("sending", MessageStatus.SENDING, at=old),
        account_mail("recent", MessageStatus.SENT, at=NOW - timedelta(days=29)),
    }

    report = retention.purge(NOW)

    assert report.outbox_rows == 3
    for message in fresh(OutboxMessage):
        if message.id in purged:
            assert (message.recipient, message.recipient_name) == ("purged@anonymised.invalid", "")
            assert (message.payload, message.last_error, message.purged_at) == ({}, None, NOW)
        else:
            assert message.id in kept
            assert message.recipient.endswith("@example.org")
            assert message.payload == {"token": "secret-link"}
            assert message.purged_at is None
    statuses = {m.dedupe_key: m.status for m in fresh(OutboxMessage)}
    assert statuses["queued"] is MessageStatus.QUEUED
    assert statuses["sending"] is MessageStatus.SENDING


def test_a_purged_failed_message_cannot_be_retried(app):
    from outreach.services import mail_queue
    from outreach.services.errors import MessageNotRetryable

    message_id = account_mail("failed", MessageStatus.FAILED, at=NOW - timedelta(days=31))
    retention.purge(NOW)

    with pytest.raises(MessageNotRetryable):
        mail_queue.retry(message_id)
    assert mail_queue.retry_all_failed() == 0


def test_old_privacy_requests_keep_only_the_hash_of_their_address(app):
    from outreach.mail.suppression import hashed_address
    from outreach.models import PrivacyRequest
    from outreach.services import privacy_requests

    privacy_requests.ask("old@example.org", "export", language="en", now=NOW - timedelta(days=31))
    privacy_requests.ask("new@example.org", "erasure", language="en", now=NOW - timedelta(days=1))

    assert retention.plan(NOW).privacy_requests == 1
    assert retention.purge(NOW).privacy_requests == 1

    held = {row.email: row.email_hash for row in fresh(PrivacyRequest)}
    assert set(held) == {None, "new@example.org"}
    assert held[None] == hashed_address("old@example.org")
    assert retention.purge(NOW).privacy_requests == 0


# -- dry runs, repeats, two workers ---------------------------------------------------------


def snapshot() -> tuple:
    db.session.rollback()
    return (
        [(r.id, r.name, r.email, r.answers, r.anonymised_at) for r in fresh(Registration)],
        [(m.id, m.recipient, m.payload, m.purged_at, m.status) for m in fresh(OutboxMessage)],
        db.session.scalar(select(func.count(AuditEntry.id))),
        db.session.scalar(select(func.count(ManageToken.id))),
    )


def test_a_dry_run_changes_nothing_and_shows_what_a_purge_does(app, past_event):
    event = past_event()
    account_mail("old", MessageStatus.SENT, at=NOW - timedelta(days=40))
    before = snapshot()

    planned = retention.purge(NOW, dry_run=True)

    assert snapshot() == before
    assert planned.dry_run
    assert [(e.event_id, e.registrations) for e in planned.events] == [(event.id, 4)]
    assert planned.events[0].due_at == event.ends_at + timedelta(days=90)
    done = retention.purge(NOW)
    assert (done.events, done.outbox_rows) == (planned.events, planned.outbox_rows)
    assert retention.plan(NOW) == retention.RetentionReport(dry_run=True)


def test_running_twice_is_a_no_op(app, past_event):
    event = past_event()
    account_mail("old", MessageStatus.SENT, at=NOW - timedelta(days=40))
    retention.purge(NOW)
    after_first = snapshot()

    again = retention.purge(NOW + timedelta(hours=1))

    assert again.is_empty
    assert snapshot() == after_first
    assert len(anonymised_entries(event.id)) == 1


def test_two_workers_at_once_anonymise_each_person_once(app, past_event, monkeypatch):
    monkeypatch.setattr(retention, "CHUNK_SIZE", 2)
    events = [past_event() for _ in range(3)]
    for number in range(5):
        account_mail(f"old-{number}", MessageStatus.SENT, at=NOW - timedelta(days=40))
    # Every row is old and finished: the events' mail was sent before they began.
    rows = len(fresh(OutboxMessage))

    results = run_together(app, [lambda: retention.purge(NOW), lambda: retention.purge(NOW)])

    assert [outcome for outcome, _report in results] == ["ok", "ok"], results
    reports = [report for _outcome, report in results]
    assert sum(report.registrations for report in reports) == 12
    assert sum(report.outbox_rows for report in reports) == rows
    assert all(m.purged_at == NOW for m in fresh(OutboxMessage))
    for event in events:
        assert all(r.anonymised_at == NOW for r in fresh(Registration, event_id=event.id))
        [entry] = anonymised_entries(event.id)
        assert entry.changes == {"registrations_anonymised": [None, 4]}


def test_the_worker_runs_retention_at_most_once_an_hour(app, past_event):
    worker = Worker(app)
    worker.schedule()
    first = past_event()  # ended long ago, added after the first run

    worker.schedule()
    assert all(r.anonymised_at is None for r in fresh(Registration, event_id=first.id))

    worker.next_retention = 0.0  # an hour later
    worker.schedule()
    assert all(r.anonymised_at is not None for r in fresh(Registration, event_id=first.id))


# -- nobody writes to an anonymised person --------------------------------------------------


def test_reminders_and_campaigns_never_pick_an_anonymised_registration(
    app, make_event, make_registration
):
    starts_at = utcnow().replace(microsecond=0) + timedelta(hours=26)
    event = make_event(starts_at=starts_at)
    kept = make_registration(event, email="kept@example.org")
    gone = make_registration(event, email="gone@example.org")
    anonymise_registrations([gone.registration.id], now=NOW)  # as an erasure does
    db.session.commit()

    enqueue_due_reminders(now=starts_at - timedelta(hours=23))  # the day-before reminder

    reminded = {m.registration_id for m in fresh(OutboxMessage, kind=MessageKind.REMINDER)}
    assert reminded == {kept.registration.id}
    segment = RegistrantsSegment.from_dict(
        {"type": "registrants", "events": [event.id], "statuses": ["confirmed", "cancelled"]}
    )
    addresses = set(db.session.scalars(segment.addresses(SuppressionScope.OUTREACH, None)))
    assert addresses == {"kept@example.org"}


# -- the per-event setting ------------------------------------------------------------------


def test_staff_set_the_period_and_get_a_field_error_outside_0_to_3650(
    app, staff, event_input, make_org
):
    host = make_org()
    event = create_event(event_input(hosts=[host.id], retention_days=0), by=staff)
    assert event.retention_days == 0

    for wrong in (-1, 3651, "30", True, 2.5):
        with pytest.raises(InvalidInput) as refused, force_locale("en"):
            data = EventInput.from_event(db.session.get(Event, event.id))
            data.retention_days = wrong
            update_event(db.session.get(Event, event.id), data, by=staff)
        assert set(refused.value.errors) == {"retention_days"}
        assert (
            "3650" in refused.value.errors["retention_days"]
            or "whole number" in (refused.value.errors["retention_days"])
        )
    assert db.session.get(Event, event.id).retention_days == 0

    data = EventInput.from_event(db.session.get(Event, event.id))
    data.retention_days = None
    assert update_event(db.session.get(Event, event.id), data, by=staff).retention_days is None


def test_partners_cannot_change_the_period(app, make_user, staff, event_input):
    partner = make_user("partner")
    event = create_event(event_input(retention_days=7), by=partner)
    assert event.retention_days is None

    # Staff give it a period; the partner's later change leaves it as it is.
    staff_data = EventInput.from_event(event)
    staff_data.retention_days = 400
    update_event(event, staff_data, by=staff)
    data = EventInput.from_event(db.session.get(Event, event.id))
    data.retention_days = 1
    data.venue_name = "Anderswo"
    changed = update_event(db.session.get(Event, event.id), data, by=partner)
    assert (changed.retention_days, changed.venue_name) == (400, "Anderswo")
