"""Calendar links on the pages: add one event, subscribe to feeds, the personal download."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from icalendar import Calendar

from outreach.extensions import db
from outreach.models import EventStatus, RegistrationStatus, utcnow
from tests.web.html import page

JOIN_LINK = "https://meet.example/secret-room-42"
WINTER_EVENING = datetime(2031, 1, 10, 17, 0, tzinfo=UTC)  # 18:00 in Berlin
SUMMER_EVENING = datetime(2031, 7, 10, 16, 0, tzinfo=UTC)  # 18:00 in Berlin


def _query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def _calendar_links(html) -> dict[str, str]:
    section = html.one("section", class_="add-to-calendar")
    return {a.text: a.attrs["href"] for a in section.all("a")}


def _subscribe_box(html):
    box = html.one("section", class_="subscribe")
    [link] = box.all("a")
    [address] = box.all("input")
    return link.attrs["href"], address


# -- the event page: add one event --------------------------------------------------------


def test_event_page_offers_ics_google_and_outlook_links(client, make_event):
    event = make_event(slug="elternabend", title="Elternabend", starts_at=WINTER_EVENING)

    links = _calendar_links(page(client.get("/events/elternabend?lang=en")))

    assert list(links) == [
        "Download .ics file (Apple, Outlook, Thunderbird)",
        "Add to Google Calendar",
        "Add to Outlook.com",
    ]
    ics, google, outlook = links.values()
    assert ics == "/events/elternabend/calendar.ics"
    assert google.startswith("https://calendar.google.com/calendar/render?")
    assert _query(google)["action"] == "TEMPLATE"
    assert _query(google)["text"] == "Elternabend"
    assert _query(google)["ctz"] == "Europe/Berlin"
    assert outlook.startswith("https://outlook.live.com/calendar/0/deeplink/compose?")
    assert _query(outlook)["subject"] == "Elternabend"
    assert (_query(outlook)["startdt"], _query(outlook)["enddt"]) == (
        "2031-01-10T17:00:00Z",
        "2031-01-10T19:00:00Z",
    )
    assert event.slug in _query(google)["details"]


@pytest.mark.parametrize(
    ("starts_at", "dates"),
    [
        (WINTER_EVENING, "20310110T170000Z/20310110T190000Z"),
        (SUMMER_EVENING, "20310710T160000Z/20310710T180000Z"),
    ],
)
def test_google_link_gives_the_times_in_utc(client, make_event, starts_at, dates):
    make_event(slug="abend", starts_at=starts_at)

    google = _calendar_links(page(client.get("/events/abend")))["Zu Google Kalender hinzufügen"]

    assert _query(google)["dates"] == dates


def test_the_ics_link_serves_the_public_event_file(client, make_event):
    make_event(slug="elternabend", title="Elternabend", starts_at=WINTER_EVENING)
    ics = _calendar_links(page(client.get("/events/elternabend")))[
        "ICS-Datei herunterladen (Apple, Outlook, Thunderbird)"
    ]

    response = client.get(ics)

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    [entry] = Calendar.from_ical(response.data).walk("VEVENT")
    assert str(entry["SUMMARY"]) == "Elternabend"
    assert entry.decoded("DTSTART") == WINTER_EVENING


def test_calendar_links_follow_the_readers_language(client, make_event):
    event = make_event(slug="abend")
    event.translations["de"].title = "Elternabend"
    event.translations["en"].title = "Parents' evening"
    db.session.commit()

    english = _calendar_links(page(client.get("/events/abend?lang=en")))
    german = _calendar_links(page(client.get("/events/abend?lang=de")))

    assert _query(english["Add to Google Calendar"])["text"] == "Parents' evening"
    assert _query(english["Add to Outlook.com"])["subject"] == "Parents' evening"
    assert _query(german["Zu Google Kalender hinzufügen"])["text"] == "Elternabend"
    assert _query(german["Zu Outlook.com hinzufügen"])["subject"] == "Elternabend"


def test_cancelled_and_past_events_offer_no_calendar_links(client, make_event):
    cancelled = make_event(slug="abgesagt")
    cancelled.status = EventStatus.CANCELLED
    db.session.commit()
    make_event(slug="vorbei", starts_at=utcnow().replace(microsecond=0) - timedelta(days=3))

    for slug in ("abgesagt", "vorbei"):
        html = page(client.get(f"/events/{slug}"))
        assert not html.all("section", class_="add-to-calendar"), slug


def test_public_pages_and_links_never_carry_the_join_link(client, make_event, make_org):
    host = make_org(slug="brueckenwerk")
    make_event(slug="online", hosts=[host], topics=["education"], online_url=JOIN_LINK)

    html = page(client.get("/events/online?lang=en"))
    for href in _calendar_links(html).values():
        assert "secret-room" not in unquote(href)
    paths = [
        "/events/online",
        "/events/online?lang=en",
        "/events/online/calendar.ics",
        "/",
        "/?topic=education&lang=en",
        "/organisations/brueckenwerk",
        "/calendar.ics",
        "/calendar.ics?lang=en",
        "/topics/education/calendar.ics",
        "/organisations/brueckenwerk/calendar.ics",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        assert "secret-room" not in body and "meet.example" not in body, path


# -- the list and organisation pages: subscribe -------------------------------------------


def test_list_page_subscribes_to_the_feed_with_its_filters_and_language(client, make_event):
    make_event(languages=["de", "ar"], online_url=JOIN_LINK)

    html = page(client.get("/?language=ar&format=online&lang=en"))

    webcal, address = _subscribe_box(html)
    assert webcal.startswith("webcal://outreach.test/calendar.ics?")
    assert _query(webcal) == {"language": "ar", "format": "online", "lang": "en"}
    assert address.attrs["value"] == "http://outreach.test" + webcal.removeprefix(
        "webcal://outreach.test"
    )
    assert "readonly" in address.attrs
    assert html.one("label", for_=address.attrs["id"]).text == "Or copy this address"
    response = client.get(address.attrs["value"].removeprefix("http://outreach.test"))
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"


def test_unfiltered_list_subscribes_to_all_events_in_the_readers_language(client):
    webcal, address = _subscribe_box(page(client.get("/")))

    assert webcal == "webcal://outreach.test/calendar.ics?lang=de"
    assert address.attrs["value"] == "http://outreach.test/calendar.ics?lang=de"


def test_a_topic_chosen_alone_subscribes_to_that_topics_feed(client, make_event):
    make_event(topics=["education"])

    webcal, _ = _subscribe_box(page(client.get("/?topic=education&lang=en")))
    combined, _ = _subscribe_box(page(client.get("/?topic=education&format=online")))
    unknown, _ = _subscribe_box(page(client.get("/?topic=nothing-like-this")))

    assert webcal == "webcal://outreach.test/topics/education/calendar.ics?lang=en"
    assert combined.startswith("webcal://outreach.test/calendar.ics?")
    assert _query(combined) == {"topic": "education", "format": "online", "lang": "de"}
    assert unknown.startswith("webcal://outreach.test/calendar.ics?")
    assert _query(unknown) == {"topic": "nothing-like-this", "lang": "de"}


def test_a_host_chosen_alone_subscribes_to_that_organisations_feed(client, make_event, make_org):
    make_event(hosts=[make_org(slug="sahel-forum")])

    webcal, _ = _subscribe_box(page(client.get("/?host=sahel-forum")))

    assert webcal == "webcal://outreach.test/organisations/sahel-forum/calendar.ics?lang=de"


def test_past_events_offer_no_subscription(client):
    assert not page(client.get("/events/past")).all("section", class_="subscribe")


def test_feed_addresses_use_the_configured_public_address(app, client):
    app.config["BASE_URL"] = "https://events.example.org/"

    webcal, address = _subscribe_box(page(client.get("/", base_url="http://10.0.0.7:8000")))

    assert webcal == "webcal://events.example.org/calendar.ics?lang=de"
    assert address.attrs["value"] == "https://events.example.org/calendar.ics?lang=de"


def test_organisation_page_subscribes_to_its_feed(client, make_event, make_org):
    org = make_org(slug="brueckenwerk", name="Brückenwerk e.V.")
    make_event(hosts=[org])

    html = page(client.get("/organisations/brueckenwerk?lang=en"))

    webcal, address = _subscribe_box(html)
    assert webcal == "webcal://outreach.test/organisations/brueckenwerk/calendar.ics?lang=en"
    assert address.attrs["value"] == (
        "http://outreach.test/organisations/brueckenwerk/calendar.ics?lang=en"
    )
    assert html.one("section", class_="subscribe").one("h2").text == (
        "Subscribe to the events of Brückenwerk e.V."
    )
    assert client.get(address.attrs["value"]).status_code == 200


# -- the manage page: the person's own calendar file -------------------------------------


def _personal_calendar(client, token: str):
    response = client.get(f"/r/{token}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["METHOD"]) == "PUBLISH"
    [entry] = calendar.walk("VEVENT")
    return response.get_data(as_text=True), entry


def test_manage_page_offers_the_download_with_a_hint(client, make_event, make_registration):
    outcome = make_registration(make_event())

    html = page(client.get(f"/r/{outcome.token}?lang=en"))

    link = html.one("a", href=f"/r/{outcome.token}/calendar.ics")
    assert link.text == "Add to my calendar (.ics)"
    hint = html.by_id(link.attrs["aria-describedby"])
    assert hint.text == "If the event changes, we send you the update by email."


def test_a_confirmed_persons_download_carries_the_join_link(client, make_event, make_registration):
    event = make_event(title="Diaspora-Dialog", online_url=JOIN_LINK, starts_at=WINTER_EVENING)
    outcome = make_registration(event)
    assert outcome.registration.status is RegistrationStatus.CONFIRMED

    _body, entry = _personal_calendar(client, outcome.token)

    assert JOIN_LINK in str(entry["DESCRIPTION"])
    assert str(entry["CONFERENCE"]) == JOIN_LINK
    assert str(entry["SUMMARY"]) == "Diaspora-Dialog"
    assert str(entry["STATUS"]) == "CONFIRMED"
    assert entry.decoded("DTSTART") == WINTER_EVENING
    assert entry["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert str(entry["UID"]) == f"event-{event.uid}@outreach.test"


def test_a_waitlisted_persons_download_has_no_join_link(client, make_event, make_registration):
    event = make_event(capacity=1, online_url=JOIN_LINK)
    make_registration(event)
    waiting = make_registration(event)
    assert waiting.registration.status is RegistrationStatus.WAITLISTED

    body, entry = _personal_calendar(client, waiting.token)

    assert "secret-room" not in body
    assert "CONFERENCE" not in entry


def test_an_in_person_events_download_has_no_join_link_to_give(
    client, make_event, make_registration
):
    outcome = make_registration(make_event(venue_name="Kulturhaus", venue_city="Köln"))

    _body, entry = _personal_calendar(client, outcome.token)

    assert "Kulturhaus" in str(entry["LOCATION"])
    assert "CONFERENCE" not in entry


def test_a_cancelled_registrations_download_is_marked_cancelled(
    client, make_event, make_registration
):
    outcome = make_registration(make_event(online_url=JOIN_LINK))
    client.post(f"/r/{outcome.token}/cancel")

    body, entry = _personal_calendar(client, outcome.token)

    assert str(entry["STATUS"]) == "CANCELLED"
    assert "secret-room" not in body
