"""API tokens: issued once, stored as a hash, and useless once revoked or deactivated."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import ApiToken, AuditEntry, utcnow
from outreach.services import api_tokens
from outreach.services.errors import InvalidInput

# A write that needs a token and, given a valid one, answers 422 for an empty body.
WRITE = "/api/v1/events"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def audit_actions(token: ApiToken) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.subject_type == "api_tokens", AuditEntry.subject_id == token.id)
            .order_by(AuditEntry.id)
        )
    )


def test_a_new_token_is_returned_once_and_only_its_hash_is_stored(make_user):
    user = make_user("staff")

    token, secret = api_tokens.create_token(user, "  Website   import ")

    db.session.expire_all()
    stored = db.session.get(ApiToken, token.id)
    assert secret.startswith("otk_") and len(secret) == 47
    assert stored.name == "Website import"
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(db.session.execute(select(ApiToken.__table__)).mappings().all())
    assert stored.last_used_at is None and stored.revoked_at is None
    assert api_tokens.user_for_token(secret) == user
    assert audit_actions(stored) == ["api_token.created"]


def test_two_tokens_never_share_a_secret(make_user):
    user = make_user("partner")

    secrets = {api_tokens.create_token(user, f"Token {n}")[1] for n in range(5)}

    assert len(secrets) == 5
    assert len(api_tokens.tokens_of(user)) == 5


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "Bell\x07", None])
def test_a_token_needs_a_sensible_name(make_user, name):
    user = make_user("staff")

    with pytest.raises(InvalidInput) as refused:
        api_tokens.create_token(user, name)

    assert set(refused.value.errors) == {"name"}
    assert api_tokens.tokens_of(user) == []


def test_a_deactivated_user_gets_no_token(make_user):
    user = make_user("staff")
    user.is_active = False
    db.session.commit()

    with pytest.raises(api_tokens.TokenNotAllowed):
        api_tokens.create_token(user, "CI")


def test_the_number_of_active_tokens_is_limited(make_user):
    user = make_user("staff")
    tokens = [
        api_tokens.create_token(user, f"T{n}")[0] for n in range(api_tokens.MAX_ACTIVE_TOKENS)
    ]

    with pytest.raises(InvalidInput):
        api_tokens.create_token(user, "One too many")
    api_tokens.revoke_token(tokens[0], by=user)
    assert api_tokens.create_token(user, "Room again")[0].id


def test_a_revoked_token_stops_working_and_revoking_again_is_harmless(api, make_user):
    user = make_user("staff")
    token, secret = api_tokens.create_token(user, "CI")
    assert api.post(WRITE, json={}, headers=bearer(secret)).status_code == 422

    api_tokens.revoke_token(token, by=user)
    first_revocation = token.revoked_at
    api_tokens.revoke_token(token, by=user)

    assert api_tokens.user_for_token(secret) is None
    response = api.post(WRITE, json={}, headers=bearer(secret))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert token.revoked_at == first_revocation
    assert audit_actions(token) == ["api_token.created", "api_token.revoked"]
    assert api_tokens.tokens_of(user) == []


def test_a_deactivated_users_tokens_stop_working(api, make_user):
    user = make_user("partner")
    _token, secret = api_tokens.create_token(user, "CI")

    user.is_active = False
    db.session.commit()

    assert api_tokens.user_for_token(secret) is None
    assert api.post(WRITE, json={}, headers=bearer(secret)).status_code == 401


def test_use_is_recorded_at_most_once_a_minute(make_user):
    user = make_user("staff")
    token, secret = api_tokens.create_token(user, "CI")
    start = utcnow().replace(microsecond=0)

    api_tokens.user_for_token(secret, now=start)
    api_tokens.user_for_token(secret, now=start + timedelta(seconds=30))
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at == start

    api_tokens.user_for_token(secret, now=start + timedelta(seconds=61))
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at == start + timedelta(seconds=61)


@pytest.mark.parametrize(
    "secret",
    [
        "",
        "otk_",
        "otk_" + "A" * 43,
        "otk_" + "A" * 42 + "\n",
        "otk_" + "A" * 44,
        "A" * 47,
        "otk_" + "é" * 43,
        "otk_" + "A" * 10_000,
        None,
        42,
    ],
)
def test_unknown_and_odd_secrets_find_nobody(make_user, secret):
    user = make_user("staff")
    api_tokens.create_token(user, "CI")

    assert api_tokens.user_for_token(secret) is None


@pytest.mark.parametrize(
    ("headers", "invalid_token"),
    [
        ({}, False),
        ({"Authorization": ""}, False),
        ({"Authorization": "Bearer"}, False),
        ({"Authorization": "Bearer   "}, False),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, False),
        ({"Authorization": "Token otk_" + "A" * 43}, False),
        ({"Authorization": "Bearer otk_" + "A" * 43}, True),
        ({"Authorization": "Bearer not-a-token"}, True),
        ({"Authorization": "Bearer " + "x" * 5000}, True),
    ],
)
def test_writes_without_a_working_token_are_401_with_a_bearer_challenge(
    api, make_user, headers, invalid_token
):
    api_tokens.create_token(make_user("staff"), "CI")

    response = api.post(WRITE, json={}, headers=headers)

    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert ('error="invalid_token"' in challenge) is invalid_token


def test_the_scheme_is_case_insensitive(api, make_user):
    _token, secret = api_tokens.create_token(make_user("staff"), "CI")

    response = api.post(WRITE, json={}, headers={"Authorization": f"bearer {secret}"})

    assert response.status_code == 422


def test_a_logged_in_browser_session_is_no_api_credential(api, login, make_user):
    staff = make_user("staff")
    login(staff)

    response = api.post(WRITE, json={}, headers={"Origin": "https://evil.example"})

    assert response.status_code == 401


def test_reading_needs_no_token_and_a_bad_one_does_not_hurt(api, make_event):
    event = make_event()

    response = api.get(f"/api/v1/events/{event.slug}", headers=bearer("otk_nonsense"))

    assert response.status_code == 200


def test_the_document_describes_the_bearer_scheme_on_every_write(openapi):
    document = openapi.document
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"post", "patch", "delete"} and "registration" not in path:
                assert operation["security"] == [{"bearerAuth": []}], (method, path)
                assert "401" in operation["responses"], (method, path)
