"""German by default; English by URL, cookie or browser; the language switch."""

from __future__ import annotations

import pytest

from outreach.extensions import db
from tests.web.html import page


def test_pages_are_german_by_default(client, make_event):
    make_event()

    response = client.get("/")

    assert page(response).one("html").attrs["lang"] == "de"
    assert page(response).one("h1").text == "Kommende Veranstaltungen"


def test_lang_in_the_url_switches_to_english(client, make_event):
    make_event()

    response = client.get("/?lang=en")

    assert page(response).one("html").attrs["lang"] == "en"
    assert page(response).one("h1").text == "Upcoming events"


def test_the_language_cookie_switches_to_english(client):
    client.set_cookie("lang", "en")

    response = client.get("/")

    assert page(response).one("html").attrs["lang"] == "en"


def test_the_browser_language_is_the_fallback(client):
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"})
    unsupported = client.get("/", headers={"Accept-Language": "fr-FR"})

    assert page(english).one("html").attrs["lang"] == "en"
    assert page(unsupported).one("html").attrs["lang"] == "de"


def test_the_cookie_wins_over_the_browser_language(client):
    client.set_cookie("lang", "de")

    response = client.get("/", headers={"Accept-Language": "en"})

    assert page(response).one("html").attrs["lang"] == "de"


def test_each_request_gets_its_own_language(client):
    assert page(client.get("/?lang=en")).one("html").attrs["lang"] == "en"
    assert page(client.get("/")).one("html").attrs["lang"] == "de"


def test_event_content_follows_the_language(client, make_event):
    event = make_event(slug="dialog")
    event.translations["de"].title = "Dialog auf Deutsch"
    event.translations["en"].title = "Dialogue in English"
    db.session.commit()

    assert page(client.get("/events/dialog")).one("h1").text == "Dialog auf Deutsch"
    assert page(client.get("/events/dialog?lang=en")).one("h1").text == "Dialogue in English"


def test_the_language_switch_sets_a_cookie_for_a_year_and_returns(client):
    response = client.get("/language/en?next=/events/past%3Ftopic%3Dculture")

    assert response.status_code == 302
    assert response.headers["Location"] == "/events/past?topic=culture"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lang=en;")
    assert "Max-Age=31536000" in cookie
    assert "SameSite=Lax" in cookie
    assert page(client.get("/events/past")).one("html").attrs["lang"] == "en"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "http:/evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "evil.example",
        "javascript:alert(1)",
        "",
    ],
)
def test_the_language_switch_refuses_an_external_next(client, target):
    response = client.get("/language/en", query_string={"next": target})

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_an_unknown_language_is_not_found(client):
    response = client.get("/language/xx?next=/")

    assert response.status_code == 404
    assert "Set-Cookie" not in response.headers


def test_the_language_switch_marks_the_current_language_and_keeps_the_page(client):
    html = page(client.get("/events/past?topic=culture&lang=en"))

    switch = html.one("nav", class_="language-switch")
    links = {a.attrs["lang"]: a for a in switch.all("a")}
    assert links["en"].attrs.get("aria-current") == "true"
    assert "aria-current" not in links["de"].attrs
    assert links["de"].text == "Deutsch"
    # The current page comes back without the ?lang= that would override the choice.
    assert links["de"].attrs["href"] == "/language/de?next=/events/past?topic%3Dculture"
