"""Writing to the people registered: write, check whom it reaches, send once."""

from __future__ import annotations

import pytest

from outreach.models import MessageKind
from tests.web.html import page

EN = {"Accept-Language": "en"}


@pytest.fixture
def event(make_event, make_registration):
    event = make_event(capacity=2)
    make_registration(event, email="one@example.org")
    make_registration(event, email="two@example.org")
    make_registration(event, email="waiting@example.org")
    return event


@pytest.fixture
def host(make_user, event):
    return make_user("partner", org=event.hosts[0])


def test_the_page_offers_each_audience_with_its_size(client, login, host, event):
    login(host)

    response = client.get(f"/desk/events/{event.id}/announce", headers=EN)

    assert response.status_code == 200
    html = page(response)
    labels = [label.text for label in html.one("fieldset").all("label")]
    assert labels == [
        "People with a confirmed seat (2 people)",
        "People on the waitlist (1 person)",
        "Both: confirmed and on the waitlist (3 people)",
    ]
    assert html.one("input", value="confirmed").attrs.get("checked") is not None
    assert "No messages have been sent for this event yet." in html.text
    assert html.duplicate_ids() == []
    assert html.unlabelled_controls() == []


def test_the_preview_says_how_many_people_get_it_and_sends_nothing(
    client, login, host, event, outbox
):
    login(host)
    data = {"subject": "Raumänderung", "body": "Wir sind\nim Saal 2.", "audience": "active"}

    response = client.post(f"/desk/events/{event.id}/announce", data=data, headers=EN)

    assert response.status_code == 200
    html = page(response)
    assert "This message will go to 3 people" in html.one(class_="lead").text
    assert html.one("h2", id="preview-subject").text == "Raumänderung"
    assert html.one("input", name="body").attrs["value"] == "Wir sind\nim Saal 2."
    assert html.one("button", name="send").text == "Send to 3 people"
    assert outbox(kind=MessageKind.ANNOUNCEMENT) == []


def test_sending_queues_one_message_per_person_and_says_so(client, login, host, event, outbox):
    login(host)
    data = {"subject": "Raum", "body": "Saal 2", "audience": "confirmed", "send": "1"}

    response = client.post(f"/desk/events/{event.id}/announce", data=data, headers=EN)

    assert response.status_code == 303
    assert response.headers["Location"] == f"/desk/events/{event.id}/announce"
    assert sorted(m.recipient for m in outbox(kind=MessageKind.ANNOUNCEMENT)) == [
        "one@example.org",
        "two@example.org",
    ]
    after = page(client.get(response.headers["Location"], headers=EN))
    assert "Your message is queued for 2 people." in after.one(class_="flashes").text
    earlier = after.one(class_="desk-announcements").text
    assert "Raum" in earlier and "to 2 people" in earlier


def test_a_second_click_on_send_sends_nothing_more(client, login, host, event, outbox):
    login(host)
    data = {"subject": "Raum", "body": "Saal 2", "audience": "confirmed", "send": "1"}
    client.post(f"/desk/events/{event.id}/announce", data=data)

    again = client.post(f"/desk/events/{event.id}/announce", data=data, headers=EN)

    assert again.status_code == 409
    assert "just been sent" in page(again).one(class_="error-summary").text
    assert len(outbox(kind=MessageKind.ANNOUNCEMENT)) == 2


def test_mistakes_come_back_at_the_fields(client, login, host, event, outbox):
    login(host)
    data = {"subject": "", "body": "", "audience": "everyone", "send": "1"}

    response = client.post(f"/desk/events/{event.id}/announce", data=data, headers=EN)

    assert response.status_code == 422
    html = page(response)
    assert html.by_id("subject-error").text == "Please write a subject on one line."
    assert html.by_id("body-error").text == "Please write the message."
    assert html.by_id("audience-error").text == "Please choose who gets the message."
    assert html.one(class_="error-summary").all("a", href="#subject")
    assert outbox(kind=MessageKind.ANNOUNCEMENT) == []


def test_changing_the_message_returns_to_the_form_with_the_text(client, login, host, event):
    login(host)
    data = {"subject": "Raum", "body": "Saal 2", "audience": "waitlisted", "edit": "1"}

    html = page(client.post(f"/desk/events/{event.id}/announce", data=data, headers=EN))

    assert html.one("input", name="subject").attrs["value"] == "Raum"
    assert html.one("textarea", name="body").text == "Saal 2"
    assert html.one("input", value="waitlisted").attrs.get("checked") is not None


def test_an_empty_audience_cannot_be_sent_to(client, login, make_user, make_event, outbox):
    event = make_event()
    login(make_user("staff"))
    data = {"subject": "Raum", "body": "Saal 2", "audience": "waitlisted"}

    preview = page(client.post(f"/desk/events/{event.id}/announce", data=data, headers=EN))
    sent = client.post(f"/desk/events/{event.id}/announce", data={**data, "send": "1"})

    assert not preview.all("button", name="send")
    assert "Nobody in this group" in preview.text
    assert sent.status_code == 422
    assert outbox(kind=MessageKind.ANNOUNCEMENT) == []
