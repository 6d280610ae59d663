"""The private manage link: see, change and cancel a registration."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar

from outreach.extensions import db
from outreach.models import EventStatus, MessageKind, RegistrationStatus, utcnow
from tests.web.html import page

QUESTIONS = [
    {"kind": "short_text", "required": True, "label": {"de": "Ihre Rolle", "en": "Your role"}},
    {"kind": "checkbox", "label": {"de": "Kinderbetreuung", "en": "Childcare"}},
]


def test_manage_page_shows_a_confirmed_registration_and_its_event(
    client, make_event, make_registration
):
    event = make_event(slug="dialog", title="Diaspora-Dialog", capacity=5)
    outcome = make_registration(event, name="Amina Diallo", email="amina@example.org")

    response = client.get(f"/r/{outcome.token}")

    assert response.status_code == 200
    html = page(response)
    assert "Sie sind angemeldet." in html.one(class_="status-box").text
    assert html.one("h2", id="event-heading").text == "Diaspora-Dialog"
    assert "Amina Diallo" in html.text and "amina@example.org" in html.text
    assert html.all("a", href=f"/r/{outcome.token}/cancel")
    assert html.all("a", href=f"/r/{outcome.token}/calendar.ics")
    assert html.duplicate_ids() == []
    assert html.unlabelled_controls() == []


def test_manage_pages_are_private(client, make_event, make_registration):
    outcome = make_registration(make_event())

    response = client.get(f"/r/{outcome.token}")

    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_waitlisted_registration_shows_its_place_in_the_queue(
    client, make_event, make_registration
):
    event = make_event(capacity=1)
    make_registration(event)
    first_waiting = make_registration(event)
    second_waiting = make_registration(event)

    html = page(client.get(f"/r/{second_waiting.token}?lang=en"))

    assert second_waiting.status is RegistrationStatus.WAITLISTED
    assert "You are on the waitlist." in html.text
    assert "Your place in the queue: 2." in html.text

    client.post(f"/r/{first_waiting.token}/cancel")
    assert (
        "Your place in the queue: 1." in page(client.get(f"/r/{second_waiting.token}?lang=en")).text
    )


def test_online_link_is_shown_only_to_confirmed_registrations(
    client, make_event, make_registration
):
    event = make_event(capacity=1, online_url="https://meet.example/room-42")
    confirmed = make_registration(event)
    waiting = make_registration(event)

    assert "https://meet.example/room-42" in client.get(f"/r/{confirmed.token}").get_data(
        as_text=True
    )
    assert "room-42" not in client.get(f"/r/{waiting.token}").get_data(as_text=True)

    client.post(f"/r/{confirmed.token}/cancel")
    assert "room-42" not in client.get(f"/r/{confirmed.token}").get_data(as_text=True)


def test_changing_guests_answers_and_language(client, make_event, make_registration):
    event = make_event(capacity=10, max_guests=3, questions=QUESTIONS)
    role, childcare = (f"q_{q.id}" for q in event.questions)
    outcome = make_registration(event, answers={str(event.questions[0].id): "Teacher"})

    html = page(client.get(f"/r/{outcome.token}"))
    assert html.one("input", name=role).attrs["value"] == "Teacher"

    response = client.post(
        f"/r/{outcome.token}",
        data={"guests": "2", "language": "en", role: "Parent", childcare: "y"},
    )

    assert response.status_code == 303
    assert response.headers["Location"] == f"/r/{outcome.token}"
    registration = outcome.registration
    db.session.refresh(registration)
    assert (registration.guests, registration.language) == (2, "en")
    assert registration.answers == {
        str(event.questions[0].id): "Parent",
        str(event.questions[1].id): True,
    }
    assert "Ihre Änderungen wurden gespeichert." in page(client.get(f"/r/{outcome.token}")).text


def test_an_invalid_change_is_shown_at_the_field_and_not_saved(
    client, make_event, make_registration
):
    event = make_event(max_guests=3, questions=QUESTIONS)
    role = f"q_{event.questions[0].id}"
    outcome = make_registration(event, answers={str(event.questions[0].id): "Teacher"})

    response = client.post(f"/r/{outcome.token}", data={"guests": "1", "language": "de", role: ""})

    assert response.status_code == 422
    html = page(response)
    assert html.by_id(f"{role}-error").text == "Bitte beantworten Sie diese Frage."
    assert html.one(class_="error-summary").all("a", href=f"#{role}")
    db.session.refresh(outcome.registration)
    assert outcome.registration.guests == 0


def test_more_guests_than_seats_left_is_a_form_error(client, make_event, make_registration):
    event = make_event(capacity=3, max_guests=3)
    outcome = make_registration(event)
    make_registration(event)

    response = client.post(f"/r/{outcome.token}", data={"guests": "2", "language": "de"})

    assert response.status_code == 409
    html = page(response)
    assert "nicht mehr genug Plätze frei" in html.by_id("guests-error").text
    assert "nicht mehr genug Plätze frei" in html.one(class_="error-summary").text
    db.session.refresh(outcome.registration)
    assert outcome.registration.guests == 0


def test_cancelling_asks_for_confirmation_first(client, make_event, make_registration):
    outcome = make_registration(make_event(title="Diaspora-Dialog"))

    response = client.get(f"/r/{outcome.token}/cancel")

    html = page(response)
    assert html.one("h1").text == "Möchten Sie wirklich stornieren?"
    assert "Diaspora-Dialog" in html.text
    assert html.one("form").attrs["action"] == f"/r/{outcome.token}/cancel"
    db.session.refresh(outcome.registration)
    assert outcome.registration.status is RegistrationStatus.CONFIRMED


def test_cancelling_promotes_the_first_waitlisted_person(
    client, make_event, make_registration, outbox
):
    event = make_event(capacity=1)
    confirmed = make_registration(event)
    first = make_registration(event, email="first@example.org")
    make_registration(event, email="second@example.org")

    response = client.post(f"/r/{confirmed.token}/cancel")

    assert response.status_code == 303
    assert response.headers["Location"] == f"/r/{confirmed.token}"
    after = page(client.get(response.headers["Location"]))
    assert "Ihre Anmeldung wurde storniert." in after.text
    assert "Ihre Anmeldung ist storniert." in after.text
    assert not after.all("form", method="post")
    db.session.refresh(first.registration)
    assert first.registration.status is RegistrationStatus.CONFIRMED
    [promoted] = outbox(kind=MessageKind.WAITLIST_PROMOTED)
    assert promoted.recipient == "first@example.org"
    assert outbox(kind=MessageKind.REGISTRATION_CANCELLED)[0].registration_id == (
        confirmed.registration.id
    )


def test_a_started_event_shows_the_registration_read_only(client, make_event, make_registration):
    event = make_event(max_guests=2, questions=QUESTIONS)
    outcome = make_registration(event, answers={str(event.questions[0].id): "Teacher"})
    event.starts_at = utcnow() - timedelta(minutes=5)
    db.session.commit()

    html = page(client.get(f"/r/{outcome.token}"))

    assert not html.all("form")
    assert "Diese Anmeldung kann nicht mehr geändert werden." in html.text
    assert "Teacher" in html.text
    assert (
        client.post(f"/r/{outcome.token}", data={"guests": "1", "language": "de"}).status_code
        == 303
    )
    assert client.post(f"/r/{outcome.token}/cancel").status_code == 303
    db.session.refresh(outcome.registration)
    assert outcome.registration.status is RegistrationStatus.CONFIRMED
    assert outcome.registration.guests == 0


def test_a_cancelled_event_shows_a_banner_and_no_form(client, make_event, make_registration):
    event = make_event()
    outcome = make_registration(event)
    event.status = EventStatus.CANCELLED
    db.session.commit()

    html = page(client.get(f"/r/{outcome.token}"))

    assert html.one(class_="banner--cancelled")
    assert not html.all("form")


@pytest.mark.parametrize(
    "token",
    [
        "A" * 43,  # well-formed, unknown
        "short",
        "x" * 300,
        "not%20a%20token",
        "%C3%A4" * 20,
    ],
)
def test_unknown_tokens_get_a_friendly_404(client, token):
    for path in (f"/r/{token}", f"/r/{token}/cancel", f"/r/{token}/calendar.ics"):
        response = client.get(path)
        assert response.status_code == 404
        html = page(response)
        assert html.one("h1").text == "Seite nicht gefunden"
        assert "Dieser Link funktioniert nicht (mehr)." in html.text
    assert client.post(f"/r/{token}/cancel").status_code == 404


def test_a_link_expires_some_time_after_the_event(app, client, make_event, make_registration):
    grace = app.config["MANAGE_LINK_GRACE_DAYS"]
    now = utcnow()
    event = make_event(starts_at=now - timedelta(days=grace + 2))
    outcome = make_registration(event, now=now - timedelta(days=grace + 10))

    assert client.get(f"/r/{outcome.token}").status_code == 404


def test_calendar_download_is_an_icalendar_file(app, client, make_event, make_registration):
    event = make_event(title="Diaspora-Dialog", venue_name="Kulturhaus", venue_city="Köln")
    outcome = make_registration(event, language="en")

    response = client.get(f"/r/{outcome.token}/calendar.ics")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["METHOD"]) == "PUBLISH"
    [entry] = calendar.walk("VEVENT")
    assert str(entry["UID"]) == f"event-{event.uid}@outreach.test"
    assert entry.decoded("DTSTART") == event.starts_at
    assert entry.decoded("DTEND") == event.ends_at
    assert str(entry["SUMMARY"]) == "Diaspora-Dialog"
    assert "Kulturhaus" in str(entry["LOCATION"])
    assert entry["DTSTART"].params["TZID"] == event.timezone
    assert "ATTENDEE" not in entry


def test_odd_guest_numbers_in_a_change_are_errors_not_crashes(
    client, make_event, make_registration
):
    outcome = make_registration(make_event(max_guests=2))

    response = client.post(f"/r/{outcome.token}", data={"guests": "9" * 400, "language": "de"})

    assert response.status_code == 422
    assert page(response).by_id("guests-error").text
