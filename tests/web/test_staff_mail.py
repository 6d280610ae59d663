"""The mail queue page and its JSON: counts, failures with reasons, sending again."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from outreach.extensions import db
from outreach.models import (
    MessageKind,
    MessageStatus,
    OutboxMessage,
    Suppression,
    SuppressionReason,
    utcnow,
)
from tests.web.html import page

_numbers = itertools.count(1)


@pytest.fixture
def staff(make_user, login):
    user = make_user("staff")
    login(user)
    return user


@pytest.fixture
def message(app):
    """Store an outbox row in a given state, as the worker would have left it."""

    def make(status: MessageStatus = MessageStatus.QUEUED, **values) -> OutboxMessage:
        number = next(_numbers)
        kind = values.pop("kind", MessageKind.REGISTRATION_CONFIRMED)
        created = values.pop("created_at", utcnow() - timedelta(minutes=1))
        row = OutboxMessage(
            kind=kind,
            status=status,
            recipient=values.pop("recipient", f"person{number}@example.org"),
            language="de",
            dedupe_key=f"{kind.value}:staff-test:{number}",
            payload={},
            created_at=created,
            next_attempt_at=values.pop("next_attempt_at", created),
            **values,
        )
        db.session.add(row)
        db.session.commit()
        return row

    return make


def _failed(message, **values) -> OutboxMessage:
    values.setdefault("attempts", 8)
    values.setdefault("last_error", "550 5.1.1 Mailbox unavailable")
    return message(MessageStatus.FAILED, **values)


def test_mail_page_shows_counts_and_failures_with_their_reasons(client, staff, message, make_event):
    event = make_event(title="Elternabend")
    message(created_at=utcnow() - timedelta(minutes=90))
    message(MessageStatus.SENT, kind=MessageKind.REMINDER)
    _failed(message, recipient="amina@example.org", event_id=event.id)

    html = page(client.get("/staff/mail?lang=en"))

    status = html.by_id("status-heading").parent.one("dl")
    numbers = {div.one("dt").text: div.one("dd").text for div in status.all("div")}
    assert numbers["Queued"] == "1" and numbers["Sent"] == "1" and numbers["Failed"] == "1"
    assert numbers["Oldest waiting message"] == "queued 90 minutes ago"
    kind_rows = html.by_id("kinds-heading").parent.one("tbody").all("tr")
    kinds = [row.one("th").text for row in kind_rows]
    assert kinds == ["Registration confirmed", "Reminder"]
    [failure] = html.all("li", class_="failure")
    assert "amina@example.org" in failure.text
    assert "550 5.1.1 Mailbox unavailable" in failure.text
    assert failure.all("a", href=f"/staff/events/{event.id}")
    assert html.duplicate_ids() == []


def test_mail_page_has_empty_states(client, staff):
    html = page(client.get("/staff/mail?lang=en"))

    assert "No mail has been sent yet." in html.text
    assert "No message has failed." in html.text
    assert not html.all("form", action="/staff/mail/retry-failed")


def test_a_failed_message_is_sent_again(client, staff, message):
    failed = _failed(message)

    response = client.post(f"/staff/mail/{failed.id}/retry?lang=en")

    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/mail"
    db.session.refresh(failed)
    assert failed.status is MessageStatus.QUEUED and failed.attempts == 0
    assert "The message is back in the queue." in page(client.get("/staff/mail?lang=en")).text


def test_a_message_to_a_suppressed_address_is_not_retried(client, staff, message):
    failed = _failed(message, recipient="gone@example.org")
    db.session.add(Suppression(email="gone@example.org", reason=SuppressionReason.HARD_BOUNCE))
    db.session.commit()

    response = client.post(f"/staff/mail/{failed.id}/retry?lang=en")

    assert response.status_code == 409
    assert "is on the suppression list" in page(response).one(role="alert").text
    db.session.refresh(failed)
    assert failed.status is MessageStatus.FAILED


def test_retrying_a_message_that_has_not_failed_or_does_not_exist(client, staff, message):
    sent = message(MessageStatus.SENT)

    assert client.post(f"/staff/mail/{sent.id}/retry").status_code == 409
    assert client.post("/staff/mail/999999/retry").status_code == 404


def test_all_failed_messages_are_sent_again(client, staff, message):
    failures = [_failed(message) for _ in range(3)]

    response = client.post("/staff/mail/retry-failed?lang=en")

    assert response.status_code == 303
    for failed in failures:
        db.session.refresh(failed)
        assert failed.status is MessageStatus.QUEUED
    assert "3 messages are back in the queue." in page(client.get("/staff/mail?lang=en")).text


def test_mail_json_has_counts_oldest_age_and_failures(client, staff, message):
    message(created_at=utcnow() - timedelta(minutes=10))
    failed = _failed(message, kind=MessageKind.REMINDER)

    response = client.get("/staff/mail.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {
        "total",
        "counts",
        "by_kind",
        "due_now",
        "expired_leases",
        "oldest_queued_age_seconds",
        "failed_count",
        "failed",
    }
    assert body["counts"] == {"queued": 1, "sending": 0, "sent": 0, "failed": 1, "skipped": 0}
    assert body["total"] == 2 and body["failed_count"] == 1 and body["due_now"] == 1
    assert 590 <= body["oldest_queued_age_seconds"] <= 700
    assert set(body["by_kind"]) == {"registration_confirmed", "reminder"}
    [item] = body["failed"]
    assert item["id"] == failed.id and item["kind"] == "reminder"
    assert item["recipient"] == failed.recipient and item["attempts"] == 8
    assert item["last_error"] == "550 5.1.1 Mailbox unavailable"


def test_mail_json_on_an_empty_queue(client, staff):
    body = client.get("/staff/mail.json").get_json()

    assert body["total"] == 0 and body["failed"] == [] and body["by_kind"] == {}
    assert body["oldest_queued_age_seconds"] is None


def test_dashboard_links_failures_to_the_mail_page(client, staff, message):
    _failed(message)
    _failed(message)

    html = page(client.get("/staff/?lang=en"))

    link = html.by_id("mail-heading").parent.one("a", href="/staff/mail#failed-heading")
    assert link.text == "2 messages failed: see why and send them again"
