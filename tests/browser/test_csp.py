"""The content security policy in Chromium: no page with JavaScript trips over it.

An init script (it runs in every frame before the page's own scripts)
collects ``securitypolicyviolation`` events, and the console is watched for
Chromium's "Refused to …" messages. Each page with a script of ours is
opened and used: the event forms, check-in, campaigns, API tokens, a new
organisation, the newsletter preview, and the public event page with the
registration journey. None may report a violation, and each script must
still do its work.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from outreach.extensions import db
from outreach.models import QuestionKind
from outreach.services import campaigns as campaign_service
from outreach.services.campaigns import CampaignInput
from outreach.services.newsletter_issues import IssueInput, create_issue
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(
    event.violatedDirective + " blocked " + (event.blockedURI || "inline") + " on " +
    event.documentURI
  );
});
"""


class Violations:
    """What the browser refused on the pages of one test, from events and the console."""

    def __init__(self, page: Page):
        self.page = page
        self.console: list[str] = []
        page.add_init_script(COLLECT_VIOLATIONS)
        page.on("console", self._console)

    def _console(self, message) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.console.append(text)

    def found(self) -> list[str]:
        reported = []
        for frame in self.page.frames:
            try:
                reported += frame.evaluate("window.__cspViolations || []")
            except Exception as problem:  # a sandboxed frame without scripts has nothing
                reported.append(f"(could not read {frame.url}: {problem})")
        return reported + self.console

    def assert_none(self, where: str) -> None:
        found = [item for item in self.found() if not item.startswith("(could not read")]
        assert not found, f"CSP violations on {where}:\n" + "\n".join(found)


@pytest.fixture
def violations(page: Page) -> Violations:
    return Violations(page)


STAFF = "selin@example.org"


@pytest.fixture
def staff(make_user):
    return make_user("staff", name="Selin Kaya", email=STAFF)


def log_in(page: Page, email: str) -> None:
    page.goto("/login?lang=en")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/account$"))


def test_the_public_event_page_and_the_registration_journey(
    page: Page, violations, make_org, make_event
):
    make_event(
        slug="elternabend",
        title="Parents' evening",
        hosts=[make_org(name="Sahel Forum")],
        max_guests=2,
        questions=[{"kind": QuestionKind.SHORT_TEXT, "label": {"de": "Telefon", "en": "Phone"}}],
    )

    page.goto("/")
    page.get_by_role("link", name="Parents' evening").click()
    expect(page.get_by_role("heading", level=1, name="Parents' evening")).to_be_visible()
    violations.assert_none("the event page")

    page.get_by_role("textbox", name=re.compile(r"^Your name")).fill("Amina Diallo")
    page.get_by_role("textbox", name=re.compile(r"^Email address")).fill("amina@example.org")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("alert")).to_be_visible()  # consent missing: the form comes back
    violations.assert_none("the event page with errors")

    page.get_by_role("checkbox", name=re.compile(r"^I agree that")).check()
    page.get_by_role("button", name="Register").click()
    expect(page).to_have_url(re.compile(r"/events/elternabend/registered$"))
    violations.assert_none("the thank-you page")


def test_the_slug_helper_on_a_new_organisation(page: Page, violations, staff):
    log_in(page, STAFF)

    page.goto("/staff/organisations/new?lang=en")
    page.get_by_role("textbox", name=re.compile(r"^Name")).fill("Neue Brücke e.V.")

    expect(page.get_by_role("textbox", name=re.compile(r"^Short name"))).to_have_attribute(
        "placeholder", "neue-brucke-e-v"
    )
    violations.assert_none("the new organisation page")


def test_the_event_form_shows_only_what_a_question_uses(page: Page, violations, staff):
    log_in(page, STAFF)

    page.goto("/staff/events/new?lang=en")
    row = page.locator("[data-question-row]").first
    details = row.locator("[data-question-details]")
    answers = row.locator("[data-question-answers]")
    expect(details).to_be_hidden()  # the script hides the parts of an empty row
    row.locator("select").first.select_option("single_choice")
    expect(details).to_be_visible()
    expect(answers).to_be_visible()
    violations.assert_none("the staff event form")


def test_check_in_answers_in_place(page: Page, violations, staff, make_event, make_registration):
    event = make_event(title="Parents' evening")
    make_registration(event, name="Amina Diallo")
    event_id = event.id
    db.session.remove()
    log_in(page, STAFF)

    page.goto(f"/desk/events/{event_id}/check-in?lang=en")
    page.get_by_role("searchbox", name="Name or email").fill("amina")
    page.get_by_role("button", name="Search").click()
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_role("button", name="Check in Amina Diallo").click()

    expect(page.get_by_role("status")).to_have_text("Amina Diallo is checked in.")
    expect(page.locator("[data-count='checked_in']")).to_have_text("1")
    assert page.evaluate("window.stillTheSamePage") is True
    violations.assert_none("the check-in page")


def test_campaign_pages_count_live_and_show_the_preview(
    page: Page, violations, staff, make_event, make_registration
):
    event = make_event(title="Elternabend")
    for number in range(3):
        make_registration(event, email=f"p{number}@example.org")
    campaign = campaign_service.create_campaign(
        CampaignInput(
            kind="outreach",
            name="Sommerfest",
            texts={"en": {"subject": "Hello", "body": "Hello **{{ first_name }}**!"}},
            fallback_language="en",
            segment={"type": "registrants", "events": [event.id]},
        ),
        by=staff,
    )
    campaign_id, event_id = campaign.id, event.id
    db.session.remove()
    log_in(page, STAFF)

    page.goto("/staff/campaigns/new?lang=en")
    expect(page.get_by_role("button", name="Update count")).to_be_hidden()  # the script runs
    page.get_by_label("Events", exact=True).select_option(str(event_id))
    expect(page.locator("[data-segment-size]")).to_contain_text("3 people")
    violations.assert_none("the new campaign page")

    page.goto(f"/staff/campaigns/{campaign_id}?lang=en")
    frame = page.frame_locator("iframe.campaign-preview")
    expect(frame.get_by_text("Hello")).to_be_visible()
    # The preview's own stylesheet applies inside its sandbox (style-src 'self').
    [preview] = [found for found in page.frames if "preview.html" in found.url]
    assert preview.evaluate("getComputedStyle(document.body).paddingTop") == "16px"
    violations.assert_none("the campaign page and its preview")


def test_the_token_page_adds_its_copy_button(page: Page, violations, staff):
    log_in(page, STAFF)

    page.goto("/account/tokens?lang=en")
    page.get_by_role("textbox", name=re.compile(r"^Name of the token")).fill("Import")
    page.get_by_role("button", name="Create a token").click()

    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    violations.assert_none("the token page")


def test_the_newsletter_email_preview_shows_the_email_in_its_frame(page: Page, violations, staff):
    issue = create_issue(IssueInput(slug="herbst", title={"en": "Autumn 2026"}), by=staff)
    issue_id = issue.id
    db.session.remove()
    log_in(page, STAFF)

    page.goto(f"/staff/newsletter/{issue_id}/preview/email?version=en&lang=en")

    frame = page.frame_locator("iframe.nl-mail__frame")
    expect(frame.locator("body")).to_contain_text("Autumn 2026")
    violations.assert_none("the newsletter email preview")


def test_the_watch_sees_a_violation_when_there_is_one(page: Page, violations):
    page.goto("/")
    # What an inline style attribute slipped into a page would do.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    page.wait_for_timeout(200)

    assert any("style-src" in item for item in violations.found())
