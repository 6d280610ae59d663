"""GET /api/v1/events and /api/v1/events/<slug>."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import flask_babel
import pytest

from outreach.models import EventStatus, utcnow


def in_days(days: float) -> datetime:
    return utcnow().replace(microsecond=0) + timedelta(days=days)


def slugs(response) -> list[str]:
    return [item["slug"] for item in response.get_json()["items"]]


def test_list_shows_published_upcoming_events_soonest_first(api, make_event):
    later = make_event(starts_at=in_days(10))
    sooner = make_event(starts_at=in_days(2))
    running = make_event(starts_at=in_days(-0.05), ends_at=in_days(0.1))
    make_event(status=EventStatus.DRAFT)
    make_event(status=EventStatus.SUBMITTED)
    make_event(status=EventStatus.CANCELLED)
    make_event(starts_at=in_days(-3))

    response = api.get("/api/v1/events")

    assert response.status_code == 200
    assert slugs(response) == [running.slug, sooner.slug, later.slug]
    assert response.get_json()["total"] == 3


def test_list_filters_by_topic_language_format_and_host(api, make_event, make_org):
    club = make_org(slug="kulturverein")
    in_person = make_event(topics=["bildung"], languages=["de", "ar"], hosts=[club])
    online = make_event(
        topics=["kultur"],
        languages=["en"],
        venue_name=None,
        venue_city=None,
        online_url="https://meet.example.org/a",
    )

    def listed(query: str) -> list[str]:
        response = api.get(f"/api/v1/events?{query}")
        assert response.status_code == 200
        return slugs(response)

    assert listed("topic=bildung") == [in_person.slug]
    assert listed("language=ar") == [in_person.slug]
    assert listed("format=online") == [online.slug]
    assert listed("format=in_person") == [in_person.slug]
    assert listed("host=kulturverein") == [in_person.slug]
    assert listed("topic=kultur&language=en&format=online") == [online.slug]
    assert listed("topic=nothing-like-this") == []
    assert listed("topic=&format=") == [in_person.slug, online.slug]


def test_list_paginates_and_caps_per_page_at_100(api, make_event):
    events = [make_event(starts_at=in_days(day)) for day in (1, 2, 3)]

    first = api.get("/api/v1/events?per_page=2").get_json()
    second = api.get("/api/v1/events?per_page=2&page=2").get_json()
    beyond = api.get("/api/v1/events?per_page=2&page=9").get_json()
    capped = api.get("/api/v1/events?per_page=5000").get_json()

    assert [item["slug"] for item in first["items"]] == [e.slug for e in events[:2]]
    assert (first["page"], first["per_page"], first["total"], first["pages"]) == (1, 2, 3, 2)
    assert [item["slug"] for item in second["items"]] == [events[2].slug]
    assert beyond["items"] == [] and beyond["page"] == 9
    assert capped["per_page"] == 100 and capped["total"] == 3


def test_list_of_nothing_has_zero_pages(api):
    body = api.get("/api/v1/events").get_json()

    assert body == {"items": [], "page": 1, "per_page": 20, "total": 0, "pages": 0}


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("page=abc", {"page"}),
        ("page=0", {"page"}),
        ("page=-1", {"page"}),
        ("page=1.5", {"page"}),
        ("page=%D9%A3", {"page"}),  # an Arabic-Indic digit is a digit, but not a page number
        ("per_page=0", {"per_page"}),
        ("per_page=", {"per_page"}),
        ("format=boat", {"format"}),
        ("topic=a%00b", {"topic"}),
        ("host=" + "x" * 500, {"host"}),
        ("language=de%0Aen", {"language"}),
        ("page=abc&format=boat&per_page=0", {"page", "format", "per_page"}),
    ],
)
def test_list_refuses_invalid_query_values_with_a_message_per_field(api, query, fields):
    response = api.get(f"/api/v1/events?{query}")

    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid"
    assert set(body["fields"]) == fields
    assert all(message for message in body["fields"].values())


def test_event_shows_seats_times_place_hosts_texts_and_questions(
    api, event_with_questions, make_org, make_registration
):
    lead, partner = make_org(name="Haus der Kulturen"), make_org(name="Verein Brücke")
    event = event_with_questions(
        capacity=10,
        hosts=[lead, partner],
        topics=["bildung"],
        languages=["de", "uk"],
        starts_at=datetime(2031, 7, 1, 16, 0, tzinfo=ZoneInfo("UTC")),
        venue_address="Hauptstraße 1",
    )
    town = str(event.questions[0].id)
    make_registration(event, guests=1, answers={town: "Köln"})

    response = api.get(f"/api/v1/events/{event.slug}")

    assert response.status_code == 200
    body = response.get_json()
    assert body["seats_left"] == 8
    assert body["waitlist_enabled"] is True
    assert body["registration"] == "open"
    assert body["status"] == "published"
    assert body["max_guests"] == 2
    assert body["starts_at"] == "2031-07-01T16:00:00+00:00"
    assert body["ends_at"] == "2031-07-01T18:00:00+00:00"
    assert body["timezone"] == "Europe/Berlin"
    assert body["starts_at_local"] == "2031-07-01T18:00:00+02:00"
    assert body["ends_at_local"] == "2031-07-01T20:00:00+02:00"
    assert body["venue"] == {"name": "Gemeindehaus", "address": "Hauptstraße 1", "city": "Berlin"}
    assert body["online"] is True
    assert body["hosts"] == [
        {"slug": lead.slug, "name": "Haus der Kulturen"},
        {"slug": partner.slug, "name": "Verein Brücke"},
    ]
    assert body["topics"] == [{"slug": "bildung", "name": {"de": "Bildung", "en": "Bildung"}}]
    assert body["languages"] == ["de", "uk"]
    assert set(body["texts"]) == {"de", "en"}
    assert body["texts"]["en"]["summary"] == "Summary en"
    kinds = [question["kind"] for question in body["questions"]]
    assert kinds == ["short_text", "long_text", "single_choice", "multiple_choice", "checkbox"]
    first, _, interpretation, *_ = body["questions"]
    assert first == {
        "id": int(town),
        "kind": "short_text",
        "required": True,
        "label": {"de": "Ort", "en": "Town"},
        "options": [],
        "max_length": 200,
    }
    assert interpretation["options"][1] == {
        "value": "uk",
        "label": {"de": "Ukrainisch", "en": "Ukrainian"},
    }


def test_event_never_reveals_the_online_link(api, event_with_questions):
    event = event_with_questions(online_url="https://meet.example.org/secret-room")

    single = api.get(f"/api/v1/events/{event.slug}")
    listing = api.get("/api/v1/events")

    assert b"secret-room" not in single.data
    assert b"secret-room" not in listing.data
    assert listing.get_json()["items"][0]["online"] is True


def test_event_without_limit_has_null_seats_left_and_online_only_has_no_venue(api, make_event):
    event = make_event(
        capacity=None, venue_name=None, venue_city=None, online_url="https://meet.example.org/x"
    )

    body = api.get(f"/api/v1/events/{event.slug}").get_json()

    assert body["seats_left"] is None
    assert body["venue"] is None
    assert body["online"] is True
    assert body["questions"] == []


def test_full_event_shows_no_seats_left(api, make_event, make_registration):
    event = make_event(capacity=1, waitlist_enabled=False)
    make_registration(event)

    body = api.get(f"/api/v1/events/{event.slug}").get_json()

    assert body["seats_left"] == 0
    assert body["waitlist_enabled"] is False


@pytest.mark.parametrize(
    ("values", "state"),
    [
        ({"registration_opens_at": in_days(1)}, "not_yet_open"),
        ({"registration_closes_at": in_days(-1)}, "closed"),
        ({"starts_at": in_days(-0.05), "ends_at": in_days(0.1)}, "past"),
        ({"status": EventStatus.CANCELLED}, "cancelled"),
    ],
)
def test_event_says_why_it_takes_no_registrations(api, make_event, values, state):
    event = make_event(**values)

    body = api.get(f"/api/v1/events/{event.slug}").get_json()

    assert body["registration"] == state


def test_cancelled_event_is_readable_but_not_listed(api, make_event):
    event = make_event(status=EventStatus.CANCELLED)

    assert api.get(f"/api/v1/events/{event.slug}").get_json()["status"] == "cancelled"
    assert api.get("/api/v1/events").get_json()["items"] == []


@pytest.mark.parametrize("status", [EventStatus.DRAFT, EventStatus.SUBMITTED])
def test_unpublished_event_is_not_found(api, make_event, status):
    event = make_event(status=status)

    response = api.get(f"/api/v1/events/{event.slug}")

    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


@pytest.mark.parametrize("slug", ["no-such-event", "a%00b", "x" * 400, "%E2%80%AE"])
def test_unknown_or_odd_event_slug_is_a_json_404(api, slug):
    response = api.get(f"/api/v1/events/{slug}")

    assert response.status_code == 404
    assert set(response.get_json()) == {"error", "message"}


def test_unknown_api_address_and_wrong_method_answer_in_json(api, make_event):
    event = make_event()

    missing = api.get("/api/v1/nothing-here")
    wrong_method = api.post(f"/api/v1/events/{event.slug}")

    assert missing.status_code == 404
    assert missing.get_json()["error"] == "not_found"
    assert wrong_method.status_code == 405
    assert wrong_method.get_json()["error"] == "method_not_allowed"
    assert "GET" in wrong_method.headers["Allow"]


def test_error_messages_follow_the_requested_language(api):
    german = api.get("/api/v1/events?page=x", headers={"Accept-Language": "de"}).get_json()
    # Flask-Babel keeps the locale on g; the test app context outlives one request.
    flask_babel.refresh()
    english = api.get("/api/v1/events?page=x&lang=en").get_json()

    assert english["message"] == "Please correct the marked fields."
    assert german["message"] != english["message"]
    assert german["error"] == english["error"] == "invalid"
