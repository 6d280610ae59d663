"""Campaign pages in a browser: valid HTML, axe-core, the live audience count, a safe preview."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import (
    Campaign,
    CampaignKind,
    MessageStatus,
    OutboxMessage,
    QuestionKind,
    utcnow,
)
from outreach.services import campaigns as campaign_service
from outreach.services.campaigns import CampaignInput
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

TEXTS = {
    "de": {"subject": "Danke, {{ first_name }}", "body": "Hallo **{{ first_name }}**!"},
    "en": {"subject": "Thank you, {{ first_name }}", "body": "Hello **{{ first_name }}**!"},
}


@pytest.fixture
def world(make_org, make_user, make_event, make_registration):
    """Staff, a past event with registrants and a question, a draft and a sent campaign."""
    staff = make_user("staff", name="Selin Kaya")
    org = make_org(name="Sahel Forum")
    event = make_event(
        title="Elternabend",
        hosts=[org],
        starts_at=utcnow().replace(microsecond=0) - timedelta(days=2),
        languages=["de", "en"],
        questions=[
            {
                "kind": QuestionKind.SINGLE_CHOICE,
                "label": {"de": "Essen", "en": "Food"},
                "options": [
                    {"value": "vegan", "label": {"de": "vegan", "en": "vegan"}},
                    {"value": "meat", "label": {"de": "Fleisch", "en": "meat"}},
                ],
            }
        ],
    )
    registered = event.starts_at - timedelta(days=7)
    for name, language in (("Amina Diallo", "de"), ("Ben Berg", "en"), ("Chen Li", "de")):
        email = f"{name.split()[0].lower()}@example.org"
        make_registration(event, name=name, email=email, language=language, now=registered)

    def campaign(name: str) -> Campaign:
        data = CampaignInput(
            kind=CampaignKind.OUTREACH,
            name=name,
            texts=TEXTS,
            fallback_language="de",
            segment={"type": "registrants", "events": [event.id], "statuses": ["confirmed"]},
        )
        return campaign_service.create_campaign(data, by=staff)

    draft = campaign("Einladung zum Sommerfest")
    sent = campaign("Danke fürs Kommen")
    campaign_service.send_now(sent, by=staff)
    campaign_service.enqueue(sent)
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.campaign_id == sent.id)
    ).first()
    message.status, message.last_error = MessageStatus.FAILED, "550 5.1.1 user unknown"
    db.session.commit()
    return {"staff": staff, "event": event, "draft": draft, "sent": sent}


def _log_in(page: Page, user) -> None:
    page.goto("/login?lang=en")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Staff workspace")).to_be_visible()


def _render(client, world) -> dict[str, str]:
    """The campaign pages worth checking, as staff: {name: html}."""
    response = client.post("/login", data={"email": world["staff"].email, "password": PASSWORD})
    assert response.status_code == 303
    draft, sent, event = world["draft"].id, world["sent"].id, world["event"].id
    gets = {
        "list": "/staff/campaigns?lang=en",
        "list-de": "/staff/campaigns",
        "new": "/staff/campaigns/new?lang=en",
        "edit": f"/staff/campaigns/{draft}/edit?lang=en",
        "draft": f"/staff/campaigns/{draft}?lang=en",
        "draft-as-someone": f"/staff/campaigns/{draft}?recipient=ben@example.org&version=en",
        "sent": f"/staff/campaigns/{sent}?lang=en",
        "send": f"/staff/campaigns/{draft}/send?lang=en",
        "cancel": f"/staff/campaigns/{sent}/cancel?lang=en",
        "recipients": f"/staff/campaigns/{sent}/recipients?lang=en",
        "recipients-none": f"/staff/campaigns/{sent}/recipients?status=sent",
        "preview": f"/staff/campaigns/{draft}/preview.html?version=en",
    }
    pages = {}
    for name, url in gets.items():
        response = client.get(url)
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        pages[name] = response.get_data(as_text=True)
    posts = {
        "new-errors": (
            "/staff/campaigns/new?lang=en",
            {
                "name": "",
                "audience": "registrants",
                "events": [str(event)],
                "statuses": ["confirmed"],
                "subject_en": "Hi {{ nickname }}",
                "body_en": "<script>x</script>",
                "fallback_language": "en",
                "save": "Save",
            },
            422,
        ),
        "new-count": (
            "/staff/campaigns/new?lang=en",
            {
                "audience": "registrants",
                "events": [str(event)],
                "statuses": ["confirmed"],
                "count": "Update count",
            },
            200,
        ),
        "schedule-errors": (f"/staff/campaigns/{draft}/schedule?lang=en", {}, 422),
    }
    for name, (url, data, expected) in posts.items():
        response = client.post(url, data=data)
        assert response.status_code == expected, f"POST {url} answered {response.status_code}"
        pages[name] = response.get_data(as_text=True)
    return pages


def test_campaign_pages_are_valid_html(check_html, client, world):
    check_html(_render(client, world))


def test_an_empty_campaign_list_is_valid_html(check_html, client, make_user):
    staff = make_user("staff")
    client.post("/login", data={"email": staff.email, "password": PASSWORD})

    check_html({"empty-list": client.get("/staff/campaigns?lang=en").get_data(as_text=True)})


def test_staff_build_a_campaign_with_a_live_count(page: Page, world, check_accessibility):
    _log_in(page, world["staff"])
    page.goto("/staff/campaigns?lang=en")
    expect(page.get_by_role("heading", name="Campaigns", level=1)).to_be_visible()
    check_accessibility(page, "campaign list")

    page.get_by_role("link", name="New campaign").click()
    expect(page.get_by_role("heading", name="New campaign", level=1)).to_be_visible()
    # With the script on, only the chosen audience's part shows and the count keeps up.
    expect(page.get_by_label("Organisations", exact=True)).to_be_hidden()
    expect(page.get_by_role("button", name="Update count")).to_be_hidden()
    page.get_by_label("Events", exact=True).select_option(value=str(world["event"].id))
    size = page.locator("[data-segment-size]")
    expect(size).to_have_text("This campaign reaches 3 people.")
    page.get_by_label("English", exact=True).first.check()
    expect(size).to_have_text("This campaign reaches 1 person.")
    page.get_by_label("English", exact=True).first.uncheck()
    page.get_by_label("Registration question").select_option(label="Food")
    page.get_by_label("Answer", exact=True).select_option(label="vegan")
    expect(size).to_have_text("This campaign reaches 0 people.")
    page.get_by_label("Registration question").select_option(value="")
    expect(size).to_have_text("This campaign reaches 3 people.")
    check_accessibility(page, "campaign form")

    page.get_by_label("Partner organisations' contacts").check()
    expect(page.get_by_label("Organisations", exact=True)).to_be_visible()
    expect(page.get_by_label("Events", exact=True)).to_be_hidden()
    page.get_by_label("People registered for events").check()

    page.get_by_label("Name of the campaign").fill("Danke an alle")
    page.get_by_label("Subject (German)").fill("Danke, {{ first_name }}")
    page.get_by_label("Message (German)").fill("Schön, dass Sie da waren, {{ nickname }}.")
    page.get_by_role("button", name="Save the campaign").click()
    expect(page.locator("#body_de-error")).to_contain_text("Unknown placeholder: nickname")
    check_accessibility(page, "campaign form with errors")

    page.get_by_label("Message (German)").fill("Schön, dass Sie da waren, {{ first_name }}.")
    page.get_by_role("button", name="Save the campaign").click()
    expect(page.get_by_role("heading", name="Danke an alle", level=1)).to_be_visible()
    expect(page.get_by_text("Danke, Amina")).to_be_visible()
    frame = page.frame_locator("iframe.campaign-preview")
    expect(frame.get_by_text("Schön, dass Sie da waren, Amina.")).to_be_visible()
    check_accessibility(page, "campaign page")

    page.get_by_role("button", name="Send a test to me").click()
    expect(page.get_by_text(f"is on its way to {world['staff'].email}")).to_be_visible()

    page.get_by_role("link", name="Send now").click()
    expect(page.get_by_text("3 people will get it.")).to_be_visible()
    check_accessibility(page, "send now confirmation")
    page.get_by_role("button", name="Yes, send it now").click()
    expect(page.get_by_text("The campaign is on its way.")).to_be_visible()


def test_the_progress_refreshes_by_itself(page: Page, world, check_accessibility):
    sent = world["sent"]
    _log_in(page, world["staff"])
    page.goto(f"/staff/campaigns/{sent.id}?lang=en")
    expect(page.get_by_role("heading", name="Progress")).to_be_visible()
    sent_count = page.locator("[data-count=sent]")
    expect(sent_count).to_have_text("0")
    check_accessibility(page, "campaign on its way")

    for message in db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.campaign_id == sent.id, OutboxMessage.status == MessageStatus.QUEUED
        )
    ):
        message.status, message.sent_at = MessageStatus.SENT, utcnow()
    db.session.commit()

    expect(sent_count).to_have_text("2", timeout=12_000)
    expect(page.locator("[data-count=queued]")).to_have_text("0")
    assert page.locator("progress[data-progress-bar]").evaluate("bar => bar.value") == 3

    page.get_by_role("link", name="Who got it, who failed and why").click()
    expect(page.get_by_text("550 5.1.1 user unknown")).to_be_visible()
    check_accessibility(page, "recipients")


def test_the_preview_never_runs_a_script(page: Page, world, make_registration):
    """Even a body that slipped past the checks (written straight to the database) stays inert."""
    event = world["event"]
    make_registration(
        event,
        name='<img src=x onerror="parent.document.title=1">Mallory',
        email="aaa-mallory@example.org",
        now=event.starts_at - timedelta(days=7),
    )
    evil = Campaign(
        kind=CampaignKind.OUTREACH,
        name="Evil",
        texts={
            "de": {
                "subject": "<script>alert(1)</script>",
                "body": (
                    "Hallo {{ name }}\n\n<script>parent.document.title='pwned'</script>"
                    '<img src=x onerror="alert(2)"><a href="javascript:alert(3)">klick</a>'
                    '<iframe srcdoc="<script>alert(4)</script>"></iframe>'
                ),
            }
        },
        fallback_language="de",
        segment={"type": "registrants", "events": [event.id], "statuses": ["confirmed"]},
        created_by_id=world["staff"].id,
    )
    db.session.add(evil)
    db.session.commit()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _log_in(page, world["staff"])

    page.goto(f"/staff/campaigns/{evil.id}?lang=en")
    title = page.title()
    frame_element = page.locator("iframe.campaign-preview")
    expect(frame_element).to_have_attribute("sandbox", "")
    frame = page.frame_locator("iframe.campaign-preview")
    expect(frame.get_by_text("Hallo")).to_be_visible()
    expect(frame.locator("script, iframe, img")).to_have_count(0)
    page.wait_for_timeout(500)

    assert dialogs == []
    assert page.title() == title
    assert "pwned" not in page.title()
