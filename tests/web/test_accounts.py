"""Logging in and out, the account page, and login throttling."""

from __future__ import annotations

import pytest

from config import TestingConfig
from outreach import create_app
from outreach.extensions import db
from outreach.models import Role, User
from outreach.services.users import create_user
from tests.web.html import page

PASSWORD = "correct horse battery"
WRONG = "Email or password is wrong."


@pytest.fixture
def make_user(app, make_org):
    def make(email: str = "amina@example.org", role: Role = Role.STAFF, **values) -> User:
        org_slug = values.pop("org_slug", None)
        if role is Role.PARTNER and org_slug is None:
            org_slug = make_org().slug
        return create_user(email=email, role=role, password=PASSWORD, org_slug=org_slug, **values)

    return make


def log_in(client, email: str = "amina@example.org", password: str = PASSWORD, **extra):
    return client.post(
        "/login",
        query_string=extra.pop("query", None),
        data={"email": email, "password": password, **extra},
    )


def logged_in_user_id(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("_user_id")


def test_staff_logs_in_and_lands_on_the_account_page(client, make_user):
    user = make_user(name="Amina Diallo")

    response = log_in(client, email="  Amina@Example.org ")

    assert response.status_code == 303
    assert response.headers["Location"] == "/account"
    assert logged_in_user_id(client) == user.get_id()
    account = client.get("/account?lang=en")
    assert account.status_code == 200
    text = page(account).text
    assert "Hello, Amina Diallo" in text
    assert "Staff" in text
    assert "Log out" in page(account).one("nav", class_="account-nav").text


def test_partner_sees_role_and_organisation(client, make_org, make_user):
    make_org(slug="sahel-forum", name="Sahel Forum")
    make_user(email="partner@example.org", role=Role.PARTNER, org_slug="sahel-forum")

    log_in(client, email="partner@example.org")
    text = page(client.get("/account?lang=en")).text

    assert "Partner organisation" in text
    assert "Sahel Forum" in text


@pytest.mark.parametrize(
    ("email", "password"),
    [("amina@example.org", "wrong password"), ("nobody@example.org", PASSWORD)],
    ids=["wrong-password", "unknown-email"],
)
def test_wrong_password_and_unknown_email_look_the_same(client, make_user, email, password):
    make_user()

    response = log_in(client, email=email, password=password, query={"lang": "en"})

    assert response.status_code == 401
    assert WRONG in page(response).text
    assert logged_in_user_id(client) is None


def test_an_empty_form_asks_for_both_fields(client):
    response = client.post("/login?lang=en", data={"email": "", "password": ""})

    assert response.status_code == 422
    text = page(response).text
    assert "Please enter your email address." in text
    assert "Please enter your password." in text


def test_inactive_user_cannot_log_in(client, make_user):
    user = make_user()
    user.is_active = False
    db.session.commit()

    response = log_in(client, query={"lang": "en"})

    assert response.status_code == 401
    assert WRONG in page(response).text
    assert logged_in_user_id(client) is None


def test_deactivating_a_user_ends_their_session(client, make_user):
    user = make_user()
    log_in(client)
    user.is_active = False
    db.session.commit()

    response = client.get("/account")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_user_mixin_keeps_the_is_active_column(make_user):
    user = make_user()
    assert user.is_active is True and user.is_authenticated
    assert user.get_id().startswith(f"{user.id}:")
    user.is_active = False
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(User, user.id).is_active is False


def test_local_next_is_honoured(client, make_user):
    make_user()

    response = log_in(client, query={"next": "/events/past?page=2"})

    assert response.status_code == 303
    assert response.headers["Location"] == "/events/past?page=2"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"]
)
def test_external_next_is_refused(client, make_user, target):
    make_user()

    response = log_in(client, query={"next": target})

    assert response.status_code == 303
    assert response.headers["Location"] == "/account"


def test_login_form_keeps_only_a_local_next(client):
    local = page(client.get("/login", query_string={"next": "/account"}))
    external = page(client.get("/login", query_string={"next": "https://evil.example/"}))

    assert local.one("form", class_="form").attrs["action"] == "/login?next=/account"
    assert external.one("form", class_="form").attrs["action"] == "/login"


def test_anonymous_account_visit_redirects_to_login(client):
    response = client.get("/account")

    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Faccount"


def test_remember_me_sets_an_httponly_lax_cookie(client, make_user):
    make_user()

    response = log_in(client, remember="y")

    cookie = next(
        header
        for header in response.headers.getlist("Set-Cookie")
        if header.startswith("remember_token=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_without_remember_me_there_is_no_remember_cookie(client, make_user):
    make_user()

    response = log_in(client)

    cookies = response.headers.getlist("Set-Cookie")
    assert not any(cookie.startswith("remember_token=") for cookie in cookies)


def test_logout_by_post_ends_the_session(client, make_user):
    make_user()
    log_in(client, remember="y")

    response = client.post("/logout")

    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert logged_in_user_id(client) is None
    assert client.get("/account").status_code == 302
    assert any(
        cookie.startswith("remember_token=;") for cookie in response.headers.getlist("Set-Cookie")
    )


def test_logout_by_get_is_not_allowed(client, make_user):
    make_user()
    log_in(client)

    response = client.get("/logout")

    assert response.status_code == 405
    assert logged_in_user_id(client) is not None


def test_header_offers_login_or_logout(client, make_user):
    make_user()
    anonymous = page(client.get("/?lang=en")).one("nav", class_="account-nav").text
    log_in(client)
    logged_in = page(client.get("/?lang=en")).one("nav", class_="account-nav").text

    assert "Log in" in anonymous and "Log out" not in anonymous
    assert "Account" in logged_in and "Log out" in logged_in and "Log in" not in logged_in


def test_logout_needs_the_csrf_token(app, database_url):
    protected = create_app(
        TestingConfig, SQLALCHEMY_DATABASE_URI=database_url, WTF_CSRF_ENABLED=True
    )
    try:
        response = protected.test_client().post("/logout")
        assert response.status_code == 400
    finally:
        with protected.app_context():
            db.engine.dispose()


def test_too_many_login_attempts_get_a_friendly_429(database_url, make_user):
    make_user()
    limited = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=database_url,
        RATELIMIT_ENABLED=True,
        RATELIMIT_LOGIN="2 per minute",
    )
    try:
        client = limited.test_client()
        statuses = [
            client.post(
                "/login?lang=en", data={"email": "a@example.org", "password": "x"}
            ).status_code
            for _ in range(2)
        ]
        refused = client.post(
            "/login?lang=en", data={"email": "amina@example.org", "password": PASSWORD}
        )
        assert statuses == [401, 401]
        assert refused.status_code == 429
        assert "Please wait a minute and try again." in page(refused).text
        assert 0 < int(refused.headers["Retry-After"]) <= 60
        assert client.get("/login").status_code == 200  # only attempts are counted
    finally:
        with limited.app_context():
            db.engine.dispose()


def test_only_the_tests_lower_the_cost_of_password_hashes(make_user):
    from config import Config, DevelopmentConfig, ProductionConfig

    for config in (Config, DevelopmentConfig, ProductionConfig):
        assert getattr(config, "PASSWORD_HASH_METHOD", "scrypt") == "scrypt"
    assert make_user().password_hash.startswith("scrypt:1024:8:1$")
