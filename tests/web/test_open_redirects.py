"""Every redirect target that comes from the request stays on this site.

Two places redirect to an address from the request: the language switch
(``/language/<code>?next=``) and the login (``/login?next=``). Both go through
``outreach.urls.is_local_path``; anything else falls back to a page of ours.
(The other redirects in the code build their targets with url_for.)
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from outreach.urls import is_local_path
from tests.conftest import PASSWORD
from tests.web.html import page

NASTY = [
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil",
    "\\/evil.example",
    "https://evil",
    "HTTPS://evil",
    "http:evil",
    "http:/evil",
    "/%2F%2Fevil",
    "/%2f%2fevil",
    "/%5Cevil",
    "/%252F%252Fevil",
    "javascript:alert(1)",
    " javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/\t/evil.example",
    "/\n/evil.example",
    "\t//evil.example",
    "/%09/evil.example",
    "/ok\r\nSet-Cookie: session=stolen",
    "/ok\nLocation: https://evil",
    "/ok\u2028x",
    "/\u3002evil",
    "",
    "evil.example",
    "?next=//evil",
]
GOOD = ["/", "/events/past", "/events/dialog?lang=en", "/staff/events?status=draft&page=2"]


@pytest.mark.parametrize("target", NASTY)
def test_nasty_targets_are_not_local(target):
    assert not is_local_path(target)


@pytest.mark.parametrize("target", GOOD)
def test_our_own_paths_are_local(target):
    assert is_local_path(target)


def _stays_here(response, fallback: str) -> None:
    location = response.headers["Location"]
    assert "\r" not in location and "\n" not in location
    assert "Set-Cookie" not in location or location == fallback
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc, location
    assert location == fallback, location
    assert "session=stolen" not in response.headers.get("Set-Cookie", "")


@pytest.mark.parametrize("target", NASTY)
def test_the_language_switch_never_leaves_the_site(client, target):
    response = client.get("/language/en", query_string={"next": target})

    assert response.status_code == 302
    _stays_here(response, "/")


@pytest.mark.parametrize("target", GOOD)
def test_the_language_switch_goes_back_to_the_page(client, target):
    response = client.get("/language/en", query_string={"next": target})

    assert response.headers["Location"] == target


@pytest.mark.parametrize("target", NASTY)
def test_logging_in_never_leaves_the_site(client, make_user, target):
    user = make_user("staff")

    form = client.get("/login", query_string={"next": target})
    response = client.post(
        "/login", query_string={"next": target}, data={"email": user.email, "password": PASSWORD}
    )
    already = client.get("/login", query_string={"next": target})

    # The login form does not carry the target on.
    assert page(form).one("form", class_="form").attrs["action"] == "/login"
    assert response.status_code == 303
    _stays_here(response, "/account")
    _stays_here(already, "/account")


def test_logging_in_goes_on_to_the_page_asked_for(client, make_user):
    user = make_user("staff")

    response = client.post(
        "/login?next=/staff/events", data={"email": user.email, "password": PASSWORD}
    )

    assert response.headers["Location"] == "/staff/events"
