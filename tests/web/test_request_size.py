"""A request over MAX_CONTENT_LENGTH gets a friendly 413: a page, or JSON under /api/.

Pictures are checked, limited and re-encoded by services/images.py, and the
upload views answer an over-large picture on their own form (tested with
them); this is the limit in front of everything else, which Werkzeug
enforces while reading the body (CSRF protection reads it first, so the
answer must not depend on it).
"""

from __future__ import annotations

import pytest

from tests.web.html import page

LIMIT = 2000


@pytest.fixture
def small_limit(app):
    app.config["MAX_CONTENT_LENGTH"] = LIMIT
    return app


@pytest.mark.parametrize("csrf", [False, True])
def test_an_over_large_form_gets_a_friendly_page(small_limit, client, counts, csrf):
    small_limit.config["WTF_CSRF_ENABLED"] = csrf

    response = client.post(
        "/newsletter/subscribe?lang=en",
        data={"email": "ada@example.org", "name": "x" * (2 * LIMIT), "consent": "y"},
    )

    assert response.status_code == 413
    assert response.mimetype == "text/html"
    html = page(response)
    assert html.one("h1").text == "Too much data"
    assert "What you sent is too large: at most 2 KB fit in one form." in html.text
    assert counts() == (0, 0)


def test_the_page_names_the_limit_in_the_readers_language(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024

    response = client.post("/become-a-partner?lang=de", data={"description": "x" * 1_100_000})

    assert response.status_code == 413
    assert page(response).one("h1").text == "Zu viele Daten"
    assert "1 MB" in page(response).text
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_the_api_answers_413_in_json(small_limit, client, make_event, counts):
    event = make_event()

    response = client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={"name": "x" * (2 * LIMIT), "email": "ada@example.org", "language": "de"},
    )

    assert response.status_code == 413
    assert response.mimetype == "application/json"
    assert response.get_json()["error"] == "request_entity_too_large"
    assert response.get_json()["message"]
    assert counts() == (0, 0)
