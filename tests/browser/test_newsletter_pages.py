"""The newsletter's pages in a browser: valid HTML (Nu Html Checker) and axe-core checks.

The public pages, the partner's contribution pages and the staff's issue
pages are rendered with the Flask test client and checked in one run of
vnu.jar. A person then subscribes and confirms in headless Chromium, with
every public page on the way checked by axe-core.
"""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import MessageKind, OutboxMessage, Subscriber, SubscriberStatus
from outreach.services import contributions, newsletter_issues
from outreach.services.contributions import ContributionInput
from outreach.services.newsletter_issues import IssueInput
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def picture_folder(app, tmp_path):
    app.config["CONTRIBUTION_IMAGE_DIR"] = str(tmp_path / "pictures")


def _png() -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (120, 80), "navy").save(data, "PNG")
    data.seek(0)
    return data


@pytest.fixture
def world(make_org, make_user, make_event):
    """A published issue with two contributions, a draft with one, and one left in the pool."""
    make_event(topics=["culture", "education"])
    own = make_org(slug="sahel-forum", name="Sahel Forum")
    partner = make_user("partner", org=own, email="amina@example.org")
    staff = make_user("staff", email="team@example.org")
    texts = {
        "de": {"title": "Unser Sommerfest", "body": "Wir **feiern** im Park.\n\n- Musik\n- Essen"},
        "en": {"title": "Our summer party", "body": "We **celebrate** in the park."},
    }
    first = contributions.submit_contribution(
        ContributionInput(texts=texts), by=partner, image=_png()
    )
    second = contributions.submit_contribution(
        ContributionInput(texts={"de": {"title": "Elterncafé", "body": "Jeden Freitag."}}),
        by=make_user("partner"),
    )
    issue = newsletter_issues.create_issue(
        IssueInput(
            slug="2026-herbst",
            title={"de": "Herbst 2026", "en": "Autumn 2026"},
            intro={"de": "Liebe Leserinnen und Leser,", "en": "Dear readers,"},
        ),
        by=staff,
    )
    for contribution in (first, second):
        newsletter_issues.add_to_issue(issue, contribution, by=staff)
        newsletter_issues.review_contribution(contribution, accept=True, note="Danke!", by=staff)
    newsletter_issues.send_issue(issue, by=staff)
    draft = newsletter_issues.create_issue(
        IssueInput(slug="2027-fruehling", title={"de": "Frühling 2027"}), by=staff
    )
    waiting = contributions.submit_contribution(
        ContributionInput(texts={"de": {"title": "Lesung", "body": "Am Sonntag."}}), by=partner
    )
    newsletter_issues.add_to_issue(draft, waiting, by=staff)
    contributions.submit_contribution(
        ContributionInput(texts={"en": {"title": "Open day", "body": "Come along."}}), by=partner
    )
    ids = {"issue": issue.id, "draft": draft.id, "first": first.id, "waiting": waiting.id}
    db.session.remove()
    return ids


def _confirmation_token(client) -> str:
    client.post(
        "/newsletter/subscribe?lang=en",
        data={"email": "leyla@example.org", "language": "de", "consent": "y"},
    )
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == MessageKind.NEWSLETTER_CONFIRMATION)
    ).one()
    return message.payload["token"]


def _public_pages(client, world) -> dict[str, tuple[str, str]]:
    token = _confirmation_token(client)
    pages = {
        "subscribe-de": "/newsletter/subscribe?lang=de",
        "subscribe-en": "/newsletter/subscribe?lang=en",
        "thanks": "/newsletter/subscribe/thanks?lang=en",
        "confirm-pending": f"/newsletter/confirm/{token}?lang=en",
        "link-invalid": "/newsletter/confirm/not-a-token?lang=en",
        "archive": "/newsletter?lang=en",
        "issue-de": "/newsletter/2026-herbst?lang=de",
        "issue-en": "/newsletter/2026-herbst?lang=en",
    }
    found = {name: (url, client.get(url).get_data(as_text=True)) for name, url in pages.items()}
    errors = client.post("/newsletter/subscribe?lang=en", data={"email": "nope"})
    found["subscribe-errors"] = ("/newsletter/subscribe (errors)", errors.get_data(as_text=True))
    client.post(f"/newsletter/confirm/{token}")
    url = f"/newsletter/confirm/{token}?lang=en"
    found["confirm-active"] = (url, client.get(url).get_data(as_text=True))
    return found


def _workspace_pages(client, world) -> dict[str, tuple[str, str]]:
    client.post("/login", data={"email": "amina@example.org", "password": PASSWORD})
    first, waiting = world["first"], world["waiting"]
    pages = {
        "partner-list": "/partner/contributions?lang=en",
        "partner-new": "/partner/contributions/new?lang=en",
        "partner-accepted": f"/partner/contributions/{first}?lang=en",
        "partner-edit": f"/partner/contributions/{waiting}/edit?lang=de",
    }
    found = {name: (url, client.get(url).get_data(as_text=True)) for name, url in pages.items()}
    errors = client.post("/partner/contributions/new?lang=en", data={"title_de": "Nur ein Titel"})
    found["partner-errors"] = ("partner form with errors", errors.get_data(as_text=True))
    client.post("/logout")
    client.post("/login", data={"email": "team@example.org", "password": PASSWORD})
    issue, draft = world["issue"], world["draft"]
    pages = {
        "staff-list": "/staff/newsletter?lang=en",
        "staff-new": "/staff/newsletter/new?lang=en",
        "staff-sent": f"/staff/newsletter/{issue}?lang=en",
        "staff-draft": f"/staff/newsletter/{draft}?lang=de",
        "staff-edit": f"/staff/newsletter/{draft}/edit?lang=en",
        "staff-review": f"/staff/newsletter/contributions/{waiting}?lang=en",
        "staff-preview": f"/staff/newsletter/{issue}/preview?version=en&lang=en",
        "staff-email": f"/staff/newsletter/{issue}/preview/email?version=de&lang=en",
        "staff-send": f"/staff/newsletter/{draft}/send?lang=en",
    }
    for name, url in pages.items():
        found[name] = (url, client.get(url).get_data(as_text=True))
    return found


def test_newsletter_pages_are_valid_html(check_html, client, world):
    pages = {**_public_pages(client, world), **_workspace_pages(client, world)}
    for name, (url, html) in pages.items():
        assert "<html" in html, f"{name} ({url}) did not render"
    check_html({name: html for name, (_url, html) in pages.items()})


def _subscriber() -> Subscriber | None:
    db.session.remove()  # a new transaction, to see what the server committed
    found = db.session.scalar(select(Subscriber))
    db.session.remove()
    return found


def _token() -> str:
    db.session.remove()
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == MessageKind.NEWSLETTER_CONFIRMATION)
    ).one()
    db.session.remove()
    return message.payload["token"]


def test_a_reader_subscribes_confirms_and_reads(page: Page, world, check_accessibility):
    page.goto("/newsletter?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Newsletter")
    check_accessibility(page, "archive")
    page.get_by_role("link", name="Autumn 2026").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Autumn 2026")
    expect(page.get_by_role("heading", name="Our summer party")).to_be_visible()
    check_accessibility(page, "issue")

    page.get_by_role("link", name="Subscribe to the newsletter").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Subscribe to the newsletter")
    check_accessibility(page, "subscribe form")
    # The trap for robots is not there for assistive technology.
    expect(page.get_by_role("textbox", name="Leave this field empty")).to_have_count(0)

    page.get_by_role("textbox", name=re.compile(r"^Email address")).fill("leyla@example.org")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("alert")).to_contain_text("Please agree")
    check_accessibility(page, "subscribe form with errors")
    assert _subscriber() is None

    page.get_by_role("radio", name="Deutsch").check()
    page.get_by_role("checkbox", name="Culture").check()
    page.get_by_role("checkbox", name=re.compile(r"^Yes, please send me the newsletter")).check()
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Please confirm your subscription")
    check_accessibility(page, "thanks")
    person = _subscriber()
    assert (person.status, person.language, person.interests) == (
        SubscriberStatus.PENDING,
        "de",
        ["culture"],
    )

    page.goto(f"/newsletter/confirm/{_token()}?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your subscription")
    check_accessibility(page, "confirmation page")
    assert _subscriber().status is SubscriberStatus.PENDING
    page.get_by_role("button", name="Yes, confirm my subscription").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your subscription is confirmed")
    check_accessibility(page, "confirmed")
    assert _subscriber().status is SubscriberStatus.ACTIVE

    page.goto("/newsletter/confirm/not-a-token?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "This confirmation link is not valid any more"
    )
    check_accessibility(page, "invalid link")


def test_workspace_newsletter_pages_pass_axe(page: Page, world, check_accessibility):
    page.goto("/login?lang=en")
    page.get_by_role("textbox", name=re.compile(r"^Email address")).fill("amina@example.org")
    page.get_by_label(re.compile(r"^Password")).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/partner/contributions?lang=en")
    check_accessibility(page, "partner contributions")
    page.get_by_role("link", name="Write a contribution").first.click()
    check_accessibility(page, "partner contribution form")
    page.get_by_role("textbox", name="Title (German)").fill("Herbstfest")
    page.get_by_role("textbox", name=re.compile(r"^Text \(German\)")).fill("Wir laden ein.")
    page.get_by_role("button", name="Submit the contribution").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Herbstfest")
    check_accessibility(page, "partner contribution")
