"""Staff event pages: the list, one event with its history, review, and cancelling."""

from __future__ import annotations

from datetime import timedelta

import pytest

from outreach.extensions import db
from outreach.models import EventStatus, MessageKind, utcnow
from outreach.services import audit
from outreach.services.review import submit
from outreach.services.scheduling import reschedule
from tests.web.html import page


@pytest.fixture
def staff(make_user, login):
    user = make_user("staff", name="Selin Kaya")
    login(user)
    return user


@pytest.fixture
def host(make_org):
    return make_org(name="Sahel Forum")


@pytest.fixture
def host_user(make_user, host):
    return make_user("partner", org=host, name="Awa Ndiaye")


def facts(dl) -> dict[str, str]:
    """A definition list's terms and descriptions."""
    return {div.one("dt").text: div.one("dd").text for div in dl.all("div")}


def _submitted(make_event, host, host_user, **values):
    event = make_event(status=EventStatus.DRAFT, hosts=[host], **values)
    return submit(event, by=host_user)


# -- the list -------------------------------------------------------------------------------


def test_event_list_shows_every_state_newest_first(client, staff, make_event):
    now = utcnow()
    make_event(title="Erzählcafé", status=EventStatus.DRAFT, created_at=now - timedelta(days=3))
    make_event(title="Lesung", status=EventStatus.CANCELLED, created_at=now - timedelta(days=2))
    make_event(title="Elternabend", created_at=now - timedelta(days=1))

    html = page(client.get("/staff/events?lang=en"))

    titles = [row.all("td")[0].all("a")[0].text for row in html.one("tbody").all("tr")]
    assert titles == ["Elternabend", "Lesung", "Erzählcafé"]
    assert "3 events" in html.one(class_="result-count").text


def test_event_list_filters_by_status_and_title(client, staff, make_event):
    make_event(title="Elternabend Neukölln", status=EventStatus.DRAFT)
    make_event(title="Elternabend Wedding")
    make_event(title="Lesung")

    drafts = page(client.get("/staff/events?status=draft&lang=en"))
    search = page(client.get("/staff/events?q=elternABEND&lang=en"))
    both = page(client.get("/staff/events?q=Elternabend&status=published&lang=en"))
    nothing = page(client.get("/staff/events?q=100%25&lang=en"))
    nonsense = client.get("/staff/events?status=nonsense&page=-3&q=" + "x" * 500)

    [draft] = drafts.one("tbody").all("tr")
    assert draft.all("a")[0].text == "Elternabend Neukölln"
    assert len(search.one("tbody").all("tr")) == 2
    assert len(both.one("tbody").all("tr")) == 1
    assert "No events match these filters." in nothing.text
    assert nonsense.status_code == 200


def test_event_list_is_paginated(client, staff, make_event, make_org):
    org = make_org()
    for number in range(27):
        make_event(title=f"Treffen {number}", hosts=[org])

    first = page(client.get("/staff/events?lang=en"))
    second = page(client.get("/staff/events?page=2&lang=en"))
    beyond = page(client.get("/staff/events?page=9&lang=en"))

    assert len(first.one("tbody").all("tr")) == 25
    assert len(second.one("tbody").all("tr")) == 2
    assert first.one("a", rel="next").attrs["href"] == "/staff/events?lang=en&page=2"
    assert "There are no more events on this page." in beyond.text


def test_event_list_has_an_empty_state(client, staff):
    html = page(client.get("/staff/events?lang=en"))

    assert "There are no events yet." in html.text


# -- one event ------------------------------------------------------------------------------


def test_event_page_shows_facts_registrations_and_links(
    client, staff, make_event, make_registration, host
):
    event = make_event(title="Elternabend", hosts=[host], capacity=1)
    make_registration(event, name="Amina")
    make_registration(event, name="Bilal")

    html = page(client.get(f"/staff/events/{event.id}?lang=en"))

    assert html.one("h1").text == "Elternabend"
    assert html.one(class_="status-badge").text == "Published"
    registrations = facts(html.by_id("registrations-heading").parent.one("dl"))
    assert registrations["Confirmed"] == "1 · 1 of 1 seats taken"
    assert registrations["On the waitlist"] == "1"
    assert html.all("a", href=f"/events/{event.slug}")
    assert html.all("a", href=f"/staff/events/{event.id}/cancel")
    assert html.all("a", href=f"/staff/organisations/{host.id}")
    assert html.all("a", href=f"/desk/events/{event.id}/registrations")
    assert html.all("a", href=f"/desk/events/{event.id}/check-in")
    # A published event is not under review: no publish button, no comment form.
    assert not html.all("form", action=f"/staff/events/{event.id}/publish")


def test_audit_log_shows_who_changed_what_before_and_after(client, staff, make_event):
    start = utcnow().replace(microsecond=0) + timedelta(days=10)
    event = make_event(title="Elternabend", venue_name="Gemeindehaus", starts_at=start)
    reschedule(event, by=staff, venue_name="Rathaus")
    reschedule(event, venue_city="Leipzig")

    html = page(client.get(f"/staff/events/{event.id}?lang=en"))

    entries = html.one("ol", class_="history").all("li", class_="history__entry")
    assert len(entries) == 2
    newest, oldest = entries
    assert newest.one("p", class_="history__what").text.startswith("The system moved the event")
    assert oldest.one("p", class_="history__what").text.startswith("Selin Kaya moved the event")
    [row] = oldest.one("tbody").all("tr")
    assert row.one("th").text == "Venue"
    assert row.one("td", class_="changes__before").text == "Gemeindehaus"
    assert row.one("td", class_="changes__after").text == "Rathaus"


def test_audit_log_shows_times_in_the_events_zone_and_texts_per_language(
    client, staff, make_event, event_input, host
):
    from outreach.services.event_editing import create_event, update_event

    event = create_event(event_input(hosts=[host.id], timezone="America/New_York"), by=staff)
    data = event_input(hosts=[host.id], timezone="America/New_York")
    data.starts_at = event.starts_at + timedelta(hours=1)
    data.ends_at = event.ends_at + timedelta(hours=1)
    data.texts["en"]["title"] = "Story evening"
    update_event(event, data, by=staff)

    html = page(client.get(f"/staff/events/{event.id}?lang=en"))

    newest = html.one("ol", class_="history").all("li", class_="history__entry")[0]
    rows = {row.one("th").text: row for row in newest.one("tbody").all("tr")}
    assert rows["Title (English)"].one("td", class_="changes__after").text == "Story evening"
    local = (data.starts_at.astimezone(event.zone)).strftime("%-I:%M")
    assert local in rows["Starts"].one("td", class_="changes__after").text
    assert "Title (German)" not in rows


def test_event_without_history_has_an_empty_state(client, staff, make_event):
    event = make_event()

    html = page(client.get(f"/staff/events/{event.id}?lang=en"))

    assert "Nothing has been recorded for this event yet." in html.text


# -- review -----------------------------------------------------------------------------------


def test_staff_publish_a_submitted_event_and_the_hosts_hear_of_it(
    client, staff, make_event, host, host_user, outbox
):
    event = _submitted(make_event, host, host_user)

    page_before = page(client.get(f"/staff/events/{event.id}?lang=en"))
    response = client.post(f"/staff/events/{event.id}/publish?lang=en")

    assert page_before.all("form", action=f"/staff/events/{event.id}/publish")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/staff/events/{event.id}"
    db.session.refresh(event)
    assert event.status is EventStatus.PUBLISHED
    [message] = outbox(kind=MessageKind.EVENT_PUBLISHED)
    assert message.recipient == host_user.email
    assert audit.entries_for(event)[0].action == "event.published"
    html = page(client.get(f"/staff/events/{event.id}?lang=en"))
    assert "The event is published." in html.text
    assert "Selin Kaya published the event" in html.text


def test_an_event_that_has_started_cannot_be_published(client, staff, make_event, host, host_user):
    event = _submitted(make_event, host, host_user)
    event.starts_at = utcnow() - timedelta(hours=1)
    db.session.commit()

    response = client.post(f"/staff/events/{event.id}/publish?lang=en")

    assert response.status_code == 409
    assert "This event has already started" in page(response).one(role="alert").text
    db.session.refresh(event)
    assert event.status is EventStatus.SUBMITTED


def test_a_published_event_cannot_be_published_again(client, staff, make_event, outbox):
    event = make_event()

    response = client.post(f"/staff/events/{event.id}/publish")

    assert response.status_code == 409
    assert outbox() == []


def test_staff_send_an_event_back_with_a_comment(
    client, staff, make_event, host, host_user, outbox
):
    event = _submitted(make_event, host, host_user)

    response = client.post(
        f"/staff/events/{event.id}/request-changes",
        data={"comment": "Bitte den Raum nennen.\nUnd die Uhrzeit prüfen."},
    )

    assert response.status_code == 303
    db.session.refresh(event)
    assert event.status is EventStatus.DRAFT
    assert event.review_comment == "Bitte den Raum nennen.\nUnd die Uhrzeit prüfen."
    [message] = outbox(kind=MessageKind.CHANGES_REQUESTED)
    assert message.recipient == host_user.email
    html = page(client.get(f"/staff/events/{event.id}?lang=en"))
    assert "Changes requested:" in html.text
    comment = html.one("blockquote", class_="history__comment").text
    assert comment == "Bitte den Raum nennen. Und die Uhrzeit prüfen."


def test_sending_back_needs_a_comment(client, staff, make_event, host, host_user, outbox):
    event = _submitted(make_event, host, host_user)

    url = f"/staff/events/{event.id}/request-changes?lang=en"
    response = client.post(url, data={"comment": "  "})

    assert response.status_code == 422
    html = page(response)
    assert "Please say what should change." in html.one(class_="error-summary").text
    assert html.one("textarea", id="comment").attrs["aria-invalid"] == "true"
    db.session.refresh(event)
    assert event.status is EventStatus.SUBMITTED
    assert outbox(kind=MessageKind.CHANGES_REQUESTED) == []


def test_waiting_events_are_listed_oldest_first_on_the_dashboard(
    client, staff, make_event, host, host_user
):
    later = _submitted(make_event, host, host_user, title="Später")
    earlier = _submitted(make_event, host, host_user, title="Früher")
    earlier.submitted_at = later.submitted_at - timedelta(days=2)
    db.session.commit()

    html = page(client.get("/staff/?lang=en"))

    waiting = html.by_id("review-heading").parent.one("ol")
    assert [li.all("a")[0].text for li in waiting.all("li")] == ["Früher", "Später"]


# -- cancelling -------------------------------------------------------------------------------


def test_cancel_page_says_how_many_people_will_be_told(
    client, staff, make_event, make_registration
):
    event = make_event(title="Elternabend", capacity=1)
    make_registration(event)
    make_registration(event)  # waitlisted: told as well
    cancelled = make_registration(event)
    from outreach.services.registrations import cancel_registration

    cancel_registration(cancelled.registration)

    html = page(client.get(f"/staff/events/{event.id}/cancel?lang=en"))

    assert html.one("h1").text == "Do you really want to cancel “Elternabend”?"
    assert "2 registered people will be told by email" in html.text
    assert html.one("textarea", id="reason")
    assert html.all("a", href=f"/staff/events/{event.id}")


def test_cancelling_tells_every_registrant_and_is_audited(
    client, staff, make_event, make_registration, outbox
):
    event = make_event(capacity=5)
    make_registration(event)
    make_registration(event)

    response = client.post(
        f"/staff/events/{event.id}/cancel?lang=en", data={"reason": "Der Saal ist gesperrt."}
    )

    assert response.status_code == 303
    db.session.refresh(event)
    assert event.status is EventStatus.CANCELLED
    assert event.cancellation_reason == "Der Saal ist gesperrt."
    assert len(outbox(kind=MessageKind.EVENT_CANCELLED)) == 2
    [entry] = audit.entries_for(event)
    assert entry.action == "event.cancelled" and entry.actor_id == staff.id
    assert entry.changes["status"] == ["published", "cancelled"]
    html = page(client.get(f"/staff/events/{event.id}?lang=en"))
    assert "The event is cancelled. 2 people will be told by email." in html.text
    assert "Selin Kaya cancelled the event" in html.text
    assert not html.all("a", href=f"/staff/events/{event.id}/cancel")


def test_a_draft_is_cancelled_without_telling_anyone(client, staff, make_event, outbox):
    event = make_event(status=EventStatus.DRAFT)

    confirmation = page(client.get(f"/staff/events/{event.id}/cancel?lang=en"))
    client.post(f"/staff/events/{event.id}/cancel", data={"reason": ""})

    assert "The event is not published, so nobody needs to be told." in confirmation.text
    db.session.refresh(event)
    assert event.status is EventStatus.CANCELLED
    assert outbox() == []


def test_a_too_long_reason_is_refused_and_nothing_changes(
    client, staff, make_event, make_registration, outbox
):
    event = make_event()
    make_registration(event)
    before = len(outbox())

    response = client.post(f"/staff/events/{event.id}/cancel?lang=en", data={"reason": "x" * 2001})

    assert response.status_code == 422
    assert "Please use at most 2000 characters." in page(response).one(class_="error-summary").text
    db.session.refresh(event)
    assert event.status is EventStatus.PUBLISHED
    assert len(outbox()) == before


def test_a_cancelled_event_sends_the_cancel_page_back_to_the_event(client, staff, make_event):
    event = make_event(status=EventStatus.CANCELLED)

    response = client.get(f"/staff/events/{event.id}/cancel")

    assert response.status_code == 303
    assert response.headers["Location"] == f"/staff/events/{event.id}"


def test_audit_log_names_hosts_and_topics_instead_of_their_slugs(
    client, staff, event_input, make_org, make_event
):
    from outreach.services.event_editing import create_event, update_event

    make_event(topics=["education"])  # makes the topic
    lead, partner = make_org(name="Brückenwerk e.V."), make_org(name="Sahel Forum")
    event = create_event(event_input(hosts=[lead.id]), by=staff)
    update_event(event, event_input(hosts=[lead.id, partner.id], topics=["education"]), by=staff)

    html = page(client.get(f"/staff/events/{event.id}?lang=en"))

    newest = html.one("ol", class_="history").all("li", class_="history__entry")[0]
    rows = {row.one("th").text: row for row in newest.one("tbody").all("tr")}
    assert rows["Hosts"].one("td", class_="changes__before").text == "Brückenwerk e.V."
    assert rows["Hosts"].one("td", class_="changes__after").text == "Brückenwerk e.V., Sahel Forum"
    assert rows["Topics"].one("td", class_="changes__after").text == "Education"
