"""'Add to calendar' links for Google Calendar and Outlook.com, and webcal:// addresses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest

from outreach.calendar.components import CalendarSettings
from outreach.calendar.links import google_calendar_url, outlook_calendar_url, webcal_url
from outreach.models import Event, EventStatus, EventTranslation

BERLIN = ZoneInfo("Europe/Berlin")
SETTINGS = CalendarSettings(base_url="https://outreach.example", organizer_email="mail@example")
JOIN_LINK = "https://meet.example.org/j/secret-room-4711?pwd=s3cret"
TITLE = {
    "de": "Grüße & Gespräche; Tee #1 – Köln",
    "en": "Вечір & зустріч; #1 — أمسية ثقافية",
}


def event_at(local_start: datetime, *, slug: str = "fest-2027") -> Event:
    """An event as the link builders see it (a plain object; nothing is stored)."""
    event = Event(
        slug=slug,
        status=EventStatus.PUBLISHED,
        starts_at=local_start.astimezone(UTC),
        ends_at=(local_start + timedelta(hours=2)).astimezone(UTC),
        timezone=str(local_start.tzinfo),
        venue_name="Bürgerhaus, Saal 1",
        venue_city="Köln",
        online_url=JOIN_LINK,
    )
    for locale, title in TITLE.items():
        event.translations[locale] = EventTranslation(
            locale=locale,
            title=title,
            summary=f"Kurz & gut; {locale}",
            description="Zeile 1\nZeile 2",
        )
    return event


def query_of(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    assert parts.fragment == "", "a # in the text must not end the query"
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=True)
    assert all(len(values) == 1 for values in query.values()), query
    return {name: values[0] for name, values in query.items()}


@pytest.mark.parametrize(
    ("month", "utc_hour"),
    [(1, 17), (7, 16)],
    ids=["winter", "summer"],
)
def test_google_link_gives_the_utc_times_of_18_00_in_berlin(month, utc_hour):
    event = event_at(datetime(2027, month, 14, 18, tzinfo=BERLIN))
    url = google_calendar_url(event, "de", SETTINGS)
    assert url.startswith("https://calendar.google.com/calendar/render?")
    query = query_of(url)
    assert query["action"] == "TEMPLATE"
    assert (
        query["dates"] == f"2027{month:02}14T{utc_hour}0000Z/2027{month:02}14T{utc_hour + 2}0000Z"
    )
    assert query["ctz"] == "Europe/Berlin"


@pytest.mark.parametrize(
    ("month", "utc_hour"),
    [(1, 17), (7, 16)],
    ids=["winter", "summer"],
)
def test_outlook_link_gives_the_utc_times_of_18_00_in_berlin(month, utc_hour):
    event = event_at(datetime(2027, month, 14, 18, tzinfo=BERLIN))
    url = outlook_calendar_url(event, "de", SETTINGS)
    assert url.startswith("https://outlook.live.com/calendar/0/deeplink/compose?")
    query = query_of(url)
    assert query["startdt"] == f"2027-{month:02}-14T{utc_hour}:00:00Z"
    assert query["enddt"] == f"2027-{month:02}-14T{utc_hour + 2}:00:00Z"
    assert query["rru"] == "addevent"
    assert query["path"] == "/calendar/action/compose"


def test_links_for_kolkata_and_new_york_convert_to_utc():
    kolkata = event_at(datetime(2027, 5, 5, 18, tzinfo=ZoneInfo("Asia/Kolkata")))
    new_york = event_at(datetime(2027, 2, 10, 18, tzinfo=ZoneInfo("America/New_York")))
    assert query_of(google_calendar_url(kolkata, "en", SETTINGS))["dates"] == (
        "20270505T123000Z/20270505T143000Z"
    )
    assert query_of(outlook_calendar_url(new_york, "en", SETTINGS))["startdt"] == (
        "2027-02-10T23:00:00Z"
    )


@pytest.mark.parametrize("build", [google_calendar_url, outlook_calendar_url])
@pytest.mark.parametrize("locale", ["de", "en"])
def test_links_encode_non_latin_text_and_url_delimiters(build, locale):
    event = event_at(datetime(2027, 1, 14, 18, tzinfo=BERLIN))
    url = build(event, locale, SETTINGS)
    assert url.isascii(), "every non-ASCII character is percent-encoded"
    assert " " not in url
    query_text = urlsplit(url).query
    # & ; # in the text are encoded, so they neither split the query nor end it.
    assert query_text.count("&") == len(query_of(url)) - 1
    assert ";" not in query_text and "#" not in url
    query = query_of(url)
    title = query.get("text") or query.get("subject")
    assert title == TITLE[locale]
    details = query.get("details") or query.get("body")
    assert details.startswith(f"Kurz & gut; {locale}\n\nZeile 1\nZeile 2")
    assert details.endswith("https://outreach.example/events/fest-2027")
    assert query["location"] == "Bürgerhaus, Saal 1, Köln"


@pytest.mark.parametrize("build", [google_calendar_url, outlook_calendar_url])
def test_links_never_carry_the_join_link(build):
    event = event_at(datetime(2027, 1, 14, 18, tzinfo=BERLIN))
    url = build(event, "de", SETTINGS)
    for text in (url, unquote(url)):
        assert "secret-room-4711" not in text
        assert "meet.example.org" not in text


def test_online_only_event_links_say_online_but_not_where():
    event = event_at(datetime(2027, 1, 14, 18, tzinfo=BERLIN))
    event.venue_name = event.venue_city = None
    for build in (google_calendar_url, outlook_calendar_url):
        url = build(event, "de", SETTINGS)
        assert query_of(url)["location"] == "Online"
        assert "secret-room-4711" not in unquote(url)


def test_webcal_url_swaps_the_scheme_of_a_feed_address():
    assert webcal_url("https://outreach.example/calendar.ics") == (
        "webcal://outreach.example/calendar.ics"
    )
    assert webcal_url("http://127.0.0.1:5000/topics/kultur/calendar.ics?lang=en") == (
        "webcal://127.0.0.1:5000/topics/kultur/calendar.ics?lang=en"
    )
    assert webcal_url("webcal://outreach.example/calendar.ics") == (
        "webcal://outreach.example/calendar.ics"
    )


def test_calendars_get_the_markdown_description_as_plain_text():
    event = event_at(datetime(2027, 3, 14, 18, tzinfo=BERLIN))
    markdown = "Mit **Tee** und [Anmeldung](https://example.org/a)\n\n- eins\n- <b>zwei</b>"
    event.translations["de"].description = markdown

    details = query_of(google_calendar_url(event, "de", SETTINGS))["details"]

    assert "Mit Tee und Anmeldung (https://example.org/a)" in details
    assert "- eins" in details and "- <b>zwei</b>" in details
    assert "**" not in details and "[Anmeldung]" not in details
