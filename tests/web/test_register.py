"""Registering through the event page: every outcome, and what the page says."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import EventStatus, MessageKind, Registration, RegistrationStatus, utcnow
from tests.web.html import page

THANK_YOU = (
    "Vielen Dank. Wir haben eine E-Mail an diese Adresse geschickt – mit den Angaben zu "
    "Ihrer Anmeldung und Ihrem privaten Link, um sie zu ändern oder zu stornieren."
)


def form_data(**values) -> dict:
    data = {"name": "Amina Diallo", "email": "amina@example.org", "language": "de", "consent": "y"}
    data.update(values)
    return {key: value for key, value in data.items() if value is not None}


def registrations() -> list[Registration]:
    return list(db.session.scalars(select(Registration).order_by(Registration.id)))


def test_registering_confirms_and_thanks(client, make_event, outbox):
    make_event(slug="dialog", capacity=10)

    response = client.post("/events/dialog", data=form_data(language="en"))

    assert response.status_code == 303
    assert response.headers["Location"] == "/events/dialog/registered"
    [registration] = registrations()
    assert registration.status is RegistrationStatus.CONFIRMED
    assert (registration.name, registration.email, registration.language) == (
        "Amina Diallo",
        "amina@example.org",
        "en",
    )
    assert [row.kind for row in outbox()] == [MessageKind.REGISTRATION_CONFIRMED]
    thanks = client.get(response.headers["Location"])
    assert thanks.status_code == 200
    assert THANK_YOU in page(thanks).text


def test_thank_you_page_shows_no_status_and_no_manage_link(client, make_event, outbox):
    make_event(slug="dialog")
    client.post("/events/dialog", data=form_data())

    body = client.get("/events/dialog/registered").get_data(as_text=True)

    token = outbox()[0].payload["token"]
    assert token not in body
    assert "/r/" not in body
    assert "amina@example.org" not in body
    assert "bestätigt" not in body and "Warteliste" not in body


def test_the_session_remembers_only_the_event_slug(client, make_event):
    make_event(slug="dialog")

    client.post("/events/dialog", data=form_data())

    with client.session_transaction() as session:
        assert dict(session) == {"registered_for": "dialog"}


def test_thank_you_page_without_registering_leads_to_the_event(client, make_event):
    make_event(slug="dialog")

    response = client.get("/events/dialog/registered")

    assert response.status_code == 302
    assert response.headers["Location"] == "/events/dialog"


def test_full_event_offers_the_waitlist(client, make_event, make_registration, outbox):
    event = make_event(slug="popular", capacity=1, waitlist_enabled=True)
    make_registration(event)

    html = page(client.get("/events/popular"))
    assert "Sie können sich auf die Warteliste setzen" in html.text
    assert html.one("input", type="submit").attrs["value"] == "Auf die Warteliste setzen"

    response = client.post("/events/popular", data=form_data())

    assert response.status_code == 303
    assert registrations()[-1].status is RegistrationStatus.WAITLISTED
    assert outbox()[-1].kind is MessageKind.REGISTRATION_WAITLISTED
    assert THANK_YOU in page(client.get(response.headers["Location"])).text


def test_full_event_without_waitlist_is_fully_booked_without_a_form(
    client, make_event, make_registration
):
    event = make_event(slug="small", capacity=1, waitlist_enabled=False)
    make_registration(event)

    html = page(client.get("/events/small"))

    assert "Diese Veranstaltung ist leider ausgebucht." in html.text
    assert not html.all("form", method="post")


def test_posting_to_a_full_event_without_waitlist_is_refused(
    client, make_event, make_registration, counts
):
    event = make_event(slug="small", capacity=1, waitlist_enabled=False)
    make_registration(event)
    before = counts()

    response = client.post("/events/small", data=form_data())

    assert response.status_code == 409
    assert "Diese Veranstaltung ist leider ausgebucht." in page(response).text
    assert counts() == before


def test_a_party_larger_than_the_seats_left_is_told_so_at_the_guests_field(
    client, make_event, make_registration, counts
):
    event = make_event(slug="almost", capacity=3, max_guests=3, waitlist_enabled=False)
    make_registration(event, guests=1)
    before = counts()

    response = client.post("/events/almost", data=form_data(guests="2"))

    assert response.status_code == 409
    html = page(response)
    assert (
        "Für so viele Gäste sind nicht mehr genug Plätze frei." in html.by_id("guests-error").text
    )
    assert counts() == before


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"registration_opens_at": timedelta(days=2)}, "Die Anmeldung ist noch nicht geöffnet."),
        (
            {"registration_closes_at": timedelta(days=-1)},
            "Die Anmeldung für diese Veranstaltung ist geschlossen.",
        ),
        ({"starts_at": timedelta(days=-1)}, "Diese Veranstaltung hat bereits stattgefunden."),
    ],
)
def test_closed_registration_shows_the_reason_instead_of_the_form(
    client, make_event, counts, fields, reason
):
    now = utcnow().replace(microsecond=0)
    make_event(slug="closed", **{key: now + delta for key, delta in fields.items()})
    before = counts()

    html = page(client.get("/events/closed"))
    assert reason in html.text
    assert not html.all("form", method="post")

    response = client.post("/events/closed", data=form_data())
    assert response.status_code == 409
    assert reason in page(response).text
    assert counts() == before


def test_registering_for_a_cancelled_event_is_refused(client, make_event, counts):
    make_event(slug="off", status=EventStatus.CANCELLED)

    response = client.post("/events/off", data=form_data())

    assert response.status_code == 409
    assert counts() == (0, 0)


def test_a_second_registration_gets_the_same_thank_you_and_a_manage_link_email(
    client, make_event, outbox
):
    make_event(slug="dialog", capacity=5)
    first = client.post("/events/dialog", data=form_data())
    first_thanks = client.get(first.headers["Location"]).get_data(as_text=True)

    second = client.post(
        "/events/dialog", data=form_data(name="Someone Else", email="AMINA@example.org")
    )
    second_thanks = client.get(second.headers["Location"]).get_data(as_text=True)

    assert second.status_code == first.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    assert second_thanks == first_thanks
    assert len(registrations()) == 1
    assert registrations()[0].name == "Amina Diallo"
    kinds = [row.kind for row in outbox()]
    assert kinds == [MessageKind.REGISTRATION_CONFIRMED, MessageKind.MANAGE_LINK]


def test_guests_take_seats(client, make_event):
    make_event(slug="family", capacity=10, max_guests=3)

    client.post("/events/family", data=form_data(guests="2"))

    assert registrations()[0].guests == 2


def test_more_guests_than_allowed_is_an_error_at_the_field(client, make_event, counts):
    make_event(slug="family", max_guests=2)

    response = client.post("/events/family", data=form_data(guests="5"))

    assert response.status_code == 422
    html = page(response)
    assert html.by_id("guests-error").text == "Bitte wählen Sie zwischen 0 und 2 Gästen."
    assert html.one("input", name="guests").attrs["aria-invalid"] == "true"
    assert counts() == (0, 0)


@pytest.mark.parametrize("guests", ["9" * 400, "-1", "1.5", "zwei", "1e3"])
def test_odd_guest_numbers_are_errors_not_crashes(client, make_event, counts, guests):
    make_event(slug="family", max_guests=2)

    response = client.post("/events/family", data=form_data(guests=guests))

    assert response.status_code == 422
    assert page(response).by_id("guests-error").text
    assert counts() == (0, 0)


QUESTIONS = [
    {"kind": "short_text", "required": True, "label": {"de": "Ihre Rolle", "en": "Your role"}},
    {"kind": "long_text", "label": {"de": "Bedarfe", "en": "Needs"}},
    {
        "kind": "single_choice",
        "label": {"de": "Verdolmetschung", "en": "Interpreting"},
        "options": [
            {"value": "none", "label": {"de": "Keine", "en": "None"}},
            {"value": "ar", "label": {"de": "Arabisch", "en": "Arabic"}},
        ],
    },
    {
        "kind": "multiple_choice",
        "label": {"de": "Essen", "en": "Food"},
        "options": [
            {"value": "vegan", "label": {"de": "vegan", "en": "vegan"}},
            {"value": "halal", "label": {"de": "halal", "en": "halal"}},
        ],
    },
    {"kind": "checkbox", "label": {"de": "Kinderbetreuung", "en": "Childcare"}},
]


def test_answers_of_every_kind_are_stored(client, make_event):
    event = make_event(slug="asks", questions=QUESTIONS)
    ids = [str(question.id) for question in event.questions]

    response = client.post(
        "/events/asks",
        data={
            **form_data(),
            f"q_{ids[0]}": "Teacher",
            f"q_{ids[1]}": "Step-free access\nplease",
            f"q_{ids[2]}": "ar",
            f"q_{ids[3]}": ["halal", "vegan"],
            f"q_{ids[4]}": "y",
        },
    )

    assert response.status_code == 303
    assert registrations()[0].answers == {
        ids[0]: "Teacher",
        ids[1]: "Step-free access\nplease",
        ids[2]: "ar",
        ids[3]: ["vegan", "halal"],
        ids[4]: True,
    }


def test_required_question_is_enforced_with_the_error_next_to_the_field(client, make_event, counts):
    event = make_event(slug="asks", questions=QUESTIONS)
    field = f"q_{event.questions[0].id}"

    response = client.post("/events/asks", data=form_data())

    assert response.status_code == 422
    html = page(response)
    assert html.by_id(f"{field}-error").text == "Bitte beantworten Sie diese Frage."
    control = html.by_id(field)
    assert control.attrs["aria-describedby"] == f"{field}-error"
    assert control.attrs["aria-invalid"] == "true"
    summary = html.one(class_="error-summary")
    assert (
        summary.one("a", href=f"#{field}").text == "Ihre Rolle – Bitte beantworten Sie diese Frage."
    )
    assert counts() == (0, 0)


def test_required_fields_are_marked(client, make_event):
    event = make_event(slug="asks", questions=QUESTIONS)

    html = page(client.get("/events/asks"))

    required_label = html.one("label", for_=f"q_{event.questions[0].id}")
    optional_label = html.one("label", for_=f"q_{event.questions[1].id}")
    assert "(Pflichtfeld)" in required_label.text
    assert "(Pflichtfeld)" not in optional_label.text
    assert "required" in html.one("input", name="name").attrs


def test_the_form_keeps_what_was_typed_after_an_error(client, make_event):
    make_event(slug="dialog")

    html = page(client.post("/events/dialog", data=form_data(email="not-an-address")))

    assert html.one("input", name="name").attrs["value"] == "Amina Diallo"
    assert html.one("input", name="email").attrs["value"] == "not-an-address"


def test_errors_from_the_service_are_shown_at_their_fields(client, make_event):
    make_event(slug="dialog")

    response = client.post(
        "/events/dialog", data=form_data(name="Line\nbreak\x00", email="not-an-address")
    )

    assert response.status_code == 422
    html = page(response)
    assert html.by_id("email-error").text == "Bitte geben Sie eine gültige E-Mail-Adresse ein."
    assert "Zeichen, die wir nicht verwenden können" in html.by_id("name-error").text
    summary_links = [a.attrs["href"] for a in html.one(class_="error-summary").all("a")]
    assert summary_links == ["#name", "#email"]


def test_registering_needs_consent(client, make_event, counts):
    make_event(slug="dialog")

    response = client.post("/events/dialog", data=form_data(consent=None))

    assert response.status_code == 422
    assert (
        "Bitte stimmen Sie der Verwendung Ihrer Daten zu"
        in page(response).by_id("consent-error").text
    )
    assert counts() == (0, 0)


def test_the_form_is_protected_against_cross_site_posts(app, client, make_event, counts):
    make_event(slug="dialog")
    app.config["WTF_CSRF_ENABLED"] = True

    response = client.post("/events/dialog", data=form_data())

    assert response.status_code == 400
    assert "Das Formular konnte nicht angenommen werden." in page(response).text
    assert counts() == (0, 0)


def test_registration_with_a_csrf_token_works(app, client, make_event):
    make_event(slug="dialog")
    app.config["WTF_CSRF_ENABLED"] = True

    token = page(client.get("/events/dialog")).one("input", name="csrf_token").attrs["value"]
    response = client.post("/events/dialog", data=form_data(csrf_token=token))

    assert response.status_code == 303
