"""The staff workspace is valid HTML (Nu Html Checker) and passes axe-core in Chromium."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from outreach.extensions import db
from outreach.models import (
    ApplicationStatus,
    EventStatus,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    PartnerApplication,
    utcnow,
)
from outreach.services.review import submit
from outreach.services.scheduling import reschedule
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def workspace(make_org, make_user, make_event, make_registration):
    """A staff member, partners, events in every state with history, mail and an application."""
    host = make_org(name="Brückenwerk e.V.", slug="brueckenwerk", website="https://example.org")
    partner_org = make_org(name="Sahel Forum", slug="sahel-forum")
    staff = make_user("staff", name="Selin Kaya")
    partner = make_user("partner", org=partner_org, name="Awa Ndiaye")
    published = make_event(
        title="Elternabend", hosts=[host, partner_org], capacity=2, topics=["education"]
    )
    for _ in range(3):
        make_registration(published)
    reschedule(published, by=staff, venue_name="Rathaus", venue_city="Leipzig")
    draft = make_event(title="Erzählcafé", status=EventStatus.DRAFT, hosts=[partner_org])
    submitted = submit(draft, by=partner)
    make_event(title="Lesung", status=EventStatus.CANCELLED, hosts=[host])
    db.session.add_all(
        [
            OutboxMessage(
                kind=MessageKind.REMINDER,
                status=MessageStatus.FAILED,
                recipient="gone@example.org",
                language="de",
                dedupe_key="reminder:browser-test",
                attempts=8,
                last_error="550 5.1.1 Mailbox unavailable",
                event_id=published.id,
                created_at=utcnow() - timedelta(hours=2),
            ),
            PartnerApplication(
                organisation_name="Anadolu Kulturverein",
                contact_name="Deniz",
                contact_email="deniz@example.org",
                description="Kulturarbeit",
                language="de",
                consent_version="1",
                consented_at=utcnow(),
                status=ApplicationStatus.PENDING,
            ),
        ]
    )
    db.session.commit()
    return {
        "staff": staff,
        "partner": partner,
        "host": host,
        "published": published,
        "submitted": submitted,
    }


def _render(client, workspace) -> dict[str, str]:
    """Render the staff pages worth checking, as a logged-in staff member; {name: html}."""
    response = client.post("/login", data={"email": workspace["staff"].email, "password": PASSWORD})
    assert response.status_code == 303
    published, submitted = workspace["published"], workspace["submitted"]
    gets = {
        "dashboard-de": "/staff/",
        "dashboard-en": "/staff/?lang=en",
        "events": "/staff/events?lang=en",
        "events-filtered": "/staff/events?status=draft&q=nothing&lang=en",
        "event-published": f"/staff/events/{published.id}?lang=en",
        "event-submitted": f"/staff/events/{submitted.id}",
        "cancel": f"/staff/events/{published.id}/cancel?lang=en",
        "organisations": "/staff/organisations?lang=en",
        "organisation": f"/staff/organisations/{workspace['host'].id}?lang=en",
        "new-organisation": "/staff/organisations/new?lang=en",
        "users": "/staff/users?lang=en",
        "deactivate": f"/staff/users/{workspace['partner'].id}/deactivate?lang=en",
        "deactivate-self": f"/staff/users/{workspace['staff'].id}/deactivate?lang=en",
        "mail": "/staff/mail?lang=en",
    }
    pages = {}
    for name, url in gets.items():
        response = client.get(url)
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        pages[name] = response.get_data(as_text=True)
    posts = {
        "changes-errors": (f"/staff/events/{submitted.id}/request-changes?lang=en", {}, 422),
        "organisation-errors": (
            "/staff/organisations/new?lang=en",
            {"name": "", "website": "ftp://x", "contact_email": "x"},
            422,
        ),
        "cancel-errors": (f"/staff/events/{published.id}/cancel", {"reason": "x" * 2001}, 422),
        "invite-errors": (
            f"/staff/organisations/{workspace['host'].id}/invite?lang=en",
            {"email": ""},
            422,
        ),
    }
    for name, (url, data, expected) in posts.items():
        response = client.post(url, data=data)
        assert response.status_code == expected, f"POST {url} answered {response.status_code}"
        pages[name] = response.get_data(as_text=True)
    return pages


def test_staff_pages_are_valid_html(check_html, client, workspace):
    check_html(_render(client, workspace))


def test_staff_pages_pass_axe(page: Page, workspace, check_accessibility):
    page.goto("/login?lang=en")
    page.get_by_label("Email address").fill(workspace["staff"].email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto("/staff/?lang=en")
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    check_accessibility(page, "staff dashboard")

    page.get_by_role("link", name="Erzählcafé").first.click()
    expect(page.get_by_role("heading", name="Erzählcafé", level=1)).to_be_visible()
    check_accessibility(page, "event waiting for review")

    page.get_by_role("button", name="Send back to the hosts").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    check_accessibility(page, "event page with form errors")

    page.goto(f"/staff/events/{workspace['published'].id}?lang=en")
    expect(page.get_by_role("table", name="Changed fields")).to_be_visible()
    check_accessibility(page, "published event with its history")

    page.goto("/staff/mail?lang=en")
    check_accessibility(page, "mail queue")
