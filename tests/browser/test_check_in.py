"""Check-in at the door in headless Chromium: a host partner on a phone-sized screen.

Log in, open the check-in page, find a person, check them in: the button
answers in place and the counts change without a reload, and they follow a
check-in made on another phone. The desk pages pass axe-core and the Nu
Html Checker.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from outreach.extensions import db
from outreach.models import QuestionKind, Registration, User
from outreach.services.checkin import check_in, check_in_token
from tests.browser.conftest import TIMEOUT_MS
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def door(make_org, make_user, make_event, make_registration):
    """An event with three people confirmed, and a partner user of the co-host."""
    host, co_host = make_org(name="Brückenwerk e.V."), make_org(name="Sahel Forum")
    event = make_event(
        slug="elternabend",
        title="Parents' evening",
        hosts=[host, co_host],
        capacity=4,
        max_guests=2,
        questions=[
            dict(
                kind=QuestionKind.SHORT_TEXT,
                label={"de": "Telefon", "en": "Phone"},
            )
        ],
    )
    people = {
        "amina": make_registration(event, name="Amina Diallo", guests=1).registration.id,
        "jorg": make_registration(event, name="Jörg Özdemir").registration.id,
        "bo": make_registration(event, name="Bo Berg").registration.id,
    }
    user = make_user("partner", org=co_host, email="door@example.org")
    ids = {"event": event.id, "user": user.id, **people}
    db.session.remove()
    return ids


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_role("textbox", name=re.compile(r"^Email address")).fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/account$"))


def count(page: Page, name: str):
    return page.locator(f"[data-count='{name}']")


def check_in_elsewhere(registration_id: int, user_id: int) -> None:
    """Another phone at the door checks someone in (straight through the service)."""
    db.session.remove()
    check_in(db.session.get(Registration, registration_id), by=db.session.get(User, user_id))
    db.session.remove()


def test_a_host_checks_someone_in_and_the_counts_follow(page: Page, door, check_accessibility):
    page.set_viewport_size(PHONE)
    log_in(page, "door@example.org")
    page.goto(f"/desk/events/{door['event']}/check-in")

    expect(page.get_by_role("heading", level=1, name="Check-in")).to_be_visible()
    expect(count(page, "checked_in")).to_have_text("0")
    expect(count(page, "confirmed")).to_have_text("3")
    # No BarcodeDetector in headless Chromium on Linux: the scan button stays hidden.
    expect(page.get_by_role("button", name="Scan QR code")).to_be_hidden()
    check_accessibility(page, "check-in page")

    page.get_by_role("searchbox", name="Name or email").fill("amina")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", level=2, name="1 person found")).to_be_visible()
    check_accessibility(page, "check-in page with a result")
    page.evaluate("window.stillTheSamePage = true")

    page.get_by_role("button", name="Check in Amina Diallo").click()

    expect(page.get_by_role("status")).to_have_text("Amina Diallo is checked in.")
    expect(count(page, "checked_in")).to_have_text("1")
    expect(count(page, "guests_arrived")).to_have_text("1")
    expect(page.get_by_role("button", name="Undo Amina Diallo")).to_be_focused()
    assert page.evaluate("window.stillTheSamePage") is True, "the page must not reload"
    check_accessibility(page, "check-in page after a check-in")

    # A colleague checks someone in on another phone: the counts catch up by themselves.
    check_in_elsewhere(door["jorg"], door["user"])
    expect(count(page, "checked_in")).to_have_text("2", timeout=TIMEOUT_MS)

    page.get_by_role("button", name="Undo Amina Diallo").click()
    expect(page.get_by_role("status")).to_have_text("The check-in of Amina Diallo is undone.")
    expect(count(page, "checked_in")).to_have_text("1")
    expect(page.get_by_role("button", name="Check in Amina Diallo")).to_be_visible()
    assert page.evaluate("window.stillTheSamePage") is True

    db.session.remove()
    assert db.session.get(Registration, door["amina"]).checked_in_at is None
    assert db.session.get(Registration, door["jorg"]).checked_in_at is not None
    db.session.remove()


def test_the_qr_code_link_checks_in_after_a_tap(page: Page, door, check_accessibility):
    db.session.remove()
    token = check_in_token(db.session.get(Registration, door["bo"]))
    db.session.remove()
    log_in(page, "door@example.org")

    page.goto(f"/check-in/scan/{token}")
    expect(page.get_by_role("heading", level=1, name="Bo Berg")).to_be_visible()
    check_accessibility(page, "scan page")
    page.get_by_role("button", name="Check in").click()

    expect(page.get_by_role("status")).to_contain_text("Bo Berg is checked in.")
    expect(page.get_by_text(re.compile(r"Already checked in at"))).to_be_visible()
    check_accessibility(page, "scan page after the check-in")


def test_the_desk_pages_are_valid_html(check_html, client, login, door):
    """The registration list, the message form, the door and a scanned code, in vnu.jar."""
    user = db.session.get(User, door["user"])
    login(user)
    base = f"/desk/events/{door['event']}"
    registration = db.session.get(Registration, door["amina"])
    client.post(f"{base}/check-in/{door['amina']}")
    urls = {
        "registrations": f"{base}/registrations?lang=en",
        "registrations-empty-search": f"{base}/registrations?lang=en&q=nobody",
        "announce": f"{base}/announce?lang=en",
        "check-in": f"{base}/check-in?lang=en",
        "check-in-results": f"{base}/check-in?lang=en&q=o",
        "scan": f"/check-in/scan/{check_in_token(registration)}?lang=en",
    }
    pages = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, url
        pages[name] = response.get_data(as_text=True)
    preview = client.post(
        f"{base}/announce?lang=en",
        data={"subject": "Room", "body": "Hall 2\nsecond line", "audience": "active"},
    )
    pages["announce-preview"] = preview.get_data(as_text=True)
    errors = client.post(f"{base}/announce?lang=en", data={"subject": "", "audience": "x"})
    assert errors.status_code == 422
    pages["announce-errors"] = errors.get_data(as_text=True)

    check_html(pages)
