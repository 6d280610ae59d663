"""Becoming a partner, in headless Chromium: the form, its errors, thanks, and staff's answer.

Every page on the way is checked with axe-core, and the same pages, rendered
by the test client, with the Nu Html Checker. Locators go by role and label,
so each step also proves that the controls are named for assistive technology.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import ApplicationStatus, MessageKind, OutboxMessage, PartnerApplication
from outreach.services.applications import ApplicationInput, apply
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _stored() -> list[tuple[str, ApplicationStatus, list[str]]]:
    db.session.remove()  # a new transaction, to see what the server committed
    rows = [
        (row.organisation_name, row.status, row.languages)
        for row in db.session.scalars(select(PartnerApplication).order_by(PartnerApplication.id))
    ]
    db.session.remove()
    return rows


def _kinds() -> list[MessageKind]:
    db.session.remove()
    kinds = list(db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)))
    db.session.remove()
    return kinds


def _application(name: str = "Sahel Forum e.V.") -> int:
    """Apply through the service; return the new application's id."""
    data = ApplicationInput(
        organisation_name=name,
        contact_name="Amina Diallo",
        contact_email="amina@sahel-forum.example",
        description="Elternabende auf Französisch und Wolof.",
        city="Leipzig",
        website="https://sahel-forum.example",
        languages=["fr", "de"],
        consent=True,
    )
    application_id = apply(data, language="de").application.id
    db.session.remove()
    return application_id


def test_an_organisation_applies(page: Page, check_accessibility):
    page.goto("/become-a-partner")
    expect(page.get_by_role("heading", level=1)).to_have_text("Become a partner organisation")
    check_accessibility(page, "application form")
    # The trap for robots is not there for assistive technology.
    expect(page.get_by_role("textbox", name="Leave this field empty")).to_have_count(0)

    page.get_by_role("button", name="Send the application").click()
    expect(page.get_by_role("alert")).to_contain_text("Please enter the name of your organisation.")
    check_accessibility(page, "application form with errors")
    assert _stored() == []

    page.get_by_role("textbox", name=re.compile(r"^Name of your organisation")).fill("Sahel Forum")
    page.get_by_role("textbox", name=re.compile(r"^Website")).fill("sahel-forum.example")
    page.get_by_role("textbox", name=re.compile(r"^City")).fill("Leipzig")
    page.get_by_role("checkbox", name="French").check()
    page.get_by_role("checkbox", name="German").check()
    page.get_by_role("textbox", name=re.compile(r"^What does your organisation do")).fill(
        "Parents' evenings in French."
    )
    page.get_by_role("textbox", name=re.compile(r"^Contact person")).fill("Amina Diallo")
    page.get_by_role("textbox", name=re.compile(r"^Email address")).fill("amina@sahel.example")
    page.get_by_role("checkbox", name=re.compile(r"^I agree that")).check()
    page.get_by_role("button", name="Send the application").click()

    expect(page).to_have_url(re.compile(r"/become-a-partner/thanks$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your application")
    check_accessibility(page, "thank-you page")
    assert _stored() == [("Sahel Forum", ApplicationStatus.PENDING, ["fr", "de"])]
    assert _kinds() == [MessageKind.APPLICATION_RECEIVED]


@pytest.mark.parametrize("browser_locale", ["de-DE"])
def test_the_german_form_is_accessible(page: Page, check_accessibility):
    page.goto("/become-a-partner")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    check_accessibility(page, "German application form")


def test_staff_decline_an_application(page: Page, make_user, check_accessibility):
    staff_email = make_user("staff").email
    application_id = _application()

    page.goto("/login")
    page.get_by_role("textbox", name=re.compile(r"^Email address")).fill(staff_email)
    page.get_by_label(re.compile(r"^Password")).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto("/staff/applications")
    check_accessibility(page, "list of applications")
    page.get_by_role("link", name="Sahel Forum e.V.").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sahel Forum e.V.")
    check_accessibility(page, "application page")

    page.get_by_role("link", name=re.compile(r"^Decline the application")).click()
    check_accessibility(page, "decline confirmation")
    page.get_by_role("textbox", name=re.compile(r"^A note for the applicant")).fill(
        "We only work in Saxony for now."
    )
    page.get_by_role("button", name="Yes, decline the application").click()

    expect(page).to_have_url(re.compile(rf"/staff/applications/{application_id}$"))
    expect(page.get_by_role("status")).to_contain_text("We have sent the applicant an email.")
    check_accessibility(page, "declined application")
    assert _stored()[0][1] is ApplicationStatus.DECLINED
    assert _kinds() == [MessageKind.APPLICATION_RECEIVED, MessageKind.APPLICATION_DECLINED]


# -- valid HTML -----------------------------------------------------------------------


def _pages(client, login, make_user) -> dict[str, str]:
    """Render the pages of this feature; return {name: html}."""
    pages: dict[str, str] = {}

    def keep(name: str, response, status: int = 200) -> None:
        assert response.status_code == status, f"{name} answered {response.status_code}"
        pages[name] = response.get_data(as_text=True)

    keep("form-de", client.get("/become-a-partner?lang=de"))
    keep("form-en", client.get("/become-a-partner?lang=en"))
    keep(
        "form-errors",
        client.post("/become-a-partner?lang=en", data={"website": "ftp://x"}),
        status=422,
    )
    keep("thanks", client.get("/become-a-partner/thanks?lang=en"))

    login(make_user("staff"))
    keep("staff-empty-list", client.get("/staff/applications?lang=en"))
    accepted = _application("Elternnetzwerk Ost")
    client.post(f"/staff/applications/{accepted}/accept", data={"slug": "elternnetzwerk"})
    pending = _application()
    keep("staff-list", client.get("/staff/applications?lang=en"))
    keep("staff-show", client.get(f"/staff/applications/{pending}?lang=en"))
    keep(
        "staff-show-errors",
        client.post(f"/staff/applications/{pending}/accept?lang=en", data={"slug": "A B"}),
        status=422,
    )
    keep("staff-decline", client.get(f"/staff/applications/{pending}/decline?lang=en"))
    keep(
        "staff-decided",
        client.post(f"/staff/applications/{accepted}/accept?lang=en", data={"slug": "x"}),
        status=409,
    )
    return pages


def test_the_pages_are_valid_html(check_html, client, login, make_user):
    check_html(_pages(client, login, make_user))
