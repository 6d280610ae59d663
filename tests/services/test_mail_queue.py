"""The mail queue for staff: counts, the failed messages, and sending them again.

The services here are what the staff pages will call; ``flask outreach
queue`` calls them today, so its commands are tested here too.
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import (
    MessageKind,
    MessageStatus,
    OutboxMessage,
    Suppression,
    SuppressionReason,
    utcnow,
)
from outreach.services import mail_queue
from outreach.services.errors import MessageNotFound, MessageNotRetryable

NOW = utcnow().replace(microsecond=0)
_keys = itertools.count(1)


@pytest.fixture
def make_message(app):
    """Store an outbox row in a given state, as the worker would have left it."""

    def make(
        status: MessageStatus = MessageStatus.QUEUED,
        kind: MessageKind = MessageKind.REGISTRATION_CONFIRMED,
        **values,
    ) -> OutboxMessage:
        number = next(_keys)
        values.setdefault("recipient", f"person{number}@example.org")
        values.setdefault("created_at", NOW - timedelta(minutes=1))
        values.setdefault("next_attempt_at", values["created_at"])
        message = OutboxMessage(
            kind=kind,
            status=status,
            language="de",
            dedupe_key=f"{kind.value}:test:{number}",
            payload={},
            **values,
        )
        db.session.add(message)
        db.session.commit()
        return message

    return make


@pytest.fixture
def failed(make_message):
    """A message the worker gave up on after its retries."""

    def make(**values) -> OutboxMessage:
        values.setdefault("attempts", 8)
        values.setdefault("last_error", "451 4.3.0 Mail server temporarily rejected message")
        values.setdefault("next_attempt_at", NOW - timedelta(hours=3))
        values.setdefault("locked_by", "worker-1")
        values.setdefault("locked_until", NOW - timedelta(hours=3))
        return make_message(MessageStatus.FAILED, **values)

    return make


def fresh(message_id: int) -> OutboxMessage:
    db.session.rollback()
    return db.session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .execution_options(populate_existing=True)
    ).scalar_one()


def suppress(address: str) -> None:
    db.session.add(Suppression(email=address, reason=SuppressionReason.HARD_BOUNCE))
    db.session.commit()


# Counts


def test_an_empty_queue_counts_zero_for_every_status_and_kind(app):
    counts = mail_queue.queue_counts(now=NOW)

    assert counts["total"] == 0
    assert counts["by_status"] == {status.value: 0 for status in MessageStatus}
    assert set(counts["by_kind"]) == {kind.value for kind in MessageKind}
    assert all(numbers["total"] == 0 for numbers in counts["by_kind"].values())
    assert counts["due_now"] == 0
    assert counts["oldest_queued_at"] is None
    assert counts["oldest_queued_age_seconds"] is None
    assert counts["expired_leases"] == 0


def test_counts_group_by_status_and_kind_and_say_what_is_due(make_message, failed):
    confirmed = MessageKind.REGISTRATION_CONFIRMED
    reminder = MessageKind.REMINDER
    make_message(kind=confirmed, created_at=NOW - timedelta(minutes=30))  # due, the oldest
    make_message(kind=reminder, created_at=NOW - timedelta(minutes=5))  # due
    # Waiting for its next try after a transient failure: queued but not due.
    make_message(
        kind=reminder,
        created_at=NOW - timedelta(minutes=10),
        next_attempt_at=NOW + timedelta(minutes=5),
        attempts=2,
    )
    make_message(MessageStatus.SENT, kind=confirmed, created_at=NOW - timedelta(days=2))
    make_message(MessageStatus.SENT, kind=confirmed)
    make_message(
        MessageStatus.SENDING, kind=reminder, locked_by="w", locked_until=NOW - timedelta(seconds=1)
    )
    make_message(
        MessageStatus.SENDING, kind=reminder, locked_by="w", locked_until=NOW + timedelta(minutes=4)
    )
    failed(kind=MessageKind.EVENT_UPDATED)

    counts = mail_queue.queue_counts(now=NOW)

    assert counts["total"] == 8
    assert counts["by_status"] == {"queued": 3, "sending": 2, "sent": 2, "failed": 1, "skipped": 0}
    assert counts["by_kind"]["registration_confirmed"] == {
        "queued": 1,
        "sending": 0,
        "sent": 2,
        "failed": 0,
        "skipped": 0,
        "total": 3,
    }
    assert counts["by_kind"]["reminder"]["queued"] == 2
    assert counts["by_kind"]["reminder"]["sending"] == 2
    assert counts["by_kind"]["event_updated"]["failed"] == 1
    assert counts["by_kind"]["waitlist_promoted"]["total"] == 0
    # The two due, and the one whose worker let its lease run out.
    assert counts["due_now"] == 3
    assert counts["oldest_queued_at"] == NOW - timedelta(minutes=30)
    assert counts["oldest_queued_age_seconds"] == 30 * 60
    assert counts["expired_leases"] == 1


# Failed messages


def test_failed_messages_are_listed_newest_first_with_their_reasons(make_message, failed):
    make_message(MessageStatus.SENT)
    make_message(MessageStatus.QUEUED, last_error="421 try later", attempts=1)
    older = failed(last_error="550 5.1.1 No such user", attempts=1)
    newer = failed()

    listed = mail_queue.failed_messages()

    assert [message.id for message in listed] == [newer.id, older.id]
    assert listed[1].last_error == "550 5.1.1 No such user"
    assert listed[1].attempts == 1
    assert listed[0].attempts == 8


def test_failed_messages_stop_at_the_limit(failed):
    for _ in range(3):
        failed()

    assert len(mail_queue.failed_messages(limit=2)) == 2


# Retry


def test_retry_puts_a_failed_message_back_in_the_queue_due_now(failed):
    message = failed()

    retried = mail_queue.retry(message.id, now=NOW)

    assert retried.id == message.id
    stored = fresh(message.id)
    assert stored.status is MessageStatus.QUEUED
    assert stored.attempts == 0
    assert stored.next_attempt_at == NOW
    assert stored.locked_by is None
    assert stored.locked_until is None
    # Why it failed stays visible until the next attempt says otherwise.
    assert stored.last_error == "451 4.3.0 Mail server temporarily rejected message"
    assert mail_queue.queue_counts(now=NOW)["due_now"] == 1


@pytest.mark.parametrize(
    "status", [MessageStatus.SENT, MessageStatus.QUEUED, MessageStatus.SENDING]
)
def test_retry_refuses_a_message_that_has_not_failed(make_message, status):
    message = make_message(status, attempts=1, message_id="<abc@outreach.test>")

    with pytest.raises(MessageNotRetryable):
        mail_queue.retry(message.id, now=NOW)

    stored = fresh(message.id)
    assert stored.status is status
    assert stored.attempts == 1


def test_retry_refuses_an_unknown_message(app):
    with pytest.raises(MessageNotFound):
        mail_queue.retry(4711)


def test_retry_refuses_a_message_to_a_suppressed_address(failed):
    message = failed(recipient="gone@example.org", last_error="550 5.1.1 No such user")
    suppress("gone@example.org")

    with pytest.raises(MessageNotRetryable, match=re.escape("gone@example.org")):
        mail_queue.retry(message.id)

    assert fresh(message.id).status is MessageStatus.FAILED


def test_retry_all_failed_requeues_every_failed_message_except_to_suppressed_addresses(
    make_message, failed
):
    first, second = failed(), failed(attempts=3)
    bounced = failed(recipient="gone@example.org")
    suppress("gone@example.org")
    sent = make_message(MessageStatus.SENT)

    assert mail_queue.retry_all_failed(now=NOW) == 2

    for message in (first, second):
        stored = fresh(message.id)
        assert (stored.status, stored.attempts, stored.next_attempt_at) == (
            MessageStatus.QUEUED,
            0,
            NOW,
        )
        assert stored.locked_by is None
    assert fresh(bounced.id).status is MessageStatus.FAILED
    assert fresh(sent.id).status is MessageStatus.SENT
    assert mail_queue.retry_all_failed(now=NOW) == 0


# flask outreach queue …


def invoke(runner, *args):
    return runner.invoke(args=["outreach", "queue", *args])


def test_queue_command_prints_the_counts_as_a_table(runner, make_message, failed):
    make_message(kind=MessageKind.REMINDER, created_at=utcnow() - timedelta(minutes=90))
    make_message(MessageStatus.SENT)
    failed()

    result = invoke(runner)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["kind", "queued", "sending", "sent", "failed", "skipped", "total"]
    assert ["reminder", "1", "0", "0", "0", "0", "1"] in [line.split() for line in lines]
    assert ["registration_confirmed", "0", "0", "1", "1", "0", "2"] in [
        line.split() for line in lines
    ]
    assert ["all", "1", "0", "1", "1", "0", "3"] in [line.split() for line in lines]
    assert "Due now: 1." in result.output
    assert "Oldest queued: 1 h 30 min ago." in result.output


def test_queue_command_prints_json_on_request(runner, make_message):
    make_message(created_at=NOW - timedelta(minutes=2))

    result = invoke(runner, "--json")

    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert counts["by_status"]["queued"] == 1
    assert counts["by_kind"]["registration_confirmed"]["queued"] == 1
    assert counts["due_now"] == 1
    assert counts["oldest_queued_at"] == (NOW - timedelta(minutes=2)).isoformat()


def test_queue_failed_lists_ids_and_reasons(runner, make_message, failed):
    make_message(MessageStatus.SENT)
    message = failed(last_error="550 5.1.1 <x@example.org>: Recipient address rejected")

    result = invoke(runner, "failed")
    as_json = json.loads(invoke(runner, "failed", "--json").output)

    assert result.exit_code == 0, result.output
    [row] = [line for line in result.output.splitlines() if line.startswith(str(message.id))]
    assert message.recipient in row
    assert "550 5.1.1" in row
    assert [(m["id"], m["attempts"], m["last_error"]) for m in as_json] == [
        (message.id, 8, "550 5.1.1 <x@example.org>: Recipient address rejected")
    ]


def test_queue_failed_says_when_there_are_none(runner):
    result = invoke(runner, "failed")

    assert result.exit_code == 0
    assert "No failed messages." in result.output


def test_queue_retry_requeues_one_message(runner, failed):
    message = failed()

    result = invoke(runner, "retry", str(message.id))

    assert result.exit_code == 0, result.output
    assert f"Message {message.id}" in result.output
    assert fresh(message.id).status is MessageStatus.QUEUED


def test_queue_retry_refuses_a_sent_message_with_a_readable_error(runner, make_message):
    message = make_message(MessageStatus.SENT)

    result = invoke(runner, "retry", str(message.id))

    assert result.exit_code == 1
    assert MessageNotRetryable().message in result.output
    assert "Traceback" not in result.output
    assert fresh(message.id).status is MessageStatus.SENT


def test_queue_retry_all_failed_requeues_them_all(runner, failed):
    messages = [failed(), failed()]
    failed(recipient="gone@example.org")
    suppress("gone@example.org")

    result = invoke(runner, "retry", "--all-failed")

    assert result.exit_code == 0, result.output
    assert "2 failed messages queued again." in result.output
    assert "1 stay failed" in result.output
    assert {fresh(message.id).status for message in messages} == {MessageStatus.QUEUED}


@pytest.mark.parametrize("args", [[], ["1", "--all-failed"]], ids=["neither", "both"])
def test_queue_retry_wants_an_id_or_all_failed(runner, args):
    result = invoke(runner, "retry", *args)

    assert result.exit_code == 2
    assert "either a message id or --all-failed" in result.output
