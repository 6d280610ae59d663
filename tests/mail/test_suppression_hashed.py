"""The suppression list after an erasure: entries keep only a salted hash and still work."""

from __future__ import annotations

from sqlalchemy import select

from outreach.extensions import db
from outreach.mail.suppression import (
    HASH_PREFIX,
    hashed_address,
    hide_address,
    lift,
    suppress,
    suppressed_among,
    suppression_scopes,
)
from outreach.models import MessageKind, Suppression, SuppressionReason, SuppressionScope

ADA = "ada@example.org"
OUTREACH = SuppressionScope.OUTREACH
NEWSLETTER = SuppressionScope.NEWSLETTER
UNSUBSCRIBED = SuppressionReason.UNSUBSCRIBED


def entries() -> list[tuple[str, SuppressionScope, str | None]]:
    db.session.rollback()
    return sorted(
        db.session.execute(select(Suppression.email, Suppression.scope, Suppression.detail)).all()
    )


def test_the_hash_is_keyed_stable_and_blind_to_case(app):
    hashed = hashed_address(" Ada@Example.org ")

    assert hashed == hashed_address(ADA)
    assert hashed.startswith(HASH_PREFIX) and len(hashed) == len(HASH_PREFIX) + 64
    assert ADA not in hashed
    app.config["PRIVACY_HASH_KEY"] = "another key"
    assert hashed_address(ADA) != hashed


def test_hidden_entries_still_stop_what_they_stopped(app):
    suppress(ADA, UNSUBSCRIBED, f"{ADA} said no", scope=OUTREACH)
    db.session.commit()

    assert hide_address("ADA@example.org") == 1
    db.session.commit()

    assert entries() == [(hashed_address(ADA), OUTREACH, "[erased] said no")]
    assert suppression_scopes({"Ada@example.org"}) == {ADA: {OUTREACH}}
    assert suppressed_among({ADA, "ben@example.org"}, kind=MessageKind.CAMPAIGN) == {ADA}
    assert suppressed_among({ADA}, kind=MessageKind.NEWSLETTER) == set()
    # Asking twice changes nothing; a new scope comes as the plain address.
    assert suppress(ADA, UNSUBSCRIBED, scope=OUTREACH) is False
    assert suppress(ADA, UNSUBSCRIBED, scope=NEWSLETTER) is True
    db.session.commit()
    assert suppression_scopes({ADA}) == {ADA: {OUTREACH, NEWSLETTER}}


def test_hiding_twice_keeps_one_entry_per_scope(app):
    suppress(ADA, UNSUBSCRIBED, scope=OUTREACH)
    db.session.commit()
    hide_address(ADA)
    db.session.commit()
    suppress(ADA, SuppressionReason.COMPLAINT, scope=NEWSLETTER)
    db.session.add(Suppression(email=ADA, scope=OUTREACH, reason=UNSUBSCRIBED))
    db.session.commit()

    assert hide_address(ADA) == 2
    db.session.commit()

    assert [(email, scope) for email, scope, _ in entries()] == [
        (hashed_address(ADA), NEWSLETTER),
        (hashed_address(ADA), OUTREACH),
    ]


def test_a_person_who_asks_again_lifts_their_hidden_unsubscribe(app):
    suppress(ADA, UNSUBSCRIBED, scope=NEWSLETTER)
    db.session.commit()
    hide_address(ADA)
    db.session.commit()

    assert lift(ADA, NEWSLETTER) is True
    db.session.commit()

    assert entries() == []
