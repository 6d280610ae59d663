"""Every token in a link is unguessable, checked in constant time, and expires where it should.

Two kinds of token keep a link private:

- random secrets (manage links, API tokens): 256 bits from ``secrets``; only
  their SHA-256 is stored, and a link is looked up by that hash, so neither a
  copy of the database nor the time a comparison takes gives one away;
- signed values (check-in, unsubscribe, preferences, newsletter confirmation,
  password reset, invitation, the robot trap's time stamp): itsdangerous
  HMACs with SECRET_KEY and a salt per purpose, 160-bit signatures compared
  with ``hmac.compare_digest``. A token for one purpose is never one for
  another, and start-up refuses a weak SECRET_KEY (tests/test_secret_key.py).

Lifetimes follow what the link is for: a password or invitation link works
once and for a short while; a newsletter confirmation for a week; a manage
link until a while after its event; unsubscribe links for ever (RFC 8058: an
old newsletter must still let its reader leave); a check-in token as long
as its registration, since only staff and the event's hosts can use it.
"""

from __future__ import annotations

import base64
import inspect
import time
from datetime import timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeSerializer
from itsdangerous.signer import SigningAlgorithm
from sqlalchemy import select

from outreach.extensions import db
from outreach.mail.unsubscribe import (
    preferences_token,
    read_preferences_token,
    read_unsubscribe_token,
    unsubscribe_token,
)
from outreach.models import ManageToken, Subscriber, SuppressionScope, utcnow
from outreach.services import account_links, api_tokens, checkin, newsletter, tokens
from outreach.services.newsletter import SubscriptionInput

MIN_BITS = 128


def _signature_bits(token: str) -> int:
    """The length of the signature at the end of an itsdangerous token, in bits."""
    signature = token.rsplit(".", 1)[1]
    return len(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))) * 8


def _issued_ago(monkeypatch, seconds: int, issue):
    """Issue a timed token as if ``seconds`` ago (itsdangerous reads the clock here)."""
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - seconds)
    try:
        return issue()
    finally:
        monkeypatch.undo()


def _tampered(token: str) -> str:
    return token[:-2] + ("AA" if not token.endswith("AA") else "BB")


def test_signatures_are_compared_in_constant_time_and_long_enough(app):
    # Every signed token goes through itsdangerous' Signer, which checks with
    # hmac.compare_digest (SigningAlgorithm.verify_signature).
    assert "compare_digest" in inspect.getsource(SigningAlgorithm.verify_signature)
    signed = URLSafeSerializer(app.config["SECRET_KEY"], salt="x").dumps(1)
    assert _signature_bits(signed) >= MIN_BITS


# -- random secrets, stored as hashes ----------------------------------------------------


def test_manage_tokens_are_random_stored_hashed_and_expire_after_the_event(
    app, make_event, make_registration
):
    """Manage link (/r/<token>): 256 random bits; the database holds its SHA-256 only."""
    event = make_event()
    outcome = make_registration(event)
    token, grace = outcome.token, app.config["MANAGE_LINK_GRACE_DAYS"]

    assert len(token) >= 43  # token_urlsafe(32): 256 bits
    assert db.session.scalars(select(ManageToken.token_hash)).all() == [tokens.hash_token(token)]
    assert tokens.registration_for_token(token, grace_days=grace) is outcome.registration
    assert tokens.registration_for_token(_tampered(token), grace_days=grace) is None
    event.starts_at = utcnow() - timedelta(days=grace + 2)
    event.ends_at = event.starts_at + timedelta(hours=2)
    db.session.commit()
    assert tokens.registration_for_token(token, grace_days=grace) is None


def test_api_tokens_are_random_and_stored_hashed(make_user):
    """API bearer token: ``otk_`` and 256 random bits; only the SHA-256 is kept."""
    token, secret = api_tokens.create_token(make_user("staff"), "script")

    assert len(secret) == len("otk_") + 43
    assert token.token_hash == api_tokens.hash_secret(secret) and secret not in token.token_hash


# -- signed tokens -----------------------------------------------------------------------


def test_check_in_tokens_are_signed_and_bound_to_their_event(app, make_event, make_registration):
    """Check-in (QR code): signed ids; no expiry, as only staff and hosts can use it."""
    registration = make_registration(make_event()).registration
    token = checkin.check_in_token(registration)
    forged = URLSafeSerializer("another key", salt="outreach.check-in").dumps(
        [registration.id, registration.event_id]
    )

    assert _signature_bits(token) >= MIN_BITS
    assert checkin.registration_for_check_in_token(token) is registration
    assert checkin.registration_for_check_in_token(_tampered(token)) is None
    assert checkin.registration_for_check_in_token(forged) is None


def test_unsubscribe_and_preferences_links_are_signed_and_never_expire(app, monkeypatch):
    """Unsubscribe and preferences links: signed, no time stamp, good for ever (RFC 8058)."""
    token = unsubscribe_token("ada@example.org", SuppressionScope.NEWSLETTER)
    preferences = preferences_token("ada@example.org")
    # Timed signers are not involved: a link from years ago is the same link.
    monkeypatch.setattr(time, "time", lambda: 4_000_000_000.0)

    assert _signature_bits(token) >= MIN_BITS
    assert read_unsubscribe_token(token) == ("ada@example.org", SuppressionScope.NEWSLETTER)
    assert read_preferences_token(preferences) == "ada@example.org"
    assert read_unsubscribe_token(_tampered(token)) is None
    assert read_unsubscribe_token(preferences) is None  # one purpose is no other
    assert read_preferences_token(token) is None


def test_newsletter_confirmations_are_signed_and_expire(app, monkeypatch):
    """Newsletter confirmation (double opt-in): signed and timed (a week by default)."""
    newsletter.subscribe(
        SubscriptionInput(
            email="ada@example.org", language="de", consent=True, consent_language="de"
        )
    )
    subscriber = db.session.scalars(select(Subscriber)).one()  # pending until confirmed
    fresh = newsletter.confirmation_token(subscriber)
    max_age = app.config["NEWSLETTER_CONFIRMATION_MAX_AGE"]
    old = _issued_ago(monkeypatch, max_age + 60, lambda: newsletter.confirmation_token(subscriber))

    assert _signature_bits(fresh) >= MIN_BITS
    assert newsletter.subscriber_for_token(fresh) is subscriber
    assert newsletter.subscriber_for_token(_tampered(fresh)) is None
    assert newsletter.subscriber_for_token(old) is None


@pytest.mark.parametrize(
    ("purpose", "setting"),
    [
        (account_links.RESET, "PASSWORD_RESET_MAX_AGE"),
        (account_links.INVITATION, "INVITATION_MAX_AGE"),
    ],
)
def test_password_links_are_signed_single_use_and_expire(
    app, make_user, monkeypatch, purpose, setting
):
    """Password reset and invitation: signed, timed, and void once the password changes."""
    user = make_user("partner")
    token = account_links.issue_link_token(user, purpose)
    other = account_links.RESET if purpose == account_links.INVITATION else account_links.INVITATION
    old = _issued_ago(
        monkeypatch, app.config[setting] + 60, lambda: account_links.issue_link_token(user, purpose)
    )

    assert _signature_bits(token) >= MIN_BITS
    assert account_links.verify_link_token(old, purpose) is None
    assert account_links.verify_link_token(_tampered(token), purpose) is None
    assert account_links.verify_link_token(token, other) is None
    assert account_links.verify_link_token(token, purpose) is user
    user.set_password("a brand new password")
    db.session.commit()
    assert account_links.verify_link_token(token, purpose) is None  # used up


def test_password_links_expire_within_hours_and_invitations_within_days():
    from config import Config

    assert Config.PASSWORD_RESET_MAX_AGE <= 24 * 3600
    assert Config.INVITATION_MAX_AGE <= 14 * 24 * 3600
    assert Config.NEWSLETTER_CONFIRMATION_MAX_AGE <= 14 * 24 * 3600
