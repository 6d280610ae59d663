"""Asking for one's data or its erasure on the website, through the real outbox and worker.

Every link is read from the message the worker wrote to the development mailbox.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from config import TestingConfig
from outreach import create_app
from outreach.extensions import db
from outreach.mail.suppression import hashed_address
from outreach.mail.worker import Worker
from outreach.models import (
    AuditEntry,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    PrivacyRequest,
    PrivacyRequestKind,
    PrivacyRequestStatus,
    Registration,
    RegistrationStatus,
)
from tests.privacy_helpers import everywhere, link_in, mails_to, text_of
from tests.web.html import page

FORM = "/privacy/request"
SENT = "/privacy/request/sent"
ADA = "ada@example.org"


@pytest.fixture
def mailbox(app, tmp_path) -> Path:
    app.config["MAILBOX_DIR"] = str(tmp_path / "mailbox")
    return tmp_path / "mailbox"


@pytest.fixture
def deliver(app, mailbox):
    """Run the worker once; return the request links' messages in the mailbox for an address."""

    def run(address: str = ADA):
        Worker(app).run_once()
        db.session.rollback()
        return [mail for mail in mails_to(mailbox, address) if "/privacy/request/" in text_of(mail)]

    return run


def ask(client, kind: str = "export", email: str = ADA, lang: str = "en", **extra):
    return client.post(f"{FORM}?lang={lang}", data={"email": email, "kind": kind, **extra})


def requests() -> list[PrivacyRequest]:
    db.session.rollback()
    return list(db.session.scalars(select(PrivacyRequest).order_by(PrivacyRequest.id)))


def audit_actions() -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def turn_back_clock(field: str, **delta: float) -> None:
    """Move a time of every request into the past."""
    for request in requests():
        setattr(request, field, getattr(request, field) - timedelta(**delta))
    db.session.commit()


def open_link(client, deliver, kind: str = "export") -> str:
    assert ask(client, kind).status_code == 303
    [mail] = deliver()
    return link_in(mail)


# -- the form -------------------------------------------------------------------------------


def test_the_form_asks_for_an_address_and_a_choice_and_hides_the_trap(client):
    response = client.get(f"{FORM}?lang=en")

    assert response.status_code == 200
    html = page(response)
    assert html.one("input", name="email", type="email")
    assert {radio.attrs["value"] for radio in html.all("input", name="kind")} == {
        "export",
        "erasure",
    }
    trap = html.one("input", name="homepage")
    assert trap.parent.attrs["aria-hidden"] == "true"
    assert html.one("input", name="rendered_at", type="hidden")
    assert html.unlabelled_controls() == []
    assert html.duplicate_ids() == []


def test_the_answer_is_the_same_for_a_known_and_an_unknown_address(
    client, deliver, make_event, make_registration
):
    make_registration(make_event(), email=ADA)

    known = ask(client, email=ADA)
    unknown = ask(client, email="nobody@example.org")

    assert (known.status_code, known.location) == (303, SENT)
    assert (unknown.status_code, unknown.location) == (303, SENT)
    sent = client.get(f"{SENT}?lang=en")
    assert "If we hold data for this address, we have sent a link" in page(sent).text
    # Both get the mail: behind the link, the stranger learns we hold nothing.
    assert len(deliver(ADA)) == 1 and len(deliver("nobody@example.org")) == 1


def test_a_wrong_address_or_choice_is_named_at_its_field(client, counts):
    response = client.post(f"{FORM}?lang=en", data={"email": "not an address", "kind": "sell"})

    assert response.status_code == 422
    html = page(response)
    assert "Please enter a valid email address." in html.text
    assert "Please choose what you would like us to do." in html.text
    assert requests() == [] and counts() == (0, 0)


def test_a_robot_filling_the_trap_is_answered_as_a_person_and_nothing_happens(client, counts):
    response = ask(client, homepage="http://spam.example")

    assert (response.status_code, response.location) == (303, SENT)
    assert requests() == [] and counts() == (0, 0)


def test_asking_again_within_ten_minutes_sends_no_second_mail(client, deliver):
    ask(client, "export")
    ask(client, "export")
    ask(client, "erasure")

    assert [r.kind for r in requests()] == [PrivacyRequestKind.EXPORT, PrivacyRequestKind.ERASURE]
    assert len(deliver()) == 2

    turn_back_clock("requested_at", minutes=11)
    ask(client, "export")
    assert len(requests()) == 3


def test_the_mail_explains_the_link_in_the_requests_language(client, deliver):
    ask(client, "erasure", lang="en")

    [mail] = deliver()

    assert mail["Content-Language"] == "en"
    assert str(mail["Subject"]) == "Your request to erase your data at Outreach"
    text = text_of(mail)
    assert "Opening the link erases nothing yet" in text
    assert "If you did not ask for this, you can ignore this email" in text
    assert "48 hours" in text


# -- the link -------------------------------------------------------------------------------


def test_opening_the_link_changes_nothing_and_keeps_it_private(client, deliver):
    link = open_link(client, deliver, "erasure")

    response = client.get(f"{link}?lang=en")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    html = page(response)
    assert "Nothing is erased yet" in html.text
    assert html.one("form").attrs["method"] == "post"
    [request] = requests()
    assert request.status is PrivacyRequestStatus.PENDING and request.confirmed_at is None
    assert "person.exported" not in audit_actions()


def test_a_person_we_know_nothing_about_learns_it_behind_the_link(client, deliver):
    link = open_link(client, deliver, "export")

    html = page(client.get(f"{link}?lang=en"))

    assert "We hold no data about this address, apart from your request." in html.text


def test_an_expired_or_unknown_link_offers_to_ask_again(client, deliver, app):
    link = open_link(client, deliver, "export")
    turn_back_clock("requested_at", hours=49)

    for response in (
        client.get(f"{link}?lang=en"),
        client.post(f"{link}?lang=en"),
        client.get(f"{link}/data.json?lang=en"),
        client.get(f"{FORM}/{'x' * 43}?lang=en"),
        client.get(f"{FORM}/short?lang=en"),
    ):
        assert response.status_code == 404
        html = page(response)
        assert "This link does not work any more" in html.text
        assert html.one("a", href=FORM).text == "Ask again"
    assert requests()[0].status is PrivacyRequestStatus.PENDING


def test_the_link_mail_of_an_expired_request_is_not_sent(client, deliver):
    ask(client, "export")
    turn_back_clock("requested_at", hours=49)

    assert deliver() == []
    [row] = db.session.scalars(select(OutboxMessage)).all()
    assert row.status is MessageStatus.SKIPPED


def test_an_export_from_asking_to_downloading(client, deliver, make_event, make_registration):
    event = make_event(title="Erzählcafé")
    make_registration(event, email=ADA, name="Ada Lovelace")
    link = open_link(client, deliver, "export")

    confirmed = client.post(f"{link}?lang=en")
    assert (confirmed.status_code, confirmed.location) == (303, link)

    shown = client.get(f"{link}?lang=en")
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    html = page(shown)
    assert "Erzählcafé" in html.text and "Ada Lovelace" in html.text
    download = html.one("a", href=f"{link}/data.json")
    assert download.attrs.get("download") is not None

    response = client.get(f"{link}/data.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    data = json.loads(response.get_data(as_text=True))
    assert data["email"] == ADA
    assert [r["event"]["title"] for r in data["registrations"]] == ["Erzählcafé"]
    assert [r["kind"] for r in data["privacy_requests"]] == ["export"]

    exported = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "person.exported").order_by(AuditEntry.id)
    ).all()
    assert [entry.comment for entry in exported] == ["html", "json"]
    assert all(entry.changes == {"email_hash": hashed_address(ADA)} for entry in exported)
    assert all(entry.subject_type == "privacy_requests" for entry in exported)

    # An hour after the confirmation the data is no longer on show.
    turn_back_clock("completed_at", hours=1)
    assert client.get(link).status_code == 404
    assert client.get(f"{link}/data.json").status_code == 404


def test_the_download_waits_for_the_confirmation(client, deliver):
    link = open_link(client, deliver, "export")

    assert client.get(f"{link}/data.json").status_code == 404
    assert "person.exported" not in audit_actions()


def test_an_erasure_from_asking_to_done(client, deliver, make_event, make_registration, outbox):
    event = make_event(title="Sommerfest", capacity=1)
    mine = make_registration(event, email=ADA, name="Ada Lovelace").registration
    theirs = make_registration(event, email="ben@example.org", name="Ben").registration
    link = open_link(client, deliver, "erasure")

    first = client.post(f"{link}?lang=en")
    assert (first.status_code, first.location) == (303, link)
    assert requests()[0].status is PrivacyRequestStatus.CONFIRMED
    assert db.session.get(Registration, mine.id).name == "Ada Lovelace"  # nothing gone yet

    plan = page(client.get(f"{link}?lang=en"))
    assert "1 registration for an event" in plan.text
    assert "it is cancelled first" in plan.text
    assert "An erasure cannot be undone." in plan.text
    [button] = plan.all("form")
    assert button.attrs["action"] == f"{link}/erase"

    erased = client.post(f"{link}/erase?lang=en")
    assert (erased.status_code, erased.location) == (303, link)
    done = client.get(f"{link}?lang=en")
    assert done.status_code == 200
    assert "Your data is erased" in page(done).text

    assert everywhere(ADA) == []
    [request] = requests()
    assert request.status is PrivacyRequestStatus.COMPLETED
    assert (request.email, request.email_hash) == (None, hashed_address(ADA))
    assert db.session.get(Registration, theirs.id).status is RegistrationStatus.CONFIRMED
    assert [row.registration_id for row in outbox(kind=MessageKind.WAITLIST_PROMOTED)] == [
        theirs.id
    ]
    assert outbox(kind=MessageKind.REGISTRATION_CANCELLED) == []
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "person.erased"))
    assert (entry.subject_type, entry.subject_id) == ("privacy_requests", request.id)
    # Pressing again erases nothing more and says the same.
    assert client.post(f"{link}/erase").status_code == 303
    assert (
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "person.erased")
        )
        == 1
    )


def test_the_erase_button_does_nothing_before_the_first_confirmation(client, deliver):
    link = open_link(client, deliver, "erasure")

    assert client.post(f"{link}/erase").status_code == 404
    assert requests()[0].status is PrivacyRequestStatus.PENDING


def test_an_export_link_cannot_erase(client, deliver, make_event, make_registration):
    make_registration(make_event(), email=ADA)
    link = open_link(client, deliver, "export")
    client.post(link)

    assert client.post(f"{link}/erase").status_code == 404
    assert db.session.scalar(select(func.count()).where(Registration.email == ADA)) == 1


# -- too many requests ----------------------------------------------------------------------


def test_too_many_requests_get_a_429_with_retry_after(app, database_url):
    limited = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=database_url,
        RATELIMIT_ENABLED=True,
        RATELIMIT_PRIVACY_REQUEST="2 per hour",
    )
    try:
        client = limited.test_client()
        statuses = [ask(client, email=f"p{n}@example.org").status_code for n in range(3)]
        assert statuses == [303, 303, 429]
        refused = ask(client, email="p9@example.org")
        assert refused.status_code == 429
        assert 0 < int(refused.headers["Retry-After"]) <= 3600
        assert client.get(FORM).status_code == 200  # only submissions are counted
        with limited.app_context():
            assert db.session.scalar(select(func.count(PrivacyRequest.id))) == 2
    finally:
        with limited.app_context():
            db.engine.dispose()
