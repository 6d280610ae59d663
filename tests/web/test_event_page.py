"""The event page: what it tells, and whether it offers the registration form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from outreach.models import EventStatus, utcnow
from tests.web.html import page


def test_event_page_shows_every_host_of_a_joint_event(client, make_event, make_org):
    lead = make_org(slug="brueckenwerk", name="Brückenwerk e.V.")
    partner = make_org(slug="sahel-forum", name="Sahel Forum Köln")
    make_event(slug="joint", hosts=[lead, partner])

    html = page(client.get("/events/joint"))

    links = {a.text: a.attrs["href"] for a in html.all("a") if "/organisations/" in a.attrs["href"]}
    assert links == {
        "Brückenwerk e.V.": "/organisations/brueckenwerk",
        "Sahel Forum Köln": "/organisations/sahel-forum",
    }
    assert "Veranstaltende" in html.text


def test_event_time_is_shown_in_the_event_zone_with_the_zone_named(client, make_event):
    starts = datetime(2031, 3, 14, 22, 30, tzinfo=UTC)  # 19:30 in São Paulo
    make_event(
        slug="sao-paulo",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        timezone="America/Sao_Paulo",
    )

    english = page(client.get("/events/sao-paulo?lang=en")).text
    german = page(client.get("/events/sao-paulo")).text

    assert "Friday, March 14, 2031" in english
    assert "7:30" in english
    assert "Brasilia Standard Time (America/Sao_Paulo)" in english
    assert "Freitag, 14. März 2031" in german
    assert "19:30–21:30" in german
    assert "(America/Sao_Paulo)" in german


def test_berlin_events_name_summer_and_winter_time(client, make_event):
    winter = datetime(2031, 1, 10, 17, 0, tzinfo=UTC)
    summer = datetime(2031, 7, 10, 16, 0, tzinfo=UTC)
    make_event(slug="winter", starts_at=winter)
    make_event(slug="summer", starts_at=summer)

    winter_text = page(client.get("/events/winter")).text
    summer_text = page(client.get("/events/summer")).text

    assert "18:00" in winter_text and "Mitteleuropäische Normalzeit" in winter_text
    assert "18:00" in summer_text and "Mitteleuropäische Sommerzeit" in summer_text


def test_venue_comes_with_a_map_link(client, make_event):
    make_event(
        slug="in-person", venue_name="Kulturhaus", venue_address="Hauptstr. 1", venue_city="Köln"
    )

    html = page(client.get("/events/in-person"))

    link = html.one("a", class_="map-link")
    assert link.attrs["href"].startswith("https://www.openstreetmap.org/search?query=")
    assert "Kulturhaus" in link.attrs["href"]
    assert "Kulturhaus, Hauptstr. 1, Köln" in html.text


def test_online_link_is_never_shown_on_the_public_page(client, make_event):
    make_event(
        slug="webinar",
        venue_name=None,
        venue_city=None,
        online_url="https://meet.example/secret-room",
    )

    response = client.get("/events/webinar")

    assert "secret-room" not in response.get_data(as_text=True)
    assert "Online" in page(response).text


def test_hybrid_events_say_so(client, make_event):
    make_event(slug="hybrid", online_url="https://meet.example/room")

    assert "Vor Ort und online (hybrid)" in page(client.get("/events/hybrid")).text


def test_event_languages_topics_and_seats_are_shown(client, make_event):
    make_event(slug="info", languages=["ar", "de"], topics=["health"], capacity=30)

    text = page(client.get("/events/info?lang=en")).text

    assert "Arabic, German" in text
    assert "Health" in text
    assert "30 seats left" in text


def test_unlimited_events_say_there_is_no_limit(client, make_event):
    make_event(slug="open", capacity=None)

    assert "Keine Platzbegrenzung" in page(client.get("/events/open")).text


def test_cancelled_event_shows_a_banner_and_no_form(client, make_event):
    make_event(slug="off", status=EventStatus.CANCELLED)

    html = page(client.get("/events/off"))

    assert html.one(class_="banner--cancelled").text == "Diese Veranstaltung wurde abgesagt."
    assert not html.all("form", method="post")


@pytest.mark.parametrize("status", [EventStatus.DRAFT, EventStatus.SUBMITTED])
def test_unpublished_events_are_not_found(client, make_event, status):
    make_event(slug="hidden", status=status)

    response = client.get("/events/hidden")

    assert response.status_code == 404
    assert page(response).one("h1").text == "Seite nicht gefunden"


def test_unknown_event_is_a_friendly_404(client):
    response = client.get("/events/no-such-thing")

    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)
    assert page(response).all("a", href="/")


def test_registration_form_has_a_label_for_every_field(client, make_event):
    make_event(
        slug="questions",
        max_guests=2,
        questions=[
            {"kind": "short_text", "label": {"en": "Your role"}},
            {"kind": "long_text", "label": {"en": "Needs"}},
            {
                "kind": "single_choice",
                "required": True,
                "label": {"en": "Interpreting"},
                "options": [
                    {"value": "ar", "label": {"en": "Arabic"}},
                    {"value": "tr", "label": {"en": "Turkish"}},
                ],
            },
            {
                "kind": "multiple_choice",
                "label": {"en": "Food"},
                "options": [
                    {"value": "vegan", "label": {"en": "vegan"}},
                    {"value": "halal", "label": {"en": "halal"}},
                ],
            },
            {"kind": "checkbox", "label": {"en": "I bring children"}},
        ],
    )

    html = page(client.get("/events/questions"))

    assert html.unlabelled_controls() == []
    assert html.duplicate_ids() == []
    assert html.one("input", name="email").attrs["type"] == "email"
    assert html.one("input", name="guests").attrs["max"] == "2"


def test_guests_field_is_hidden_when_guests_are_not_allowed(client, make_event):
    make_event(slug="solo", max_guests=0)

    assert not page(client.get("/events/solo")).all("input", name="guests")


def test_consent_names_every_host(client, make_event, make_org):
    make_event(slug="joint", hosts=[make_org(name="Erste Org"), make_org(name="Zweite Org")])

    consent = page(client.get("/events/joint")).one("label", for_="consent")

    assert "Erste Org, Zweite Org" in consent.text


def test_organisation_page_lists_its_upcoming_events(client, make_event, make_org):
    org = make_org(slug="vietnam-haus", name="Vietnam-Haus Leipzig")
    make_event(title="Tết-Fest", hosts=[org])
    make_event(title="Old", hosts=[org], starts_at=utcnow() - timedelta(days=30))
    make_event(title="Someone else's")

    html = page(client.get("/organisations/vietnam-haus"))

    assert html.one("h1").text == "Vietnam-Haus Leipzig"
    assert [e.text for e in html.all(class_="event-card__title")] == ["Tết-Fest"]


def test_unknown_organisation_is_not_found(client):
    assert client.get("/organisations/nobody").status_code == 404
