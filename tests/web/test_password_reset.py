"""Forgotten passwords and invitations: emailed links, used once, to choose a password."""

from __future__ import annotations

import email.policy
import re
import time
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from config import TestingConfig
from outreach import create_app
from outreach.extensions import db
from outreach.mail.compose import Superseded, compose
from outreach.mail.worker import Worker
from outreach.models import MessageKind, MessageStatus, OutboxMessage, Role
from outreach.services.account_links import RESET, issue_link_token
from outreach.services.users import create_user
from tests.web.html import page

PASSWORD = "correct horse battery"
NEW = "a brand new passphrase"
SENT = "If an account exists for that address, we have sent a link"
INVALID = "This link is not valid any more."


@pytest.fixture
def user(app):
    return create_user(email="amina@example.org", role=Role.STAFF, password=PASSWORD, name="Amina")


def outbox(kind: MessageKind) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))


def log_in(client, email: str, password: str):
    return client.post("/login", data={"email": email, "password": password})


def logged_in_user_id(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("_user_id")


def parse(row: OutboxMessage) -> EmailMessage:
    return BytesParser(policy=email.policy.default).parsebytes(compose(row).raw)


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def link_in(message: EmailMessage, path: str) -> str:
    match = re.search(
        rf"http://outreach\.test({re.escape(path)}[A-Za-z0-9_.\-]+)", text_of(message)
    )
    assert match, text_of(message)
    return match.group(1)


def test_the_login_page_links_to_forgot_password(client):
    login = page(client.get("/login?lang=en"))
    assert login.one("a", href="/password/forgot").text.strip() == "Forgot your password?"


def test_a_reset_from_request_to_new_password(client, user):
    form = client.get("/password/forgot?lang=en")
    assert form.status_code == 200

    response = client.post("/password/forgot?lang=en", data={"email": "Amina@example.org"})

    assert response.status_code == 200
    assert SENT in page(response).text
    [row] = outbox(MessageKind.PASSWORD_RESET)
    assert row.language == "en"
    message = parse(row)
    path = link_in(message, "/password/reset/")
    assert path == f"/password/reset/{row.payload['token']}"
    assert path in html_of(message)

    form_page = page(client.get(path + "?lang=en"))
    assert form_page.one("h1").text.strip() == "Choose a new password"
    done = client.post(path, data={"password": NEW, "confirm": NEW})

    assert done.status_code == 303
    assert done.headers["Location"] == "/login"
    assert log_in(client, "amina@example.org", PASSWORD).status_code == 401
    assert log_in(client, "amina@example.org", NEW).status_code == 303

    again = client.post(path + "?lang=en", data={"password": "third passphrase", "confirm": "x"})
    assert again.status_code == 404
    assert INVALID in page(again).text
    assert client.get(path).status_code == 404
    # Composing the used link now would send a dead link: it is superseded instead.
    with pytest.raises(Superseded, match="has been used"):
        compose(row)


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, user):
    known = client.post("/password/forgot?lang=en", data={"email": "amina@example.org"})
    unknown = client.post("/password/forgot?lang=en", data={"email": "nobody@example.org"})

    assert known.status_code == unknown.status_code == 200
    assert page(known).one("main").text == page(unknown).one("main").text
    assert len(outbox(MessageKind.PASSWORD_RESET)) == 1


def test_asking_twice_within_ten_minutes_sends_one_mail(client, user):
    for _ in range(3):
        client.post("/password/forgot", data={"email": "amina@example.org"})
    assert len(outbox(MessageKind.PASSWORD_RESET)) == 1


def test_an_expired_link_is_refused_kindly(client, user, monkeypatch):
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 3601)
    token = issue_link_token(user, RESET)
    monkeypatch.undo()

    response = client.post(
        f"/password/reset/{token}?lang=en", data={"password": NEW, "confirm": NEW}
    )

    assert response.status_code == 404
    assert INVALID in page(response).text
    assert page(response).one("a", href="/password/forgot")
    assert log_in(client, "amina@example.org", NEW).status_code == 401


def test_a_forged_link_is_refused(client):
    assert client.get("/password/reset/not-a-token").status_code == 404
    assert client.get("/invitation/not-a-token").status_code == 404


def test_the_new_password_must_be_long_enough_and_repeated(client, user):
    path = f"/password/reset/{issue_link_token(user, RESET)}?lang=en"

    short = client.post(path, data={"password": "short", "confirm": "short"})
    different = client.post(path, data={"password": NEW, "confirm": NEW + "!"})

    assert short.status_code == different.status_code == 422
    assert "Please use at least 10 characters." in page(short).text
    assert "The two passwords are not the same." in page(different).text
    assert log_in(client, "amina@example.org", PASSWORD).status_code == 303


def test_an_invitation_from_the_cli_to_the_account_page(client, runner, make_org):
    make_org(slug="sahel-forum", name="Sahel Forum")

    result = runner.invoke(
        args=[
            "outreach",
            "invite-user",
            "--email",
            "fatou@example.org",
            "--org",
            "sahel-forum",
            "--name",
            "Fatou Ndiaye",
        ]
    )

    assert result.exit_code == 0, result.output
    assert "fatou@example.org" in result.output
    [row] = outbox(MessageKind.USER_INVITATION)
    assert row.language == "de" and row.status is MessageStatus.QUEUED
    message = parse(row)
    assert message["Subject"] == "Sie sind zu Outreach eingeladen"
    assert "Sahel Forum" in text_of(message) and "Hallo Fatou Ndiaye," in text_of(message)
    assert not [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    path = link_in(message, "/invitation/")
    assert log_in(client, "fatou@example.org", "").status_code != 303

    form = client.get(path + "?lang=en")
    assert form.status_code == 200
    assert page(form).one("h1").text.strip() == "Accept the invitation"
    assert "Sahel Forum" in page(form).text
    accepted = client.post(path, data={"password": NEW, "confirm": NEW})

    assert accepted.status_code == 303
    assert accepted.headers["Location"] == "/account"
    assert logged_in_user_id(client) is not None
    account = page(client.get("/account?lang=en")).text
    assert "Sahel Forum" in account and "Partner organisation" in account
    assert client.get(path).status_code == 404  # used


def test_the_cli_refuses_an_unknown_organisation(runner):
    result = runner.invoke(
        args=["outreach", "invite-user", "--email", "x@example.org", "--org", "nowhere"]
    )
    assert result.exit_code != 0
    assert "nowhere" in result.output


def test_a_reset_mail_in_german_and_english(client, user):
    client.post("/password/forgot?lang=de", data={"email": "amina@example.org"})
    [row] = outbox(MessageKind.PASSWORD_RESET)
    german = parse(row)
    assert german["Content-Language"] == "de"
    assert german["Subject"] == "Neues Passwort für Outreach wählen"
    assert "Hallo Amina," in text_of(german)
    assert 'lang="de"' in html_of(german)

    row.language = "en"
    english = parse(row)
    assert english["Subject"] == "Choose a new password for Outreach"
    assert "The link works once, for 60 minutes." in text_of(english)


def test_forgot_password_is_throttled(database_url):
    limited = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=database_url,
        RATELIMIT_ENABLED=True,
        RATELIMIT_PASSWORD_RESET="2 per minute",
    )
    try:
        client = limited.test_client()
        statuses = [
            client.post("/password/forgot", data={"email": "a@example.org"}).status_code
            for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
        assert client.get("/password/forgot").status_code == 200
    finally:
        with limited.app_context():
            db.engine.dispose()


def test_the_forms_need_the_csrf_token(app, database_url, user):
    protected = create_app(
        TestingConfig, SQLALCHEMY_DATABASE_URI=database_url, WTF_CSRF_ENABLED=True
    )
    token = issue_link_token(user, RESET)
    try:
        client = protected.test_client()
        forgot = client.post("/password/forgot", data={"email": "amina@example.org"})
        reset = client.post(f"/password/reset/{token}", data={"password": NEW, "confirm": NEW})
        assert forgot.status_code == reset.status_code == 400
    finally:
        with protected.app_context():
            db.engine.dispose()


def test_the_worker_sends_a_reset_and_skips_one_whose_link_was_used(app, client, user, tmp_path):
    app.config["MAILBOX_DIR"] = str(tmp_path / "mailbox")
    client.post("/password/forgot", data={"email": "amina@example.org"})

    assert Worker(app).run_once().counts == {"sent": 1}
    [row] = outbox(MessageKind.PASSWORD_RESET)
    assert row.status is MessageStatus.SENT

    other = create_user(email="ben@example.org", role=Role.STAFF, password=PASSWORD)
    client.post("/password/forgot", data={"email": "ben@example.org"})
    [pending] = [r for r in outbox(MessageKind.PASSWORD_RESET) if r.recipient == other.email]
    client.post(
        f"/password/reset/{pending.payload['token']}", data={"password": NEW, "confirm": NEW}
    )

    assert Worker(app).run_once().counts == {"skipped": 1}


def test_a_new_password_ends_every_other_session(app, client, user):
    elsewhere = app.test_client()
    assert log_in(elsewhere, "amina@example.org", PASSWORD).status_code == 303
    remembered = app.test_client()
    remembered.post(
        "/login", data={"email": "amina@example.org", "password": PASSWORD, "remember": "y"}
    )
    assert remembered.get_cookie("remember_token") is not None
    client.post("/password/forgot", data={"email": "amina@example.org"})
    [row] = outbox(MessageKind.PASSWORD_RESET)
    path = link_in(parse(row), "/password/reset/")

    client.post(path, data={"password": NEW, "confirm": NEW})

    assert elsewhere.get("/account").status_code == 302
    # Only the remember-me cookie is left: it names the old password too.
    remembered.delete_cookie("session")
    assert remembered.get("/account").status_code == 302
    assert log_in(elsewhere, "amina@example.org", NEW).status_code == 303
    assert elsewhere.get("/account").status_code == 200
