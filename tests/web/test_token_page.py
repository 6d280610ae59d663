"""The account's API token page: create a token (its secret shown once), list, revoke."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import ApiToken
from outreach.services import api_tokens
from tests.web.html import page

TOKENS = "/account/tokens"


def create(client, name: str = "Website import", **extra):
    return client.post(TOKENS + "?lang=en", data={"name": name, **extra})


def secret_on(response) -> str:
    return page(response).by_id("token-secret").attrs["value"]


def test_the_page_needs_a_login(client):
    response = client.get(TOKENS)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_the_account_page_links_to_the_tokens(login, make_user):
    client = login(make_user("partner"))

    links = page(client.get("/account?lang=en")).all("a", href=TOKENS)

    assert [link.text for link in links] == ["Manage your API tokens"]


@pytest.mark.parametrize("role", ["staff", "partner"])
def test_without_tokens_the_page_explains_them_and_offers_the_form(login, make_user, role):
    client = login(make_user(role))

    response = client.get(TOKENS + "?lang=en")

    assert response.status_code == 200
    html = page(response)
    assert "You have no API tokens yet" in html.one("p", class_="empty-state").text
    assert html.by_id("name").attrs["maxlength"] == "100"
    assert not html.has_id("token-secret")
    assert html.unlabelled_controls() == []
    assert html.duplicate_ids() == []


def test_a_new_token_is_shown_once_and_works(login, make_user):
    user = make_user("staff")
    client = login(user)

    response = create(client)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = page(response)
    secret = secret_on(response)
    assert "Copy it now: it is shown only this once." in html.text
    assert "readonly" in html.by_id("token-secret").attrs
    again = client.get(TOKENS + "?lang=en")
    assert secret not in again.get_data(as_text=True)
    [card] = page(again).all("li", class_="event-card")
    assert "Website import" in card.text
    assert "Not used yet" in card.text
    assert api_tokens.user_for_token(secret) == user


def test_the_list_shows_when_a_token_was_last_used(login, make_user):
    user = make_user("staff")
    client = login(user)
    secret = secret_on(create(client))
    api_tokens.user_for_token(secret)

    card = page(client.get(TOKENS + "?lang=en")).one("li", class_="event-card")

    assert "Not used yet" not in card.text
    assert len(card.all("time")) == 2


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_token_without_a_sensible_name_is_a_form_error(login, make_user, name):
    user = make_user("partner")
    client = login(user)

    response = create(client, name=name)

    assert response.status_code == 422
    html = page(response)
    assert html.one("div", class_="error-summary")
    assert html.by_id("name").attrs["aria-invalid"] == "true"
    assert not html.has_id("token-secret")
    assert api_tokens.tokens_of(user) == []


def test_revoking_asks_first_and_then_the_token_stops_working(login, make_user):
    user = make_user("partner")
    client = login(user)
    secret = secret_on(create(client, name="Old script"))
    [token] = api_tokens.tokens_of(user)
    revoke_path = f"/account/tokens/{token.id}/revoke"
    assert page(client.get(TOKENS + "?lang=en")).all("a", href=revoke_path)

    confirm = client.get(revoke_path + "?lang=en")

    assert confirm.status_code == 200
    assert "Old script" in page(confirm).one("h1").text
    assert api_tokens.user_for_token(secret) == user

    done = client.post(revoke_path + "?lang=en")

    assert done.status_code == 303
    assert done.headers["Location"] == TOKENS
    assert api_tokens.user_for_token(secret) is None
    after = page(client.get(TOKENS + "?lang=en"))
    assert "The token “Old script” is revoked." in after.text
    assert after.all("p", class_="empty-state")


def test_nobody_can_revoke_another_users_token(login, make_user):
    owner, other = make_user("staff"), make_user("staff")
    token, secret = api_tokens.create_token(owner, "Owner's")
    client = login(other)

    for method in ("GET", "POST"):
        response = client.open(f"/account/tokens/{token.id}/revoke", method=method)
        assert response.status_code == 404
    assert api_tokens.user_for_token(secret) == owner
    assert "Owner's" not in client.get(TOKENS).get_data(as_text=True)


@pytest.mark.parametrize("token_id", ["0", "999999", str(2**63), "-1", "abc"])
def test_unknown_token_ids_are_404(login, make_user, token_id):
    client = login(make_user("staff"))

    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 404


def test_a_revoked_token_cannot_be_revoked_again_from_the_page(login, make_user):
    user = make_user("staff")
    token, _secret = api_tokens.create_token(user, "CI")
    api_tokens.revoke_token(token, by=user)
    client = login(user)

    assert client.get(f"/account/tokens/{token.id}/revoke").status_code == 404


def test_the_forms_need_the_csrf_token(app, login, make_user):
    user = make_user("staff")
    token, _secret = api_tokens.create_token(user, "CI")
    client = login(user)
    app.config["WTF_CSRF_ENABLED"] = True

    created = create(client, name="Sneaky")
    revoked = client.post(f"/account/tokens/{token.id}/revoke")

    assert created.status_code == revoked.status_code == 400
    names = db.session.scalars(select(ApiToken.name).where(ApiToken.revoked_at.is_(None)))
    assert list(names) == ["CI"]


def test_with_the_csrf_token_creating_works(app, login, make_user):
    client = login(make_user("staff"))
    app.config["WTF_CSRF_ENABLED"] = True
    csrf = page(client.get(TOKENS)).all("input", name="csrf_token")[-1].attrs["value"]

    response = create(client, csrf_token=csrf)

    assert response.status_code == 200
    assert secret_on(response).startswith("otk_")
