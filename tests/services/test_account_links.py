"""Signed links to set a password: single use, expiring, one purpose each."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import MessageKind, OutboxMessage, Role
from outreach.services import account_links
from outreach.services.account_links import (
    INVITATION,
    RESET,
    LinkInvalid,
    accept_invitation,
    invite_partner_user,
    issue_link_token,
    request_password_reset,
    reset_password,
    verify_link_token,
)
from outreach.services.errors import InvalidInput
from outreach.services.users import authenticate, create_user

PASSWORD = "correct horse battery"
NEW = "a brand new passphrase"
NOW = datetime(2031, 3, 1, 9, 0, 10, tzinfo=UTC)


@pytest.fixture
def user(app):
    return create_user(email="amina@example.org", role=Role.STAFF, password=PASSWORD)


def outbox(kind: MessageKind) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))


def test_a_link_names_its_user_and_works_once(user):
    token = issue_link_token(user, RESET)
    assert verify_link_token(token, RESET) is user

    reset_password(token, NEW)

    assert verify_link_token(token, RESET) is None
    with pytest.raises(LinkInvalid):
        reset_password(token, "yet another passphrase")
    assert authenticate("amina@example.org", NEW) is user


def test_a_reset_link_is_no_invitation_link(user):
    assert verify_link_token(issue_link_token(user, RESET), INVITATION) is None
    assert verify_link_token(issue_link_token(user, INVITATION), RESET) is None


@pytest.mark.parametrize("token", ["", "garbage", "eyJ1IjoxfQ.abc.def"])
def test_forged_links_are_refused(user, token):
    assert verify_link_token(token, RESET) is None


def test_an_expired_link_is_refused(user, monkeypatch):
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 3601)
    old = issue_link_token(user, RESET)
    monkeypatch.undo()

    assert verify_link_token(old, RESET) is None
    with pytest.raises(LinkInvalid):
        reset_password(old, NEW)
    assert authenticate("amina@example.org", PASSWORD) is user


def test_the_max_age_comes_from_the_configuration(app, user):
    token = issue_link_token(user, RESET)
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    assert verify_link_token(token, RESET) is None


def test_a_deactivated_user_has_no_working_link(user):
    token = issue_link_token(user, RESET)
    user.is_active = False
    db.session.commit()
    assert verify_link_token(token, RESET) is None


def test_a_short_password_is_refused_and_the_link_still_works(user):
    token = issue_link_token(user, RESET)
    with pytest.raises(InvalidInput):
        reset_password(token, "short")
    assert verify_link_token(token, RESET) is user


def test_a_reset_request_owes_one_mail_per_ten_minutes(user):
    request_password_reset(" Amina@Example.org ", now=NOW)
    request_password_reset("amina@example.org", now=NOW + timedelta(minutes=5))
    assert len(outbox(MessageKind.PASSWORD_RESET)) == 1

    request_password_reset("amina@example.org", now=NOW + timedelta(minutes=11))

    messages = outbox(MessageKind.PASSWORD_RESET)
    assert len(messages) == 2
    first = messages[0]
    assert first.recipient == "amina@example.org"
    assert first.event_id is None and first.registration_id is None
    assert first.language == "de"
    assert verify_link_token(first.payload["token"], RESET) == user


@pytest.mark.parametrize("email", ["nobody@example.org", "not an address", ""])
def test_a_reset_for_an_unknown_address_owes_nothing(user, email):
    request_password_reset(email)
    assert outbox(MessageKind.PASSWORD_RESET) == []


def test_a_deactivated_user_gets_no_reset_mail(user):
    user.is_active = False
    db.session.commit()
    request_password_reset("amina@example.org")
    assert outbox(MessageKind.PASSWORD_RESET) == []


def test_an_invitation_creates_a_partner_nobody_can_log_in_as_yet(make_org):
    make_org(slug="sahel-forum", name="Sahel Forum")
    staff = create_user(email="staff@example.org", role=Role.STAFF, password=PASSWORD)

    invited = invite_partner_user(
        "Fatou@Example.org", "sahel-forum", name="Fatou", invited_by=staff
    )

    assert invited.role is Role.PARTNER and invited.organisation.slug == "sahel-forum"
    assert invited.email == "fatou@example.org"
    [message] = outbox(MessageKind.USER_INVITATION)
    assert message.payload["invited_by"] == "staff@example.org"
    token = message.payload["token"]
    assert verify_link_token(token, INVITATION) is invited

    accept_invitation(token, NEW)

    assert authenticate("fatou@example.org", NEW) is invited
    with pytest.raises(LinkInvalid):
        accept_invitation(token, "another passphrase")


def test_an_invitation_needs_a_new_address_and_a_real_organisation(make_org, user):
    make_org(slug="sahel-forum")
    with pytest.raises(InvalidInput) as taken:
        invite_partner_user("amina@example.org", "sahel-forum")
    with pytest.raises(InvalidInput) as unknown:
        invite_partner_user("new@example.org", "no-such-org")
    assert "email" in taken.value.errors and "org" in unknown.value.errors
    assert outbox(MessageKind.USER_INVITATION) == []


def test_the_reset_window_is_ten_minutes():
    assert account_links.RESET_MAIL_WINDOW == 600
