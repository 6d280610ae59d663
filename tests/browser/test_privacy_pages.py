"""The data-protection pages are valid HTML (Nu Html Checker) and pass axe-core in Chromium.

Every page of the public request and of the staff's look-up is rendered with
the test client and checked in one run of vnu.jar; then a person asks for a
copy of their data and a staff member looks them up in headless Chromium,
with axe-core on the request page, the link's page, the export and the
staff's person page.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import MessageKind, OutboxMessage, QuestionKind
from outreach.services import privacy, privacy_requests
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

ADA = "ada@example.org"


@pytest.fixture
def ada(make_event, make_registration):
    event = make_event(
        title="Erzählcafé",
        questions=[{"kind": QuestionKind.SHORT_TEXT, "label": {"de": "Wunsch", "en": "Wish"}}],
    )
    return make_registration(event, email=ADA, name="Ada Lovelace").registration


def _link(kind: str, email: str = ADA) -> str:
    """Ask as the person would, and return the path of the link the mail will carry."""
    privacy_requests.ask(email, kind, language="en")
    row = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.kind == MessageKind.PRIVACY_REQUEST)
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    ).one()
    return f"/privacy/request/{row.payload['token']}"


def _pages(client, staff) -> dict[str, str]:
    pages: dict[str, str] = {}

    def get(name: str, url: str, status: int = 200) -> None:
        response = client.get(url)
        assert response.status_code == status, f"{url} answered {response.status_code}"
        pages[name] = response.get_data(as_text=True)

    def post(name: str, url: str, data: dict, status: int = 200) -> None:
        response = client.post(url, data=data)
        assert response.status_code == status, f"POST {url} answered {response.status_code}"
        pages[name] = response.get_data(as_text=True)

    get("request-de", "/privacy/request")
    get("request-en", "/privacy/request?lang=en")
    post("request-errors", "/privacy/request?lang=en", {"email": "x", "kind": ""}, 422)
    get("sent", "/privacy/request/sent?lang=en")
    get("link-invalid", "/privacy/request/" + "x" * 43 + "?lang=en", 404)

    export = _link("export")
    get("link-export", f"{export}?lang=en")
    client.post(export)
    get("export", f"{export}?lang=en")
    erasure = _link("erasure", "ben@example.org")
    get("link-erasure", f"{erasure}?lang=en")
    client.post(erasure)
    get("erase-confirm", f"{erasure}?lang=en")
    client.post(f"{erasure}/erase")
    get("erased", f"{erasure}?lang=en")

    client.post("/login", data={"email": staff.email, "password": PASSWORD})
    get("staff-index", "/staff/privacy?lang=en")
    post("staff-index-errors", "/staff/privacy?lang=en", {"email": "x"}, 422)
    post("staff-person", "/staff/privacy?lang=en", {"email": ADA})
    post("staff-nobody", "/staff/privacy?lang=en", {"email": "nobody@example.org"})
    post("staff-printable", "/staff/privacy/export?lang=en", {"email": ADA})
    post("staff-erase", "/staff/privacy/erase?lang=en", {"email": ADA})
    response = client.post("/staff/privacy/erase/confirm", data={"email": ADA})
    get("staff-erased", f"{response.location}?lang=en")
    return pages


def test_privacy_pages_are_valid_html(check_html, client, make_user, ada):
    check_html(_pages(client, make_user("staff", email="lead@example.org")))


def test_privacy_pages_pass_axe(page: Page, check_accessibility, make_user, ada):
    staff = make_user("staff", email="lead@example.org")

    page.goto("/privacy/request?lang=en")
    check_accessibility(page, "request form")
    page.get_by_label("Your email address").fill(ADA)
    page.get_by_label("Send me a copy of my data").check()
    page.get_by_role("button", name="Send me the link").click()
    expect(page.get_by_role("heading", name="Please check your email", level=1)).to_be_visible()
    check_accessibility(page, "request sent")

    row = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == MessageKind.PRIVACY_REQUEST)
    ).one()
    page.goto(f"/privacy/request/{row.payload['token']}?lang=en")
    expect(page.get_by_role("heading", name="A copy of your data", level=1)).to_be_visible()
    check_accessibility(page, "link page")
    page.get_by_role("button", name="Show my data").click()
    expect(page.get_by_role("heading", name="Your data", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Erzählcafé")).to_be_visible()
    check_accessibility(page, "export page")

    page.goto("/login?lang=en")
    page.get_by_label("Email address").fill(staff.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/staff/privacy?lang=en")
    check_accessibility(page, "staff look-up")
    page.get_by_label("Email address").fill(ADA)
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("heading", name=f"Data held about {ADA}", level=1)).to_be_visible()
    check_accessibility(page, "staff person page")
    assert privacy.find_person(ADA).registrations
