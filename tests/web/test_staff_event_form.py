"""Staff create and change events with the shared event form, and may publish at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import Event, EventStatus, MessageKind, utcnow
from outreach.services import audit
from tests.web.html import page
from tests.web.test_partner_workspace import proposal


@pytest.fixture
def staff(make_user, login):
    user = make_user("staff", name="Selin Kaya")
    login(user)
    return user


@pytest.fixture
def lead(make_org):
    return make_org(name="Brückenwerk e.V.", is_host=True)


def _only_event() -> Event:
    db.session.expire_all()
    return db.session.scalar(select(Event))


def test_new_event_form_offers_a_draft_or_publishing_at_once(client, staff, lead):
    html = page(client.get("/staff/events/new?lang=en"))

    assert html.one("h1").text == "Create an event"
    buttons = {b.attrs["value"]: b.text for b in html.all("button", name="then")}
    assert buttons == {"publish": "Create and publish", "draft": "Save as a draft"}
    assert html.one("select", id="lead_host")
    assert html.all("script", src="/static/js/event-form.js")
    assert html.duplicate_ids() == []
    assert html.unlabelled_controls() == []


def test_staff_save_a_new_event_as_a_draft(client, staff, lead, outbox):
    response = client.post("/staff/events/new", data=proposal(lead_host=str(lead.id), then="draft"))

    event = _only_event()
    assert response.status_code == 303
    assert response.headers["Location"] == f"/staff/events/{event.id}"
    assert event.status is EventStatus.DRAFT
    assert [host.id for host in event.hosts] == [lead.id]
    assert audit.entries_for(event)[0].action == "event.created"


def test_staff_create_and_publish_in_one_go(client, staff, lead, make_org, make_user, outbox):
    partner_org = make_org(name="Sahel Forum")
    partner = make_user("partner", org=partner_org)

    response = client.post(
        "/staff/events/new?lang=en",
        data=proposal(lead_host=str(lead.id), co_hosts=[str(partner_org.id)], then="publish"),
    )

    event = _only_event()
    assert response.status_code == 303
    assert event.status is EventStatus.PUBLISHED
    assert [entry.action for entry in audit.entries_for(event)] == [
        "event.published",
        "event.created",
    ]
    [message] = outbox(kind=MessageKind.EVENT_PUBLISHED)
    assert message.recipient == partner.email
    assert "The event is created and published." in page(client.get(response.location)).text


def test_an_event_that_cannot_be_published_is_kept_as_a_draft(client, staff, lead):
    yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    data = proposal(lead_host=str(lead.id), start_date=yesterday, end_date=yesterday)

    response = client.post("/staff/events/new?lang=en", data={**data, "then": "publish"})

    event = _only_event()
    assert response.status_code == 303
    assert event.status is EventStatus.DRAFT
    text = page(client.get(f"/staff/events/{event.id}?lang=en")).text
    assert (
        "The event is saved as a draft, but not published: This event has already started" in text
    )


def test_a_new_event_with_errors_comes_back_and_nothing_is_saved(client, staff, lead):
    response = client.post(
        "/staff/events/new?lang=en",
        data=proposal(lead_host=str(lead.id), title_de="", title_en="", venue_name=""),
    )

    assert response.status_code == 422
    assert page(response).one(class_="error-summary")
    assert _only_event() is None


def test_staff_change_a_published_event_and_registrants_hear_of_it(
    client, staff, lead, make_event, make_registration, outbox
):
    event = make_event(title="Elternabend", hosts=[lead], venue_name="Gemeindehaus")
    make_registration(event)
    form = page(client.get(f"/staff/events/{event.id}/edit?lang=en"))
    data = {
        field.attrs["name"]: field.attrs.get("value", "")
        for field in form.all("input")
        if field.attrs.get("type") not in ("checkbox", "radio", "submit")
    }
    data.update(
        {
            "title_de": "Elternabend",
            "title_en": "Elternabend",
            "summary_de": "Summary de",
            "summary_en": "Summary en",
            "description_de": "Text",
            "description_en": "Text",
            "timezone": "Europe/Berlin",
            "lead_host": str(lead.id),
            "languages": ["de"],
            "venue_name": "Rathaus",
            "waitlist_enabled": "y",
            "reminders_enabled": "y",
        }
    )

    response = client.post(f"/staff/events/{event.id}/edit", data=data)

    assert response.status_code == 303
    db.session.refresh(event)
    assert event.venue_name == "Rathaus"
    assert event.status is EventStatus.PUBLISHED
    [update] = outbox(kind=MessageKind.EVENT_UPDATED)
    assert update.payload["changed"] == ["venue_name"]
    history = page(client.get(f"/staff/events/{event.id}?lang=en"))
    assert "Selin Kaya changed the event" in history.text
    assert "This event is published." in form.text


def test_a_cancelled_event_cannot_be_edited(client, staff, make_event):
    event = make_event(status=EventStatus.CANCELLED)

    html = page(client.get(f"/staff/events/{event.id}/edit?lang=en"))
    response = client.post(f"/staff/events/{event.id}/edit", data=proposal())

    assert "A cancelled event cannot be changed." in html.text
    assert response.status_code == 409
