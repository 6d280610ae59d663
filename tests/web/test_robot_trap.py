"""The robot trap on every public form: a hidden field, and a minimum time to fill it in.

The same checks run against each form (registration, newsletter, become a
partner, forgotten password). With FORM_MIN_SECONDS set, a form sent back at
once is shown again with a request to send it once more, and nothing is
stored; sent after the wait it goes through. A stamp we did not sign is
refused. A robot that fills the hidden field gets the answer a person gets,
and nothing is stored or sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.models import OutboxMessage, PartnerApplication, Registration, Subscriber
from tests.conftest import PASSWORD
from tests.web.html import page

QUICK = "That was very quick. Please check your entries, then send the form again."
MIN_SECONDS = 5


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


@dataclass
class PublicForm:
    url: str
    data: dict
    success: int  # the status a person's accepted form gets
    stored: Callable[[], tuple[int, ...]]  # what the form writes, counted


@pytest.fixture(params=["register", "subscribe", "apply", "forgot"])
def form(request, app, make_event, make_user) -> PublicForm:
    if request.param == "register":
        event = make_event(slug="trap")
        return PublicForm(
            f"/events/{event.slug}",
            {"name": "Ada", "email": "ada@example.org", "language": "de", "consent": "y"},
            303,
            lambda: (_count(Registration), _count(OutboxMessage)),
        )
    if request.param == "subscribe":
        return PublicForm(
            "/newsletter/subscribe",
            {"email": "ada@example.org", "language": "de", "consent": "y"},
            303,
            lambda: (_count(Subscriber), _count(OutboxMessage)),
        )
    if request.param == "apply":
        return PublicForm(
            "/become-a-partner",
            {
                "organisation_name": "Neue Brücke e.V.",
                "city": "Köln",
                "contact_name": "Lina",
                "contact_email": "lina@example.org",
                "languages": ["de"],
                "description": "Nachbarschaftsarbeit in Köln-Kalk.",
                "consent": "y",
            },
            303,
            lambda: (_count(PartnerApplication), _count(OutboxMessage)),
        )
    make_user("staff", email="ada@example.org", password=PASSWORD)
    return PublicForm(
        "/password/forgot", {"email": "ada@example.org"}, 200, lambda: (_count(OutboxMessage),)
    )


def stamp(app, *, seconds_ago: float, key: str | None = None) -> str:
    """A time stamp as the form writes it, signed for a moment ``seconds_ago``."""
    signer = URLSafeSerializer(key or app.config["SECRET_KEY"], salt="outreach.robot-trap")
    return signer.dumps(round(time.time() - seconds_ago, 3))


def shown_stamp(client, url: str) -> str:
    [field] = page(client.get(f"{url}?lang=en")).all("input", name="rendered_at")
    return field.attrs["value"]


@pytest.fixture
def waiting(app):
    app.config["FORM_MIN_SECONDS"] = MIN_SECONDS
    return app


def test_every_public_form_shows_the_trap_once_and_hidden(client, form):
    html = page(client.get(f"{form.url}?lang=en"))

    trap = html.one("input", name="homepage")
    assert trap.parent.attrs["aria-hidden"] == "true"
    assert "visually-hidden" in trap.parent.attrs["class"].split()
    assert trap.attrs["tabindex"] == "-1" and trap.attrs["autocomplete"] == "off"
    assert len(html.all("input", name="rendered_at")) == 1  # not twice with hidden_tag()


def test_a_form_sent_at_once_is_shown_again_and_nothing_is_stored(client, form, waiting):
    before = form.stored()
    rendered_at = shown_stamp(client, form.url)

    response = client.post(f"{form.url}?lang=en", data={**form.data, "rendered_at": rendered_at})

    assert response.status_code == 422
    html = page(response)
    assert QUICK in html.one(class_="error-summary").text
    assert form.stored() == before
    # The person's entries are kept, with a new stamp to wait for.
    assert html.one("input", name="rendered_at").attrs["value"] != rendered_at


def test_a_form_sent_after_the_wait_is_accepted(app, client, form, waiting):
    before = form.stored()

    response = client.post(
        form.url, data={**form.data, "rendered_at": stamp(app, seconds_ago=MIN_SECONDS + 1)}
    )

    assert response.status_code == form.success
    assert form.stored() != before


def test_waiting_for_real_works_too(app, client, form):
    app.config["FORM_MIN_SECONDS"] = 0.5
    before = form.stored()
    rendered_at = shown_stamp(client, form.url)

    time.sleep(0.6)
    response = client.post(form.url, data={**form.data, "rendered_at": rendered_at})

    assert response.status_code == form.success
    assert form.stored() != before


@pytest.mark.parametrize(
    "forged",
    [
        "",
        "1700000000.0",
        "not-a-stamp",
        "MTcwMDAwMDAwMC4w.bad-signature",
        "other-key",
    ],
)
def test_a_stamp_we_did_not_sign_is_refused(app, client, form, waiting, forged):
    before = form.stored()
    if forged == "other-key":
        forged = stamp(app, seconds_ago=3600, key="somebody else's key, long enough to matter")

    response = client.post(f"{form.url}?lang=en", data={**form.data, "rendered_at": forged})

    assert response.status_code == 422
    assert QUICK in page(response).text
    assert form.stored() == before


def test_a_filled_trap_field_stores_nothing_and_answers_like_a_success(client, form):
    before = form.stored()

    response = client.post(form.url, data={**form.data, "homepage": "https://spam.example"})

    assert response.status_code == form.success
    assert form.stored() == before


def test_a_filled_trap_field_gets_the_same_page_as_a_person(client, make_event):
    make_event(slug="trap")
    robot = client.post("/events/trap", data={"homepage": "x", "name": "Bot"})
    after_robot = client.get(robot.headers["Location"])

    assert robot.status_code == 303
    assert robot.headers["Location"] == "/events/trap/registered"
    assert after_robot.status_code == 200  # the thank-you page, as for a person
    assert _count(Registration) == 0
