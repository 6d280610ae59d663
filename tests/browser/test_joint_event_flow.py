"""The joint event, start to finish, in headless Chromium.

A partner proposes a bilingual event with a co-host; staff send it back with a
comment; the partner fixes it and submits again; staff publish; a member
registers; the partner downloads the registrations as CSV and checks the
member in at the door. Every step of the review lands in the audit log.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import Event, EventStatus, Registration, utcnow
from outreach.services import audit
from tests.conftest import PASSWORD

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def people(make_org, make_user):
    make_org(slug="brueckenwerk", name="Brückenwerk e.V.", is_host=True)
    sahel = make_org(slug="sahel-forum", name="Sahel Forum")
    make_org(slug="anatolia-bridge", name="Anatolia Bridge")
    make_user("staff", email="team@example.org", name="Tara Team")
    make_user("partner", org=sahel, email="mariam@example.org", name="Mariam")


def log_in(page: Page, email: str) -> None:
    page.goto("/login?lang=en")
    page.get_by_role("textbox", name=re.compile(r"^Email address")).fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/account$"))


def the_event() -> Event:
    db.session.remove()
    return db.session.scalar(select(Event).where(Event.slug == "erzaehlcafe"))


def test_a_joint_event_from_proposal_to_check_in(browser, live_server, people, check_accessibility):
    def phone_or_desk(**options) -> Page:
        context = browser.new_context(base_url=live_server, locale="en-US", **options)
        context.set_default_timeout(10_000)
        return context.new_page()

    partner, staff, member = phone_or_desk(accept_downloads=True), phone_or_desk(), phone_or_desk()
    date = (utcnow() + timedelta(days=21)).astimezone(BERLIN).date().isoformat()

    # The partner proposes a bilingual event with a co-host.
    log_in(partner, "mariam@example.org")
    partner.goto("/partner/events/new")
    partner.get_by_label("Title (German)").fill("Erzählcafé")
    partner.get_by_label("Title (English)").fill("Story café")
    partner.get_by_label("Start date").fill(date)
    partner.get_by_label("Start time").fill("16:00")
    partner.get_by_label("End date").fill(date)
    partner.get_by_label("End time").fill("18:00")
    partner.get_by_label("Venue").fill("Bürgerzentrum")
    partner.get_by_label("Anatolia Bridge").check()
    partner.get_by_role("button", name="Save as a draft").click()
    expect(partner.get_by_role("heading", name="Story café", level=1)).to_be_visible()
    partner.get_by_role("button", name="Submit for review").click()
    expect(partner.get_by_text(re.compile("submitted", re.I)).first).to_be_visible()
    event = the_event()
    assert event.status is EventStatus.SUBMITTED
    assert [host.slug for host in event.hosts] == ["sahel-forum", "anatolia-bridge"]

    # Staff ask for a change.
    log_in(staff, "team@example.org")
    staff.goto(f"/staff/events/{event.id}")
    check_accessibility(staff, "an event under review")
    staff.get_by_label("What should change?").fill("Please add the street address.")
    staff.get_by_role("button", name="Send back to the hosts").click()
    assert the_event().status is EventStatus.DRAFT

    # The partner sees the comment, fixes the draft and submits again.
    partner.goto(f"/partner/events/{event.id}")
    expect(partner.get_by_text("Please add the street address.")).to_be_visible()
    partner.get_by_role("link", name="Edit").first.click()
    partner.get_by_label("Street and number").fill("Venloer Str. 429")
    partner.get_by_role("button", name="Save the changes").click()
    partner.get_by_role("button", name="Submit for review").click()
    assert the_event().status is EventStatus.SUBMITTED

    # Staff publish.
    staff.goto(f"/staff/events/{event.id}")
    staff.get_by_role("button", name="Publish").click()
    assert the_event().status is EventStatus.PUBLISHED

    # A member registers on the public page.
    member.goto("/events/erzaehlcafe?lang=en")
    member.get_by_role("textbox", name=re.compile(r"^Your name")).fill("Amadou Diallo")
    member.get_by_role("textbox", name=re.compile(r"^Email address")).fill("amadou@example.org")
    member.get_by_role("checkbox", name=re.compile(r"^I agree that")).check()
    member.get_by_role("button", name="Register").click()
    expect(member.get_by_role("heading", level=1)).to_contain_text("Thank you")

    # The partner downloads the list and checks the member in.
    partner.goto(f"/desk/events/{event.id}/registrations")
    with partner.expect_download() as download:
        partner.get_by_role("link", name="CSV file").click()
    raw = Path(download.value.path()).read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [row_value for row in rows for row_value in row.values()].count("Amadou Diallo") == 1

    partner.goto(f"/desk/events/{event.id}/check-in")
    partner.get_by_role("searchbox", name="Name or email").fill("amadou")
    partner.get_by_role("button", name="Search").click()
    partner.get_by_role("button", name="Check in Amadou Diallo").click()
    expect(partner.get_by_role("status")).to_have_text("Amadou Diallo is checked in.")
    expect(partner.locator("[data-count='checked_in']")).to_have_text("1")

    db.session.remove()
    registration = db.session.scalar(select(Registration))
    assert registration.checked_in_at is not None
    actions = [entry.action for entry in reversed(audit.entries_for(the_event()))]
    assert actions == [
        "event.created",
        "event.submitted",
        "event.changes_requested",
        "event.updated",
        "event.submitted",
        "event.published",
        "event.registrations_exported",
    ]
    assert [entry.action for entry in audit.entries_for(registration)] == [
        "registration.checked_in"
    ]
    for page in (partner, staff, member):
        page.context.close()
