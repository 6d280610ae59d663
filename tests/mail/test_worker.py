"""The mail worker against a real SMTP server on loopback: delivered once, or failed with a reason.

Every test drives ``Worker.run_once`` (what ``flask outreach worker --once``
does) in this process against the ``smtp`` server of tests/mail/conftest.py,
on SQLite and, with TEST_DATABASE_URL, on PostgreSQL. "Time passes" by
making queued rows due in the database; the worker itself runs on the clock.
"""

from __future__ import annotations

import email.policy
import time
from collections import Counter
from datetime import timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from itertools import pairwise

import pytest
from flask_babel import force_locale, gettext
from icalendar import Calendar
from sqlalchemy import delete, select, update

from outreach.extensions import db
from outreach.mail.worker import BACKOFF_SECONDS, Worker, retry_delay
from outreach.models import (
    MessageKind,
    MessageStatus,
    OutboxMessage,
    Registration,
    Suppression,
    utcnow,
)
from outreach.services.registrations import cancel_registration
from outreach.services.scheduling import cancel_event, reschedule

SENT, QUEUED, SENDING, FAILED = (
    MessageStatus.SENT,
    MessageStatus.QUEUED,
    MessageStatus.SENDING,
    MessageStatus.FAILED,
)


@pytest.fixture
def rows(outbox):
    """The outbox rows as the database has them now (not as this session last saw them)."""

    def fresh(**filters) -> list[OutboxMessage]:
        db.session.rollback()
        return outbox(**filters)

    return fresh


def leaf_parts(message: EmailMessage) -> list[EmailMessage]:
    return [part for part in message.walk() if not part.is_multipart()]


def text_of(message: EmailMessage) -> str:
    """The plain-text body (not an attachment)."""
    for part in leaf_parts(message):
        if part.get_content_type() == "text/plain" and not part.get_filename():
            return part.get_content()
    raise AssertionError(f"no text/plain part in {message['Subject']!r}")


def invite_of(message: EmailMessage, method: str):
    """The VEVENT of the ``text/calendar; method=…`` part (not the .ics file copy)."""
    for part in leaf_parts(message):
        if part.get_content_type() == "text/calendar" and part.get_param("method") == method:
            calendar = Calendar.from_ical(part.get_content())
            assert str(calendar["METHOD"]) == method
            [vevent] = calendar.walk("VEVENT")
            return vevent
    raise AssertionError(f"no text/calendar; method={method} part in {message['Subject']!r}")


# -- end to end -----------------------------------------------------------------


def test_a_registration_is_delivered_once_with_text_html_and_an_invitation(
    mail_app, smtp, runner, make_event, make_registration, rows
):
    event = make_event()
    outcome = make_registration(event, language="de")

    result = runner.invoke(args=["outreach", "worker", "--once"])

    assert result.exit_code == 0, result.output
    assert "Mail: 1 sent." in result.output
    [received] = smtp.received
    assert received.rcpt_tos == [outcome.registration.email]
    message = received.message
    types = [part.get_content_type() for part in leaf_parts(message)]
    assert "text/plain" in types
    assert "text/html" in types
    vevent = invite_of(message, "REQUEST")
    assert str(vevent["UID"]) == f"event-{event.uid}@outreach.test"
    [row] = rows()
    assert row.status is SENT
    assert row.attempts == 1
    assert row.message_id == message["Message-ID"]
    assert row.sent_at is not None
    assert row.locked_by is None and row.locked_until is None
    assert Worker(mail_app).run_once().counts == {}
    assert smtp.count() == 1


CONFIRMED_SENTENCE = "Thank you for registering. Your seat is confirmed."


def test_each_registrant_gets_the_text_in_their_language(
    mail_app, smtp, make_event, make_registration
):
    event = make_event(languages=["de", "en"])
    german = make_registration(event, language="de").registration.email
    english = make_registration(event, language="en").registration.email

    assert Worker(mail_app).run_once()["sent"] == 2

    [to_german] = smtp.to(german)
    [to_english] = smtp.to(english)
    german_text, english_text = text_of(to_german), text_of(to_english)
    with force_locale("de"):
        in_german = gettext(CONFIRMED_SENTENCE)
    assert in_german != CONFIRMED_SENTENCE, "the German catalogue translates it"
    assert in_german in german_text and CONFIRMED_SENTENCE not in german_text
    assert CONFIRMED_SENTENCE in english_text and in_german not in english_text


# -- an SMTP outage ---------------------------------------------------------------


def test_mail_queued_while_smtp_is_down_is_delivered_exactly_once_when_it_is_back(
    mail_app, smtp, make_event, queue_confirmations, time_passes, statuses, rows
):
    event = make_event()
    queue_confirmations(event, 100)
    smtp.stop()
    worker = Worker(mail_app)
    started = utcnow()

    tally = worker.run_once()

    assert tally.counts == {"retried": 100}
    for row in rows():
        assert row.status is QUEUED
        assert row.attempts == 1
        assert row.next_attempt_at > started
        assert row.last_error and "connection" in row.last_error.lower()
        assert row.locked_by is None
    assert worker.run_once().counts == {}, "nothing is due while it backs off"

    smtp.start()
    for _ in range(3):
        if not time_passes():
            break
        worker.run_once()

    assert statuses() == {"sent": 100}
    assert smtp.count() == 100
    assert set(smtp.message_ids().values()) == {1}
    assert len(smtp.recipients()) == 100
    assert set(smtp.recipients().values()) == {1}
    assert {row.message_id for row in rows()} == set(smtp.message_ids())


# -- what the server answers ------------------------------------------------------


def test_a_temporary_refusal_is_tried_again_later(
    mail_app, smtp, make_event, queue_confirmations, time_passes, rows
):
    event = make_event()
    queue_confirmations(event, 3)
    greylisted = rows()[1].recipient
    smtp.answer("451 4.7.1 Greylisted, please try again later", to=greylisted, times=1)
    worker = Worker(mail_app)
    before = utcnow()

    assert worker.run_once().counts == {"sent": 2, "retried": 1}

    [row] = rows(recipient=greylisted)
    assert row.status is QUEUED
    assert "451" in row.last_error and "Greylisted" in row.last_error
    assert row.next_attempt_at >= before + timedelta(seconds=BACKOFF_SECONDS[0])
    assert smtp.to(greylisted) == []
    assert db.session.scalar(select(Suppression.id)) is None

    time_passes()
    assert worker.run_once().counts == {"sent": 1}
    [row] = rows(recipient=greylisted)
    assert row.status is SENT and row.attempts == 2 and row.last_error is None
    assert len(smtp.to(greylisted)) == 1


def test_a_hard_bounce_fails_at_once_and_later_mail_to_the_address_is_not_sent(
    mail_app, smtp, make_event, queue_confirmations, make_registration, rows
):
    event = make_event()
    queue_confirmations(event, 3)
    unknown = rows()[1].recipient  # after a message the batch recorded as sent
    smtp.answer("550 5.1.1 Recipient address rejected: User unknown", to=unknown)
    worker = Worker(mail_app)

    assert worker.run_once().counts == {"sent": 2, "bounced": 1}

    [row] = rows(recipient=unknown)
    assert row.status is FAILED
    assert row.attempts == 1
    assert "550" in row.last_error and "User unknown" in row.last_error
    suppression = db.session.scalar(select(Suppression).where(Suppression.email == unknown))
    assert suppression is not None and "User unknown" in suppression.detail

    smtp.behave()  # the server would take it now; the list still says no
    make_registration(make_event(), email=unknown)
    assert worker.run_once().counts == {"suppressed": 1}

    later = rows(recipient=unknown)[-1]
    assert later.status is FAILED and "suppressed" in later.last_error
    assert smtp.to(unknown) == []


def test_a_bounce_stops_the_rest_of_the_batch_to_that_address_too(
    mail_app, smtp, make_event, make_registration, rows
):
    unknown = "nobody@example.org"
    make_registration(make_event(), email=unknown)
    make_registration(make_event(), email=unknown)
    smtp.answer("550 5.1.1 User unknown", to=unknown, times=1)

    assert Worker(mail_app).run_once().counts == {"bounced": 1, "suppressed": 1}
    assert [row.status for row in rows()] == [FAILED, FAILED]
    assert smtp.to(unknown) == []


def test_a_permanent_refusal_that_is_no_bounce_fails_without_suppressing(
    mail_app, smtp, make_event, queue_confirmations, rows
):
    queue_confirmations(make_event(), 2)
    refused = rows()[0].recipient
    smtp.answer("554 5.7.1 Message rejected as spam", at="DATA", to=refused, times=1)

    assert Worker(mail_app).run_once().counts == {"sent": 1, "failed": 1}
    [row] = rows(recipient=refused)
    assert row.status is FAILED and "554" in row.last_error
    assert db.session.scalar(select(Suppression.id)) is None


CLOSING = "421 4.3.2 Service shutting down, closing channel"


@pytest.mark.parametrize(
    ("reply", "stage"),
    [(CLOSING, "RCPT"), (CLOSING, "DATA"), (None, "RCPT"), (None, "DATA")],
    ids=["421 at RCPT", "421 after the data", "hang-up at RCPT", "hang-up after the data"],
)
def test_a_server_hanging_up_mid_batch_sends_the_rest_on_a_new_connection(
    reply, stage, mail_app, smtp, make_event, queue_confirmations, time_passes, statuses, rows
):
    event = make_event()
    queue_confirmations(event, 10)
    victim = rows()[4].recipient
    if reply:
        smtp.answer(reply, at=stage, to=victim, times=1)
    else:
        smtp.drop(at=stage, to=victim, times=1)
    worker = Worker(mail_app)

    assert worker.run_once().counts == {"sent": 9, "retried": 1}
    assert smtp.connections == 2
    assert statuses() == {"sent": 9, "queued": 1}
    [row] = rows(recipient=victim)
    assert row.status is QUEUED and row.attempts == 1 and row.last_error

    time_passes()
    assert worker.run_once().counts == {"sent": 1}
    assert smtp.count() == 10
    assert set(smtp.recipients().values()) == {1}
    assert set(smtp.message_ids().values()) == {1}


# -- giving up ------------------------------------------------------------------


def test_after_the_last_try_a_message_is_failed_as_a_dead_letter(
    mail_app, smtp, make_event, queue_confirmations, time_passes, rows
):
    event = make_event()
    queue_confirmations(event, 1)
    smtp.answer("451 4.2.1 Mailbox busy")  # for ever
    worker = Worker(mail_app)
    tries = mail_app.config["MAIL_MAX_ATTEMPTS"]
    assert tries >= 5

    outcomes = []
    for _ in range(tries):
        outcomes += list(worker.run_once().counts.elements())
        time_passes()

    assert outcomes == ["retried"] * (tries - 1) + ["failed"]
    [row] = rows()
    assert row.status is FAILED
    assert row.attempts == tries
    assert f"gave up after {tries} tries" in row.last_error and "451" in row.last_error
    assert worker.run_once().counts == {}
    assert smtp.count() == 0


def test_the_back_off_grows_and_spreads_five_tries_over_twenty_minutes():
    for _ in range(500):
        delays = [retry_delay(attempt) for attempt in range(1, len(BACKOFF_SECONDS) + 1)]
        assert all(earlier < later for earlier, later in pairwise(delays))
        assert sum(delays[:5], timedelta()) >= timedelta(minutes=20)
        assert delays[0] >= timedelta(seconds=5)
    assert len({retry_delay(3) for _ in range(20)}) > 1, "jitter spreads the workers' retries"


# -- leases ---------------------------------------------------------------------


def _lease(ids: list[int], *, holder: str, until) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(status=SENDING, locked_by=holder, locked_until=until, attempts=1)
    )
    db.session.commit()


def test_an_expired_lease_is_taken_over_and_a_live_one_is_not(
    mail_app, smtp, make_event, queue_confirmations, rows
):
    event = make_event()
    ids = queue_confirmations(event, 4)
    now = utcnow()
    _lease(ids[:2], holder="dead-worker", until=now - timedelta(seconds=1))
    _lease(ids[2:3], holder="busy-worker", until=now + timedelta(minutes=5))

    assert Worker(mail_app).run_once().counts == {"sent": 3}

    by_id = {row.id: row for row in rows()}
    for taken_over in ids[:2]:
        assert by_id[taken_over].status is SENT
        assert by_id[taken_over].attempts == 2
    held = by_id[ids[2]]
    assert held.status is SENDING and held.locked_by == "busy-worker"
    assert by_id[ids[3]].status is SENT
    assert smtp.to(held.recipient) == []
    assert smtp.count() == 3


def test_two_workers_claim_disjoint_batches_until_the_lease_runs_out(
    mail_app, make_event, queue_confirmations
):
    event = make_event()
    ids = queue_confirmations(event, 5)
    first = Worker(mail_app, worker_id="first", batch_size=3)
    second = Worker(mail_app, worker_id="second", batch_size=3)
    now = utcnow()

    claimed_first = first.claim(now)
    claimed_second = second.claim(now)

    assert len(claimed_first) == 3 and len(claimed_second) == 2
    assert set(claimed_first) | set(claimed_second) == set(ids)
    assert second.claim(now) == []
    later = now + first.lease + timedelta(seconds=1)
    assert sorted(Worker(mail_app, worker_id="third", batch_size=10).claim(later)) == ids


def test_a_batch_that_would_outlive_its_lease_hands_the_rest_back_in_time(
    mail_app, smtp, make_event, queue_confirmations, rows
):
    # 30 messages at 10 a second take 3 s; the lease is 2 s. Sending on past it
    # could race a worker that took the rows over, so the rest goes back.
    mail_app.config.update(MAIL_SEND_RATE=10, MAIL_LEASE_SECONDS=2, MAIL_BATCH_SIZE=30)
    queue_confirmations(make_event(), 30)

    tally = Worker(mail_app).run_once()

    assert tally["sent"] == 30
    assert 0 < tally["released"] < 30
    assert {row.attempts for row in rows()} == {1}
    assert set(smtp.recipients().values()) == {1} and smtp.count() == 30


def test_a_worker_that_lost_its_lease_does_not_record_over_the_new_holder(
    mail_app, smtp, make_event, queue_confirmations, rows
):
    event = make_event()
    queue_confirmations(event, 1)
    slow = Worker(mail_app, worker_id="slow")
    [claimed] = slow.claim(utcnow())
    # The lease ran out and another worker took the row and sent it.
    assert Worker(mail_app, worker_id="fast").claim(utcnow() + slow.lease * 2) == [claimed]
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == claimed)
        .values(status=SENT, locked_by=None, locked_until=None, message_id="<fast@outreach.test>")
    )
    db.session.commit()

    slow._record(claimed, status=QUEUED, last_error="late")

    [row] = rows()
    assert row.status is SENT and row.message_id == "<fast@outreach.test>"


# -- messages that cannot be sent -------------------------------------------------


def test_a_message_whose_registration_is_gone_fails_and_the_batch_goes_on(
    mail_app, smtp, make_event, queue_confirmations, rows
):
    event = make_event()
    queue_confirmations(event, 3)
    orphan = rows()[1]
    db.session.execute(delete(Registration).where(Registration.id == orphan.registration_id))
    db.session.commit()

    assert Worker(mail_app).run_once().counts == {"sent": 2, "failed": 1}

    [row] = rows(id=orphan.id)
    assert row.status is FAILED
    assert row.last_error.startswith("unsendable")
    assert smtp.to(row.recipient) == []
    assert smtp.count() == 2


def test_a_confirmation_overtaken_by_a_cancellation_is_skipped_not_failed(
    mail_app, smtp, make_event, make_registration, rows
):
    outcome = make_registration(make_event(capacity=5))
    cancel_registration(outcome.registration)

    tally = Worker(mail_app).run_once()

    assert tally.counts == {"skipped": 1, "sent": 1}
    [confirmation] = rows(kind=MessageKind.REGISTRATION_CONFIRMED)
    assert confirmation.status is MessageStatus.SKIPPED
    assert confirmation.last_error
    [received] = smtp.messages()
    assert invite_of(received, "CANCEL")


# -- calendars follow the event -----------------------------------------------------


def test_a_moved_event_sends_everyone_an_update_and_a_cancellation_to_the_same_uid(
    mail_app, smtp, make_event, make_registration
):
    event = make_event(languages=["de", "en"])
    people = [
        make_registration(event, language=language).registration.email
        for language in ("de", "en", "de")
    ]
    worker = Worker(mail_app)
    assert worker.run_once()["sent"] == 3
    uid = f"event-{event.uid}@outreach.test"
    new_start = event.starts_at + timedelta(days=1, hours=2)

    reschedule(event, starts_at=new_start, ends_at=new_start + timedelta(hours=2))
    assert worker.run_once()["sent"] == 3
    cancel_event(event, "The venue flooded.")
    assert worker.run_once()["sent"] == 3

    for person in people:
        confirmation, update_, cancellation = smtp.to(person)
        first = invite_of(confirmation, "REQUEST")
        moved = invite_of(update_, "REQUEST")
        called_off = invite_of(cancellation, "CANCEL")
        assert str(first["UID"]) == str(moved["UID"]) == str(called_off["UID"]) == uid
        assert int(first["SEQUENCE"]) < int(moved["SEQUENCE"]) < int(called_off["SEQUENCE"])
        assert moved.decoded("DTSTART") == new_start
        assert str(called_off["STATUS"]) == "CANCELLED"
    assert Counter(row.kind for row in db.session.scalars(select(OutboxMessage))) == {
        MessageKind.REGISTRATION_CONFIRMED: 3,
        MessageKind.EVENT_UPDATED: 3,
        MessageKind.EVENT_CANCELLED: 3,
    }


# -- rate and transports --------------------------------------------------------------


def test_the_send_rate_spaces_the_messages(mail_app, smtp, make_event, queue_confirmations):
    mail_app.config["MAIL_SEND_RATE"] = 20
    queue_confirmations(make_event(), 20)
    worker = Worker(mail_app)

    started = time.monotonic()
    assert worker.run_once().counts == {"sent": 20}
    elapsed = time.monotonic() - started

    # The first message goes at once, the other 19 one twentieth of a second apart.
    assert elapsed >= 19 / 20 - 0.05
    assert smtp.count() == 20


def test_without_an_smtp_server_mail_goes_to_the_development_mailbox(
    app, tmp_path, make_event, make_registration, rows
):
    mailbox = tmp_path / "mailbox"
    app.config["MAILBOX_DIR"] = str(mailbox)
    assert not app.config["MAIL_SERVER"]
    address = make_registration(make_event()).registration.email

    assert Worker(app).run_once().counts == {"sent": 1}

    [file] = mailbox.iterdir()
    assert file.suffix == ".eml"
    message = BytesParser(policy=email.policy.default).parsebytes(file.read_bytes())
    assert address in message["To"]
    [row] = rows()
    assert row.status is SENT and row.message_id == message["Message-ID"]
    invite_of(message, "REQUEST")
