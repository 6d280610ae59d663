"""``flask outreach create-token`` and ``revoke-token``."""

from __future__ import annotations

from sqlalchemy import select

from outreach.extensions import db
from outreach.models import ApiToken, AuditEntry
from outreach.services import api_tokens


def test_create_token_prints_the_secret_once_on_stdout(runner, make_user):
    user = make_user("staff", email="ops@example.org")

    result = runner.invoke(
        args=["outreach", "create-token", "--email", " OPS@example.org", "--name", "CI"]
    )

    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("otk_") and "\n" not in secret
    assert "not shown again" in result.stderr
    assert api_tokens.user_for_token(secret) == user
    [token] = api_tokens.tokens_of(user)
    assert token.name == "CI"
    assert secret not in token.token_hash


def test_create_token_names_the_token_cli_by_default(runner, make_user):
    user = make_user("partner")

    result = runner.invoke(args=["outreach", "create-token", "--email", user.email])

    assert result.exit_code == 0, result.output
    assert [token.name for token in api_tokens.tokens_of(user)] == ["CLI"]


def test_create_token_for_an_unknown_or_deactivated_user_fails(runner, make_user):
    user = make_user("staff")
    user.is_active = False
    db.session.commit()

    unknown = runner.invoke(args=["outreach", "create-token", "--email", "nobody@example.org"])
    inactive = runner.invoke(args=["outreach", "create-token", "--email", user.email])

    assert unknown.exit_code == inactive.exit_code == 1
    assert "There is no user nobody@example.org" in unknown.output
    assert api_tokens.TokenNotAllowed().message in inactive.output
    assert db.session.scalars(select(ApiToken)).all() == []


def test_create_token_refuses_an_empty_name(runner, make_user):
    user = make_user("staff")

    result = runner.invoke(args=["outreach", "create-token", "--email", user.email, "--name", "  "])

    assert result.exit_code == 1
    assert "name:" in result.output
    assert api_tokens.tokens_of(user) == []


def test_revoke_token_stops_it_and_is_audited(runner, make_user):
    user = make_user("staff")
    token, secret = api_tokens.create_token(user, "CI")

    result = runner.invoke(args=["outreach", "revoke-token", str(token.id)])
    again = runner.invoke(args=["outreach", "revoke-token", str(token.id)])

    assert result.exit_code == 0, result.output
    assert f"API token {token.id} (CI) of {user.email} is revoked." in result.output
    assert again.exit_code == 0
    assert "was already revoked" in again.output
    assert api_tokens.user_for_token(secret) is None
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "api_token.revoked", AuditEntry.subject_id == token.id
        )
    )
    assert entry.actor_label == "system"


def test_revoke_token_with_an_unknown_id_fails(runner):
    for token_id in ("4242", str(2**40)):
        result = runner.invoke(args=["outreach", "revoke-token", token_id])
        assert result.exit_code == 1
        assert api_tokens.TokenNotFound().message in result.output
    assert runner.invoke(args=["outreach", "revoke-token", "abc"]).exit_code == 2
