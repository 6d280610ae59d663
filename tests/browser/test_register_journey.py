"""The path a community member walks, in headless Chromium against a live server.

List -> event -> register -> thank-you -> manage link -> change -> cancel, and
a full event: join the waitlist, someone cancels, the first waiting person is
promoted and owed a "you're in" message. Every page on the way is checked with
axe-core. Locators go by role and label, so each step also proves that the
controls are named for assistive technology.

The manage link comes from the outbox row, as the person would find it in the
confirmation email (the mail worker is another issue's).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import (
    MessageKind,
    OutboxMessage,
    QuestionKind,
    Registration,
    RegistrationStatus,
)

pytestmark = pytest.mark.browser

INTERPRETATION = dict(
    kind=QuestionKind.SINGLE_CHOICE,
    required=True,
    label={"de": "Brauchen Sie eine Verdolmetschung?", "en": "Do you need interpretation?"},
    options=[
        {"value": "none", "label": {"de": "Nein", "en": "No"}},
        {"value": "ar", "label": {"de": "Arabisch", "en": "Arabic"}},
        {"value": "tr", "label": {"de": "Türkisch", "en": "Turkish"}},
    ],
)
ACCESSIBILITY = dict(
    kind=QuestionKind.LONG_TEXT,
    required=False,
    label={"de": "Barrierefreiheit", "en": "Accessibility needs"},
)


# -- what the database says (each read in a new transaction, to see the server's commits)


def _fresh_session():
    db.session.remove()
    return db.session


def manage_token(email: str, kind: MessageKind) -> str:
    """Take the manage token from the newest message of ``kind`` to ``email``."""
    message = _fresh_session().scalar(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == email, OutboxMessage.kind == kind)
        .order_by(OutboxMessage.id.desc())
    )
    assert message is not None, f"no {kind.value} message to {email} in the outbox"
    token = message.payload["token"]
    db.session.remove()
    return token


def registration_state(email: str) -> tuple[RegistrationStatus, int]:
    registration = _fresh_session().scalar(
        select(Registration).where(Registration.email == email).order_by(Registration.id.desc())
    )
    assert registration is not None, f"{email} is not registered"
    state = (registration.status, registration.guests)
    db.session.remove()
    return state


def registration_answers(email: str) -> list:
    """Return the stored answers in question order."""
    registration = _fresh_session().scalar(select(Registration).where(Registration.email == email))
    answers = [registration.answers.get(str(q.id)) for q in registration.event.questions]
    db.session.remove()
    return answers


def outbox_kinds(email: str) -> list[MessageKind]:
    kinds = list(
        _fresh_session().scalars(
            select(OutboxMessage.kind)
            .where(OutboxMessage.recipient == email)
            .order_by(OutboxMessage.id)
        )
    )
    db.session.remove()
    return kinds


# -- the steps a person takes


def fill_registration(page: Page, name: str, email: str) -> None:
    page.get_by_role("textbox", name=re.compile(r"^Your name")).fill(name)
    page.get_by_role("textbox", name=re.compile(r"^Email address")).fill(email)
    consent_box(page).check()


def consent_box(page: Page):
    return page.get_by_role("checkbox", name=re.compile(r"^I agree that"))


def guests_box(page: Page):
    return page.get_by_role("spinbutton", name=re.compile(r"^Guests you bring along"))


def cancel_through_manage_page(page: Page, token: str, check_accessibility) -> None:
    page.goto(f"/r/{token}")
    check_accessibility(page, "manage page")
    page.get_by_role("link", name="Cancel my registration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Do you really want to cancel?")
    check_accessibility(page, "cancel confirmation page")
    page.get_by_role("button", name="Yes, cancel my registration").click()
    expect(page).to_have_url(re.compile(rf"/r/{token}$"))
    expect(page.get_by_text("Your registration is cancelled.")).to_be_visible()
    expect(page.get_by_role("link", name="Cancel my registration")).to_have_count(0)
    check_accessibility(page, "cancelled registration")


# -- the journeys


def test_a_person_registers_changes_guests_and_cancels(
    page: Page, make_org, make_event, check_accessibility
):
    host = make_org(slug="brueckenwerk", name="Brückenwerk e.V.")
    partner = make_org(slug="sahel-forum", name="Sahel Forum")
    make_event(slug="filmabend", title="Film night", hosts=[host], capacity=30)
    make_event(
        slug="elternabend",
        title="Parents' evening",
        hosts=[host, partner],
        capacity=10,
        max_guests=3,
        questions=[INTERPRETATION, ACCESSIBILITY],
    )
    email = "amina@example.org"

    page.goto("/")
    expect(page.get_by_role("link", name="Film night")).to_be_visible()
    check_accessibility(page, "event list")
    page.get_by_role("link", name="Parents' evening").click()

    expect(page.get_by_role("heading", level=1, name="Parents' evening")).to_be_visible()
    # The host is linked in the facts, and again where the form says who sees the data.
    expect(page.get_by_role("article").get_by_role("link", name="Sahel Forum")).to_be_visible()
    expect(page.locator("form").get_by_role("link", name="Sahel Forum")).to_be_visible()
    check_accessibility(page, "event page")

    # The required question left open: the form comes back saying so.
    fill_registration(page, "Amina Diallo", email)
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("alert")).to_contain_text("Do you need interpretation?")
    check_accessibility(page, "event page with errors")

    page.get_by_role("radio", name="Arabic").check()
    page.get_by_role("textbox", name="Accessibility needs").fill("Step-free access, please.")
    consent_box(page).check()
    page.get_by_role("button", name="Register").click()

    expect(page).to_have_url(re.compile(r"/events/elternabend/registered$"))
    expect(page.get_by_role("heading", level=1, name="Thank you")).to_be_visible()
    check_accessibility(page, "thank-you page")
    assert registration_state(email) == (RegistrationStatus.CONFIRMED, 0)
    assert registration_answers(email) == ["ar", "Step-free access, please."]

    token = manage_token(email, MessageKind.REGISTRATION_CONFIRMED)
    page.goto(f"/r/{token}")
    expect(page.get_by_role("heading", level=2, name="Parents' evening")).to_be_visible()
    expect(page.get_by_text("You are registered.")).to_be_visible()
    check_accessibility(page, "manage page")

    guests_box(page).fill("2")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("Your changes have been saved.")
    expect(guests_box(page)).to_have_value("2")
    assert registration_state(email) == (RegistrationStatus.CONFIRMED, 2)

    cancel_through_manage_page(page, token, check_accessibility)
    assert registration_state(email)[0] is RegistrationStatus.CANCELLED
    assert MessageKind.REGISTRATION_CANCELLED in outbox_kinds(email)


def test_a_cancellation_promotes_the_first_person_on_the_waitlist(
    page: Page, make_event, make_registration, check_accessibility
):
    event = make_event(slug="mentoring", title="Mentoring kick-off", capacity=2)
    first, second = "first@example.org", "second@example.org"
    make_registration(event, email=first)
    make_registration(event, email=second)
    db.session.remove()

    # The event is full: two more people join the waitlist through the page.
    waiting, later = "waiting@example.org", "later@example.org"
    for name, email in (("Wen Li", waiting), ("Luis Quispe", later)):
        page.goto("/events/mentoring")
        expect(page.get_by_text(re.compile(r"fully booked", re.I)).first).to_be_visible()
        fill_registration(page, name, email)
        page.get_by_role("button", name="Join the waitlist").click()
        expect(page.get_by_role("heading", level=1, name="Thank you")).to_be_visible()
    check_accessibility(page, "thank-you page after joining the waitlist")
    assert registration_state(waiting)[0] is RegistrationStatus.WAITLISTED
    assert registration_state(later)[0] is RegistrationStatus.WAITLISTED
    page.goto(f"/r/{manage_token(later, MessageKind.REGISTRATION_WAITLISTED)}")
    expect(page.get_by_text("You are on the waitlist.")).to_be_visible()
    expect(page.get_by_text("Your place in the queue: 2.")).to_be_visible()
    check_accessibility(page, "manage page of a waitlisted person")

    token = manage_token(first, MessageKind.REGISTRATION_CONFIRMED)
    cancel_through_manage_page(page, token, check_accessibility)

    assert registration_state(first)[0] is RegistrationStatus.CANCELLED
    assert registration_state(second)[0] is RegistrationStatus.CONFIRMED
    assert registration_state(waiting)[0] is RegistrationStatus.CONFIRMED
    assert registration_state(later)[0] is RegistrationStatus.WAITLISTED
    assert MessageKind.WAITLIST_PROMOTED in outbox_kinds(waiting)
    assert MessageKind.WAITLIST_PROMOTED not in outbox_kinds(later)

    # The promoted person's new link (from the "you're in" message) shows them confirmed.
    page.goto(f"/r/{manage_token(waiting, MessageKind.WAITLIST_PROMOTED)}")
    expect(page.get_by_text("You are registered.")).to_be_visible()


# A browser asking for a language the site does not offer gets the default: German.
@pytest.mark.parametrize("browser_locale", ["de-DE", "fr-FR"])
def test_german_and_unsupported_browser_languages_get_german_pages(
    page: Page, make_event, check_accessibility
):
    make_event(slug="sprachcafe", title="Sprachcafé", capacity=5)

    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("link", name="Vergangene Veranstaltungen", exact=True)).to_be_visible()
    page.get_by_role("link", name="Sprachcafé").click()
    expect(page.get_by_role("heading", level=2, name="Anmeldung")).to_be_visible()
    expect(page.get_by_role("textbox", name=re.compile(r"^Ihr Name"))).to_be_visible()
    check_accessibility(page, "event page in German")


def test_the_language_switch_turns_english_pages_into_german(page: Page, make_event):
    make_event(slug="sprachcafe", title="Sprachcafé", capacity=5)

    page.goto("/events/sprachcafe")
    expect(page.get_by_role("heading", level=2, name="Registration")).to_be_visible()
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Deutsch").click()

    expect(page).to_have_url(re.compile(r"/events/sprachcafe$"))
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=2, name="Anmeldung")).to_be_visible()
    # The choice is remembered (a cookie), not only for this one page.
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
