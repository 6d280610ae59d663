"""Manage links: random, URL-safe, stored only as a hash, and expiring."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from outreach.extensions import db
from outreach.models import ManageToken, RegistrationStatus, utcnow
from outreach.services.registrations import cancel_registration
from outreach.services.tokens import registration_for_token


@pytest.fixture
def lookup(app):
    def find(token):
        return registration_for_token(token, grace_days=app.config["MANAGE_LINK_GRACE_DAYS"])

    return find


def test_tokens_are_long_url_safe_and_different_every_time(make_event, make_registration):
    event = make_event(capacity=None)

    tokens = [make_registration(event).token for _ in range(20)]

    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43,}", token) for token in tokens)
    assert len(set(tokens)) == 20


def test_only_the_sha256_of_a_token_is_stored(make_event, make_registration):
    outcome = make_registration(make_event(capacity=5))

    [stored] = db.session.scalars(select(ManageToken)).all()
    assert stored.token_hash == hashlib.sha256(outcome.token.encode()).hexdigest()
    for table in ("manage_tokens", "registrations"):
        for row in db.session.execute(text(f"SELECT * FROM {table}")):
            assert all(outcome.token not in str(value) for value in row)


def test_a_token_opens_its_registration(lookup, make_event, make_registration):
    event = make_event(capacity=5)
    mine, other = make_registration(event), make_registration(event)

    assert lookup(mine.token).id == mine.registration.id
    assert lookup(other.token).id == other.registration.id


def test_a_cancelled_registration_still_opens_to_show_its_state(
    lookup, make_event, make_registration
):
    outcome = make_registration(make_event(capacity=5))
    cancel_registration(outcome.registration)

    assert lookup(outcome.token).status is RegistrationStatus.CANCELLED


@pytest.mark.parametrize(
    "token",
    [
        "",
        None,
        42,
        "short",
        "A" * 43,
        "A" * 65,
        "A" * 10_000,
        "ÄÖÜ" * 15,
        "токен" * 10,
        "😀" * 43,
        "A" * 42 + "=",
        "A" * 43 + "\n",
        "A" * 43 + "\x00",
        "../" * 15,
        "' OR 1=1 --" + "A" * 40,
    ],
    ids=lambda token: repr(token)[:24],
)
def test_wrong_or_odd_tokens_open_nothing_without_errors(
    token, lookup, make_event, make_registration
):
    make_registration(make_event(capacity=5))

    assert lookup(token) is None


def test_a_token_with_a_trailing_newline_does_not_open_the_registration(
    lookup, make_event, make_registration
):
    outcome = make_registration(make_event(capacity=5))

    assert lookup(outcome.token + "\n") is None
    assert lookup(outcome.token[:-1]) is None


def test_links_expire_the_grace_period_after_the_event_ended(
    app, lookup, make_event, make_registration
):
    grace = timedelta(days=app.config["MANAGE_LINK_GRACE_DAYS"])
    now = utcnow()

    def registered_for_event_ending(ends_at):
        event = make_event(starts_at=ends_at - timedelta(hours=2), ends_at=ends_at, capacity=5)
        return make_registration(event, now=ends_at - timedelta(days=3))

    ended_recently = registered_for_event_ending(now - grace + timedelta(hours=1))
    ended_long_ago = registered_for_event_ending(now - grace - timedelta(hours=1))
    upcoming = registered_for_event_ending(now + timedelta(days=3))

    assert lookup(ended_recently.token).id == ended_recently.registration.id
    assert lookup(ended_long_ago.token) is None
    assert lookup(upcoming.token).id == upcoming.registration.id
    assert registration_for_token(ended_long_ago.token, grace_days=365) is not None
