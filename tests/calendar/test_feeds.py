"""Feeds are cheap to build, answer conditional requests, and are deterministic."""

from __future__ import annotations

from datetime import timedelta

from outreach.calendar.views import FEED_CACHE
from outreach.extensions import db
from outreach.models import utcnow
from outreach.services.scheduling import reschedule

# selectinload fetches translations, hosts and topics in batches of 500 ids.
SELECTIN_BATCH = 500
SELECTIN_RELATIONS = 3


def test_feed_of_5000_events_takes_a_bounded_number_of_queries_and_answers_304(
    client, make_org, bulk_events, count_queries
):
    host = make_org(slug="gastgeber")
    bulk_events(50, host, prefix="first")
    with count_queries() as small:
        response = client.get("/calendar.ics")
    assert response.status_code == 200
    assert response.data.count(b"BEGIN:VEVENT") == 50

    bulk_events(4950, host, prefix="more")
    FEED_CACHE.clear()
    with count_queries() as large:
        response = client.get("/calendar.ics")
    assert response.status_code == 200
    assert response.data.count(b"BEGIN:VEVENT") == 5000

    # Only the selectinload batches grow with the feed, never one query per event.
    extra_batches = SELECTIN_RELATIONS * (5000 // SELECTIN_BATCH - 1)
    assert small[0] <= 10
    assert large[0] - small[0] <= extra_batches
    assert large[0] <= 50

    etag = response.headers["ETag"]
    with count_queries() as conditional:
        again = client.get("/calendar.ics", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    # A subscribed calendar polling an unchanged feed costs one aggregate query.
    assert conditional[0] <= 2


def test_feed_etag_is_strong_and_cache_control_is_set(client, make_event):
    make_event()
    response = client.get("/calendar.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    etag = response.headers["ETag"]
    assert etag.startswith('"')
    assert not etag.startswith("W/")
    assert response.cache_control.public
    assert response.cache_control.max_age and response.cache_control.max_age > 0


def test_same_data_gives_byte_identical_feeds_even_when_built_again(client, make_event):
    for days in (3, 10, 40):
        make_event(starts_at=utcnow().replace(microsecond=0) + timedelta(days=days))
    first = client.get("/calendar.ics?lang=en")
    FEED_CACHE.clear()
    second = client.get("/calendar.ics?lang=en")
    assert first.data == second.data
    assert first.headers["ETag"] == second.headers["ETag"]


def test_feed_etag_changes_when_an_event_is_rescheduled(client, make_event):
    event = make_event()
    before = client.get("/calendar.ics")
    reschedule(
        event,
        starts_at=event.starts_at + timedelta(hours=1),
        ends_at=event.ends_at + timedelta(hours=1),
    )
    after = client.get("/calendar.ics", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    assert b"SEQUENCE:1" in after.data


def test_feed_etag_changes_when_an_event_joins_the_feed(client, make_event):
    make_event()
    before = client.get("/calendar.ics")
    make_event()
    after = client.get("/calendar.ics", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.data.count(b"BEGIN:VEVENT") == 2


def test_feeds_in_different_languages_have_different_etags(client, make_event):
    event = make_event(title="Fest")
    event.translations["en"].title = "Party"
    db.session.commit()
    german = client.get("/calendar.ics?lang=de")
    english = client.get("/calendar.ics?lang=en")
    assert b"SUMMARY:Fest" in german.data
    assert b"SUMMARY:Party" in english.data
    assert german.headers["ETag"] != english.headers["ETag"]
    # Each language answers its own conditional request.
    assert (
        client.get("/calendar.ics?lang=en", headers={"If-None-Match": english.headers["ETag"]})
    ).status_code == 304


def test_event_file_answers_conditional_requests(client, make_event):
    event = make_event()
    response = client.get(f"/events/{event.slug}/calendar.ics")
    assert response.status_code == 200
    assert not response.headers["ETag"].startswith("W/")
    assert response.cache_control.max_age
    again = client.get(
        f"/events/{event.slug}/calendar.ics",
        headers={"If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304
    assert again.data == b""


def test_unknown_organisation_or_topic_feed_is_404(client):
    assert client.get("/organisations/nobody/calendar.ics").status_code == 404
    assert client.get("/topics/nothing/calendar.ics").status_code == 404
