"""Every main page is valid HTML, as the Nu Html Checker (vnu.jar) reads it.

The pages are rendered by the Flask test client, written to a folder and
checked in one run of the checker (starting Java once is the slow part).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from outreach.extensions import db
from outreach.models import QuestionKind, Role, User, utcnow
from outreach.services.account_links import RESET, issue_link_token
from outreach.services.users import create_user

QUESTIONS = [
    dict(
        kind=QuestionKind.SINGLE_CHOICE,
        required=True,
        label={"de": "Brauchen Sie eine Verdolmetschung?", "en": "Do you need interpretation?"},
        options=[
            {"value": "none", "label": {"de": "Nein", "en": "No"}},
            {"value": "ar", "label": {"de": "Arabisch", "en": "Arabic"}},
        ],
    ),
    dict(
        kind=QuestionKind.MULTIPLE_CHOICE,
        label={"de": "Ernährung", "en": "Dietary needs"},
        options=[
            {"value": "vegan", "label": {"de": "vegan", "en": "vegan"}},
            {"value": "halal", "label": {"de": "halal", "en": "halal"}},
        ],
    ),
    dict(kind=QuestionKind.LONG_TEXT, label={"de": "Barrierefreiheit", "en": "Accessibility"}),
    dict(kind=QuestionKind.SHORT_TEXT, label={"de": "Organisation", "en": "Organisation"}),
    dict(kind=QuestionKind.CHECKBOX, label={"de": "Ich bringe Kinder mit", "en": "Children"}),
]


def _pages(client, make_org, make_event, make_registration) -> dict[str, tuple[str, str]]:
    """Render the pages worth checking; return {file name: (url, html)}."""
    host = make_org(slug="brueckenwerk", name="Brückenwerk e.V.", website="https://example.org")
    partner = make_org(slug="sahel-forum", name="Sahel Forum")
    event = make_event(
        slug="elternabend",
        title="Elternabend",
        hosts=[host, partner],
        topics=["education"],
        languages=["de", "tr"],
        capacity=20,
        max_guests=2,
        venue_address="Wissmannstraße 32",
        online_url="https://meet.example.org/x",
        questions=QUESTIONS,
    )
    full = make_event(slug="ausgebucht", title="Ausgebucht", hosts=[host], capacity=1)
    make_registration(full)
    past_start = utcnow().replace(microsecond=0) - timedelta(days=10)
    make_event(slug="rueckblick", title="Rückblick", hosts=[host], starts_at=past_start)
    interpretation = str(event.questions[0].id)
    token = make_registration(event, guests=1, answers={interpretation: "none"}).token

    gets = {
        "list-de": "/?lang=de",
        "list-en": "/?lang=en",
        "list-filtered": "/?topic=education&format=in_person&lang=en",
        "past": "/events/past",
        "event-de": "/events/elternabend?lang=de",
        "event-en": "/events/elternabend?lang=en",
        "event-full": "/events/ausgebucht",
        "organisation": "/organisations/brueckenwerk",
        "manage-de": f"/r/{token}?lang=de",
        "manage-en": f"/r/{token}?lang=en",
        "not-found": "/no-such-page",
        "bad-token": "/r/" + "x" * 43,
        "login": "/login?lang=en&next=/events/past",
        "forgot-password": "/password/forgot?lang=en",
        "bad-reset-link": "/password/reset/not-a-token?lang=en",
    }
    pages: dict[str, tuple[str, str]] = {}
    for name, url in gets.items():
        response = client.get(url)
        expected = 404 if name in ("not-found", "bad-token", "bad-reset-link") else 200
        assert response.status_code == expected, f"{url} answered {response.status_code}"
        pages[name] = (url, response.get_data(as_text=True))

    url = "/events/elternabend?lang=en"
    with_errors = client.post(url, data={"name": "", "email": "not an address"})
    assert with_errors.status_code == 422, "an incomplete form should come back with errors"
    pages["event-errors"] = (url + " (POST, errors)", with_errors.get_data(as_text=True))

    thanks = client.post(
        url,
        data={
            "name": "Ada Lovelace",
            "email": "ada@example.org",
            "language": "en",
            "guests": "0",
            f"q_{interpretation}": "ar",
            "consent": "y",
        },
        follow_redirects=True,
    )
    assert thanks.status_code == 200
    assert thanks.request.path == "/events/elternabend/registered"
    pages["thank-you"] = (thanks.request.path, thanks.get_data(as_text=True))

    wrong = client.post("/login?lang=en", data={"email": "ada@example.org", "password": "x"})
    assert wrong.status_code == 401
    pages["login-refused"] = ("/login (POST, refused)", wrong.get_data(as_text=True))
    create_user(
        email="partner@example.org",
        role=Role.PARTNER,
        password="correct horse battery",
        org_slug="sahel-forum",
    )
    account = client.post(
        "/login?lang=en",
        data={"email": "partner@example.org", "password": "correct horse battery"},
        follow_redirects=True,
    )
    assert account.request.path == "/account"
    pages["account"] = ("/account", account.get_data(as_text=True))
    partner = db.session.scalar(select(User).where(User.email == "partner@example.org"))
    reset = client.get(f"/password/reset/{issue_link_token(partner, RESET)}?lang=en")
    assert reset.status_code == 200
    pages["reset-password"] = ("/password/reset/<token>", reset.get_data(as_text=True))
    return pages


def test_main_pages_are_valid_html(check_html, client, make_org, make_event, make_registration):
    pages = _pages(client, make_org, make_event, make_registration)

    check_html({name: html for name, (_url, html) in pages.items()})
