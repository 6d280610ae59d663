"""The partner workspace in a browser: valid HTML (Nu Html Checker) and axe-core checks.

The pages are rendered with the Flask test client and checked in one run of
vnu.jar; a partner then proposes an event in headless Chromium, with every
page on the way checked by axe-core.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import Event, EventStatus, QuestionKind, utcnow
from outreach.services.event_editing import create_event
from outreach.services.review import request_changes, submit
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

BERLIN = ZoneInfo("Europe/Berlin")
QUESTIONS = [
    dict(
        kind=QuestionKind.SINGLE_CHOICE,
        required=True,
        label={"de": "Verdolmetschung?", "en": "Interpretation?"},
        options=[
            {"value": "none", "label": {"de": "Nein", "en": "No"}},
            {"value": "ar", "label": {"de": "Arabisch", "en": "Arabic"}},
        ],
    ),
]


@pytest.fixture(autouse=True)
def logo_folder(app, tmp_path):
    app.config["LOGO_DIR"] = str(tmp_path / "logos")


@pytest.fixture
def world(make_org, make_user, make_event, make_registration, event_input):
    own = make_org(slug="sahel-forum", name="Sahel Forum")
    other = make_org(slug="brueckenwerk", name="Brückenwerk e.V.")
    me = make_user("partner", org=own, email="amina@example.org")
    staff = make_user("staff")
    published = make_event(
        slug="lesung", title="Lesung", hosts=[own, other], capacity=20, questions=QUESTIONS
    )
    make_registration(published, answers={str(published.questions[0].id): "ar"})
    make_event(
        slug="rueckblick",
        title="Rückblick",
        hosts=[own],
        starts_at=utcnow().replace(microsecond=0) - timedelta(days=20),
    )
    draft = create_event(event_input(hosts=[other.id]), by=me)
    waiting = create_event(event_input(texts={"de": {"title": "Wartet"}}), by=me)
    submit(waiting, by=me)
    sent_back = create_event(event_input(texts={"de": {"title": "Zurück"}}), by=me)
    submit(sent_back, by=me)
    request_changes(sent_back, by=staff, comment="Bitte den Ort ergänzen.\nUnd die Zeit.")
    return {"me": me, "draft": draft, "published": published}


def _png() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (300, 200), (20, 90, 160)).save(output, format="PNG")
    return output.getvalue()


def _pages(client, world) -> dict[str, tuple[str, str]]:
    client.post("/login", data={"email": "amina@example.org", "password": PASSWORD})
    draft, published = world["draft"], world["published"]
    gets = {
        "dashboard": "/partner/?lang=en",
        "new-event": "/partner/events/new?lang=de",
        "edit-event": f"/partner/events/{draft.id}/edit?lang=en",
        "draft": f"/partner/events/{draft.id}?lang=en",
        "published": f"/partner/events/{published.id}?lang=de",
        "not-editable": f"/partner/events/{published.id}/edit?lang=en",
        "profile": "/partner/profile?lang=en",
    }
    pages = {}
    for name, url in gets.items():
        response = client.get(url)
        assert response.status_code in (200, 403), f"{url} answered {response.status_code}"
        pages[name] = (url, response.get_data(as_text=True))

    errors = client.post(
        "/partner/events/new?lang=en",
        data={"title_de": "", "start_date": "2031-01-01", "question0_kind": "single_choice"},
    )
    assert errors.status_code == 422
    pages["new-event-errors"] = (
        "/partner/events/new (POST, errors)",
        errors.get_data(as_text=True),
    )

    logo = client.post(
        "/partner/profile/logo",
        data={"logo": (io.BytesIO(_png()), "logo.png")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    pages["profile-with-logo"] = ("/partner/profile (with a logo)", logo.get_data(as_text=True))
    bad_logo = client.post(
        "/partner/profile/logo?lang=en",
        data={"logo": (io.BytesIO(b"text"), "logo.png")},
        content_type="multipart/form-data",
    )
    assert bad_logo.status_code == 422
    pages["profile-logo-error"] = (
        "/partner/profile/logo (POST, error)",
        bad_logo.get_data(as_text=True),
    )
    remove = client.get("/partner/profile/logo/remove?lang=en")
    pages["remove-logo"] = ("/partner/profile/logo/remove", remove.get_data(as_text=True))
    public = client.get("/organisations/sahel-forum")
    pages["organisation-with-logo"] = ("/organisations/sahel-forum", public.get_data(as_text=True))
    return pages


def test_partner_pages_are_valid_html(check_html, client, world):
    pages = _pages(client, world)

    check_html({name: html for name, (_url, html) in pages.items()})


def test_a_partner_proposes_an_event_in_the_browser(page, world, check_accessibility):
    day = (utcnow().astimezone(BERLIN) + timedelta(days=30)).date().isoformat()
    page.goto("/login?lang=en")
    page.get_by_label("Email address").fill("amina@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto("/partner/")
    expect(page.get_by_role("heading", name="Changes requested")).to_be_visible()
    check_accessibility(page, "the partner dashboard")
    page.get_by_role("link", name="Propose an event").first.click()
    expect(page).to_have_url(re.compile(r"/partner/events/new$"))
    check_accessibility(page, "the event form")

    page.get_by_label("Title (German)").fill("Nachbarschaftsfest")
    page.get_by_label("Title (English)").fill("Street party")
    page.get_by_label("Start date").fill(day)
    page.get_by_label("Start time").fill("15:00")
    page.get_by_label("End date").fill(day)
    page.get_by_label("End time").fill("19:00")
    page.get_by_label("Venue").fill("Hof der Gemeinde")
    page.get_by_label("Brückenwerk e.V.").check()
    answers = page.get_by_label("Answers to choose from (German)").first
    expect(answers).to_be_hidden()
    page.get_by_label("Kind of question").first.select_option("single_choice")
    expect(answers).to_be_visible()
    page.get_by_label("Question (German)").first.fill("Bringen Sie Kinder mit?")
    answers.fill("Ja\nNein")
    page.get_by_role("button", name="Save as a draft").click()

    expect(page.get_by_role("heading", name="Street party", level=1)).to_be_visible()
    expect(page.get_by_text("Your event is saved as a draft.")).to_be_visible()
    check_accessibility(page, "the event page")
    db.session.remove()
    event = db.session.scalar(select(Event).where(Event.slug == "nachbarschaftsfest"))
    assert event.status is EventStatus.DRAFT
    assert [host.name for host in event.hosts] == ["Sahel Forum", "Brückenwerk e.V."]
    assert event.questions[0].options[1]["label"] == {"de": "Nein"}
