"""The privacy notice in headless Chromium (axe-core) and in the Nu Html Checker, both languages.

The event page's "who sees your data" paragraph and its consent hint are
checked with it: they are how a person finds the notice.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("language", "heading", "section"),
    [("en", "Privacy notice", "Your rights"), ("de", None, "Ihre Rechte")],
)
def test_the_notice_reads_well_in_both_languages(
    page: Page, check_accessibility, language, heading, section
):
    page.goto(f"/privacy?lang={language}")

    expect(page.locator("html")).to_have_attribute("lang", language)
    if heading:  # the German title comes with the merged translations
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_role("heading", level=2, name=section)).to_be_visible()
    expect(page.get_by_role("link", name="outreach@localhost")).to_have_attribute(
        "href", "mailto:outreach@localhost"
    )
    check_accessibility(page, f"/privacy?lang={language}")


def test_the_event_page_leads_to_the_notice(page: Page, check_accessibility, make_event, make_org):
    make_event(slug="dialog", hosts=[make_org(name="Brückenwerk"), make_org(name="Sahel Forum")])

    page.goto("/events/dialog?lang=en")
    expect(page.get_by_role("heading", name="Who sees your data")).to_be_visible()
    check_accessibility(page, "/events/dialog")
    page.locator("#consent-hint").get_by_role("link", name="Privacy notice").click()

    expect(page).to_have_url(re.compile(r"/privacy$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacy notice")


def test_the_pages_are_valid_html(check_html, client, make_event, make_org):
    make_event(slug="dialog", hosts=[make_org(name="Brückenwerk"), make_org(name="Sahel Forum")])
    check_html(
        {
            "privacy-de": client.get("/privacy?lang=de").get_data(as_text=True),
            "privacy-en": client.get("/privacy?lang=en").get_data(as_text=True),
            "event-with-data-notice": client.get("/events/dialog?lang=en").get_data(as_text=True),
        }
    )
