"""Every kind of calendar output, read back by icalendar, vobject and ical.js.

Kinds: the invite (METHOD:REQUEST), the update after a reschedule, the
cancellation (METHOD:CANCEL), the personal copy from the manage page, the
public file of one event, and the feeds (all events, per organisation, per
topic) in German and English. All three parsers must accept each file and
agree with each other and with the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from outreach.calendar.invites import cancellation_for, invite_for, personal_calendar
from outreach.extensions import db
from outreach.models import Event, EventStatus, Registration, RegistrationStatus, utcnow
from outreach.services.scheduling import cancel_event, reschedule
from tests.calendar.parsers import PARSERS

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")

JOIN_LINK = "https://meet.example.org/j/secret-room-4711?pwd=s3cret&lang=de"
JOIN_SECRET = "secret-room-4711"

LEAD_HOST = "Ukrainisch-Deutscher Verein Köln, e.V.; Sitz: Ehrenfeld"
TEXTS = {
    "de": {
        "title": "Grüße aus Köln: Äpfel, Öl; Übermut – süß & scharf",
        "summary": "Kurz gesagt: Straße, Maß; ÄÖÜ äöü ß",
        "description": "Erste Zeile\nZweite Zeile, mit Komma; und Semikolon\\Backslash",
    },
    "en": {
        "title": "Вечір української культури, пісні; танці — أمسية ثقافية، موسيقى; شعر",
        "summary": "Ukrainian: Їжа, ґанок; Arabic: مرحبا بكم, أهلا",
        "description": "Line one\nрядок два; سطر ثلاثة, end\n\nlast",
    },
}
VENUE = {
    "venue_name": "Haus der Kulturen, Saal 2; EG",
    "venue_address": "Venloer Str. 1",
    "venue_city": "Köln",
}


def local(year: int, month: int, day: int, hour: int, zone: ZoneInfo) -> datetime:
    return datetime(year, month, day, hour, tzinfo=zone).astimezone(UTC)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def set_texts(event: Event) -> None:
    for locale, texts in TEXTS.items():
        translation = event.translations[locale]
        translation.title = texts["title"]
        translation.summary = texts["summary"]
        translation.description = texts["description"]
    db.session.commit()


@dataclass
class World:
    year: int
    winter: Event  # 18:00 in Berlin in January: hybrid, two hosts, room for two
    summer: Event  # 18:00 in Berlin in July
    new_york: Event  # 18:00 in New York in February
    kolkata: Event  # 18:00 in Kolkata (+05:30, no DST)
    draft: Event
    submitted: Event
    confirmed_de: Registration
    confirmed_en: Registration
    waitlisted: Registration


@pytest.fixture
def world(make_event, make_org, make_registration, next_year) -> World:
    year = next_year
    lead = make_org(slug="verein", name=LEAD_HOST)
    partner = make_org(slug="partner", name="Partnerorganisation")

    def event(slug: str, starts_at: datetime, zone: str, **values) -> Event:
        values.setdefault("hosts", [lead, partner])
        values.setdefault("topics", ["kultur"])
        created = make_event(
            slug=slug,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=2),
            timezone=zone,
            **{**VENUE, **values},
        )
        set_texts(created)
        return created

    winter = event(
        "winter",
        local(year, 1, 14, 18, BERLIN),
        "Europe/Berlin",
        online_url=JOIN_LINK,
        capacity=2,
    )
    summer = event("summer", local(year, 7, 14, 18, BERLIN), "Europe/Berlin")
    new_york = event("new-york", local(year, 2, 10, 18, NEW_YORK), "America/New_York")
    kolkata = event("kolkata", local(year, 5, 5, 18, KOLKATA), "Asia/Kolkata")
    draft = event("draft", local(year, 3, 3, 18, BERLIN), "Europe/Berlin", status=EventStatus.DRAFT)
    submitted = event(
        "submitted", local(year, 3, 4, 18, BERLIN), "Europe/Berlin", status=EventStatus.SUBMITTED
    )
    confirmed_de = make_registration(winter, name="Jürgen Groß", language="de").registration
    confirmed_en = make_registration(winter, name="Олена Коваль", language="en").registration
    waitlisted = make_registration(winter, name="مريم الحسن", language="en").registration
    assert confirmed_de.status is RegistrationStatus.CONFIRMED
    assert confirmed_en.status is RegistrationStatus.CONFIRMED
    assert waitlisted.status is RegistrationStatus.WAITLISTED
    return World(
        year,
        winter,
        summer,
        new_york,
        kolkata,
        draft,
        submitted,
        confirmed_de,
        confirmed_en,
        waitlisted,
    )


PUBLIC_PATHS = {
    "event_file": "/events/winter/calendar.ics",
    "feed": "/calendar.ics",
    "organisation_feed": "/organisations/verein/calendar.ics",
    "topic_feed": "/topics/kultur/calendar.ics",
}


def public_outputs(client) -> dict[str, bytes]:
    """The public files and feeds, in German and in English."""
    outputs = {}
    for name, path in PUBLIC_PATHS.items():
        for lang in ("de", "en"):
            response = client.get(f"{path}?lang={lang}")
            assert response.status_code == 200, path
            assert response.mimetype == "text/calendar"
            outputs[f"{name}_{lang}"] = response.data
    return outputs


def private_outputs(world: World) -> dict[str, bytes]:
    """What registrants get: invites, personal copies, and the waitlisted person's files."""
    return {
        "invite_de": invite_for(world.confirmed_de),
        "invite_en": invite_for(world.confirmed_en),
        "personal_de": personal_calendar(world.confirmed_de),
        "waitlisted_personal": personal_calendar(world.waitlisted),
        "waitlisted_invite": invite_for(world.waitlisted),
        "waitlisted_cancellation": cancellation_for(world.waitlisted),
    }


def all_outputs(world: World, client) -> dict[str, bytes]:
    """Every kind, including the update after a reschedule and the cancellation."""
    outputs = {**private_outputs(world), **public_outputs(client)}
    reschedule(
        world.winter,
        starts_at=local(world.year, 1, 21, 19, BERLIN),
        ends_at=local(world.year, 1, 21, 21, BERLIN),
    )
    outputs["update_de"] = invite_for(world.confirmed_de)
    cancel_event(world.winter, "Der Saal ist nicht verfügbar.")
    outputs["cancel_de"] = cancellation_for(world.confirmed_de)
    outputs["cancel_en"] = cancellation_for(world.confirmed_en)
    outputs["personal_after_cancel"] = personal_calendar(world.confirmed_de)
    outputs["feed_after_cancel"] = client.get("/calendar.ics?lang=de").data
    return outputs


EXPECTED_METHOD = {
    "invite": "REQUEST",
    "update": "REQUEST",
    "cancel": "CANCEL",
    "waitlisted_invite": "REQUEST",
    "waitlisted_cancellation": "CANCEL",
}


def expected_method(name: str) -> str:
    for prefix, method in EXPECTED_METHOD.items():
        if name.startswith(prefix):
            return method
    return "PUBLISH"


def unfolded(data: bytes) -> str:
    return data.replace(b"\r\n ", b"").replace(b"\r\n\t", b"").decode("utf-8")


# -- all parsers accept everything and agree ----------------------------------


def test_every_kind_of_output_is_accepted_by_icalendar_vobject_and_icaljs(
    world, client, parse_three
):
    outputs = all_outputs(world, client)
    parsed = parse_three(outputs)

    for name, by_parser in parsed.items():
        assert set(by_parser) == set(PARSERS)
        for parser, calendar in by_parser.items():
            assert calendar.method == expected_method(name), (name, parser)
            assert calendar.events, (name, parser)
        reference = by_parser["icalendar"]
        for parser in ("vobject", "ical.js"):
            other = by_parser[parser]
            assert [e.uid for e in other.events] == [e.uid for e in reference.events]
            for mine, theirs in zip(other.events, reference.events, strict=True):
                # Every field the three read must be the same, times as UTC instants.
                assert mine.__dict__ | {"attendees": None, "organizer": None} == (
                    theirs.__dict__ | {"attendees": None, "organizer": None}
                ), (name, parser)
                assert mine.organizer == theirs.organizer, (name, parser)
                assert mine.attendees == theirs.attendees, (name, parser)


def test_uid_stays_while_sequence_grows_from_invite_to_update_to_cancel(world, client, parse_three):
    wanted = {"invite_de", "update_de", "cancel_de", "feed_de", "feed_after_cancel"}
    parsed = parse_three(
        {name: data for name, data in all_outputs(world, client).items() if name in wanted}
    )
    invite, update, cancel = (
        {parser: parsed[name][parser].event() for parser in PARSERS}
        for name in ("invite_de", "update_de", "cancel_de")
    )
    for parser in PARSERS:
        assert invite[parser].uid == update[parser].uid == cancel[parser].uid
        assert invite[parser].uid == f"event-{world.winter.uid}@outreach.test"
        assert invite[parser].sequence < update[parser].sequence < cancel[parser].sequence
        assert (invite[parser].sequence, cancel[parser].sequence) == (0, 2)
        assert update[parser].start == utc(world.year, 1, 21, 18)
        # The feeds carry the same UID, so a subscribed calendar is the same entry.
        assert invite[parser].uid in parsed["feed_de"][parser].uids
        assert invite[parser].uid in parsed["feed_after_cancel"][parser].uids


# -- time zones -------------------------------------------------------------


def test_every_tzid_used_has_a_vtimezone_with_the_parts_it_needs(world, client, parse_three):
    parsed = parse_three(all_outputs(world, client))
    for name, by_parser in parsed.items():
        for parser, calendar in by_parser.items():
            used = {event.start_tzid for event in calendar.events}
            assert None not in used, (name, parser, "a time without TZID")
            assert used == set(calendar.timezones), (name, parser)
            for tzid in used:
                parts = calendar.timezones[tzid]
                if tzid in ("Europe/Berlin", "America/New_York"):
                    assert {"STANDARD", "DAYLIGHT"} <= set(parts), (name, parser, tzid)
                if tzid == "Asia/Kolkata":
                    assert parts == ["STANDARD"], (name, parser)
    feed_zones = parsed["feed_de"]["icalendar"].timezones
    assert set(feed_zones) == {"Europe/Berlin", "America/New_York", "Asia/Kolkata"}


def test_18_00_in_berlin_is_17z_in_winter_and_16z_in_summer_for_every_parser(
    world, client, parse_three
):
    year = world.year
    outputs = {"invite": invite_for(world.confirmed_de), **public_outputs(client)}
    parsed = parse_three(outputs)
    winter_uid = f"event-{world.winter.uid}@outreach.test"
    summer_uid = f"event-{world.summer.uid}@outreach.test"
    for parser in PARSERS:
        invite = parsed["invite"][parser].event()
        assert (invite.start, invite.end) == (utc(year, 1, 14, 17), utc(year, 1, 14, 19))
        for name in ("feed_de", "feed_en", "organisation_feed_de", "topic_feed_en"):
            feed = parsed[name][parser]
            assert feed.event(winter_uid).start == utc(year, 1, 14, 17), (name, parser)
            assert feed.event(summer_uid).start == utc(year, 7, 14, 16), (name, parser)
            assert feed.event(summer_uid).end == utc(year, 7, 14, 18), (name, parser)


def test_events_in_new_york_and_kolkata_land_at_the_right_instant(world, client, parse_three):
    year = world.year
    parsed = parse_three({"feed": client.get("/calendar.ics").data})
    new_york = f"event-{world.new_york.uid}@outreach.test"
    kolkata = f"event-{world.kolkata.uid}@outreach.test"
    for parser in PARSERS:
        feed = parsed["feed"][parser]
        assert feed.event(new_york).start == utc(year, 2, 10, 23), parser  # EST, -05:00
        assert feed.event(new_york).start_tzid == "America/New_York"
        assert feed.event(kolkata).start == utc(year, 5, 5, 12, 30), parser  # IST, +05:30
        assert feed.event(kolkata).end == utc(year, 5, 5, 14, 30), parser
        assert feed.event(kolkata).start_tzid == "Asia/Kolkata"


# -- text ---------------------------------------------------------------------


def test_arabic_ukrainian_and_german_text_with_separators_survives_every_parser(
    world, client, parse_three
):
    parsed = parse_three(
        {
            "invite_de": invite_for(world.confirmed_de),
            "invite_en": invite_for(world.confirmed_en),
            **public_outputs(client),
        }
    )
    uid = f"event-{world.winter.uid}@outreach.test"
    for name, by_parser in parsed.items():
        locale = name.rsplit("_", 1)[1]
        texts = TEXTS[locale]
        for parser, calendar in by_parser.items():
            event = calendar.event(uid)
            assert event.summary == texts["title"], (name, parser)
            assert event.description.startswith(
                f"{texts['summary']}\n\n{texts['description']}\n\n"
            ), (name, parser)
            assert event.description.endswith("http://outreach.test/events/winter")
            assert event.location == "Haus der Kulturen, Saal 2; EG, Venloer Str. 1, Köln"
            assert event.organizer["params"]["cn"] == LEAD_HOST, (name, parser)


def test_lines_are_at_most_75_octets_and_end_with_crlf(world, client):
    for name, data in all_outputs(world, client).items():
        assert data.endswith(b"\r\n"), name
        assert data.count(b"\n") == data.count(b"\r\n"), f"{name}: a bare LF"
        assert b"\r" not in data.replace(b"\r\n", b""), f"{name}: a bare CR"
        for line in data.split(b"\r\n")[:-1]:
            assert len(line) <= 75, (name, line)
        # Folding never splits a UTF-8 sequence: each physical line decodes alone.
        for line in data.split(b"\r\n"):
            line.decode("utf-8")


# -- what is private ------------------------------------------------------------


def test_join_link_reaches_only_confirmed_registrants(world, client, parse_three):
    outputs = {**private_outputs(world), **public_outputs(client)}
    with_link = {"invite_de", "invite_en", "personal_de"}
    parsed = parse_three(outputs)
    for name, data in outputs.items():
        text = unfolded(data)
        if name in with_link:
            assert JOIN_LINK in text, name
        else:
            assert JOIN_SECRET not in text, name
            assert "meet.example.org" not in text, name
        for parser, calendar in parsed[name].items():
            descriptions = "".join(event.description or "" for event in calendar.events)
            assert (JOIN_LINK in descriptions) is (name in with_link), (name, parser)


def test_cancellation_carries_no_join_link(world, client):
    cancel_event(world.winter, "")
    for registration in (world.confirmed_de, world.confirmed_en):
        assert JOIN_SECRET not in unfolded(cancellation_for(registration))
    assert JOIN_SECRET not in unfolded(client.get("/calendar.ics").data)


def test_public_files_name_the_organizer_but_no_attendee(world, client, parse_three):
    parsed = parse_three(public_outputs(client))
    for name, by_parser in parsed.items():
        for parser, calendar in by_parser.items():
            for event in calendar.events:
                assert event.attendees == [], (name, parser)
                assert event.organizer["value"] == "mailto:outreach@localhost"
                assert event.organizer["params"]["cn"] == LEAD_HOST, (name, parser)


def test_request_names_the_attendee_accepted_without_rsvp_and_the_lead_host_as_organizer(
    world, parse_three
):
    parsed = parse_three({"invite": invite_for(world.confirmed_en)})
    for parser, calendar in parsed["invite"].items():
        event = calendar.event()
        assert event.organizer["params"]["cn"] == LEAD_HOST, parser
        [attendee] = event.attendees
        assert attendee["value"] == f"mailto:{world.confirmed_en.email}"
        assert attendee["params"]["partstat"] == "ACCEPTED", parser
        assert attendee["params"]["rsvp"] == "FALSE", parser
        assert attendee["params"]["cn"] == "Олена Коваль", parser


# -- cancellations and drafts -----------------------------------------------------


def test_cancelled_event_is_cancelled_in_the_cancel_the_personal_copy_and_the_feed(
    world, client, parse_three
):
    before = world.winter.sequence
    cancel_event(world.winter, "Krank")
    assert world.winter.sequence == before + 1
    parsed = parse_three(
        {
            "cancel": cancellation_for(world.confirmed_de),
            "personal": personal_calendar(world.confirmed_de),
            "event_file": client.get("/events/winter/calendar.ics").data,
            "feed": client.get("/calendar.ics").data,
        }
    )
    uid = f"event-{world.winter.uid}@outreach.test"
    for name, by_parser in parsed.items():
        for parser, calendar in by_parser.items():
            event = calendar.event(uid)
            assert event.status == "CANCELLED", (name, parser)
            assert event.sequence == before + 1, (name, parser)
    for parser in PARSERS:
        assert parsed["cancel"][parser].method == "CANCEL"
        others = parsed["feed"][parser].events
        assert {e.status for e in others if e.uid != uid} == {"CONFIRMED"}


def test_cancelled_events_stay_in_feeds_within_keep_days_then_drop_out(
    app, world, client, parse_three
):
    keep_days = app.config["CALENDAR_KEEP_DAYS"]
    cancel_event(world.winter, "", now=utcnow() - timedelta(days=keep_days - 1))
    cancel_event(world.summer, "", now=utcnow() - timedelta(days=keep_days + 1))
    parsed = parse_three(
        {
            "feed": client.get("/calendar.ics").data,
            "organisation_feed": client.get("/organisations/verein/calendar.ics").data,
            "topic_feed": client.get("/topics/kultur/calendar.ics").data,
        }
    )
    kept = f"event-{world.winter.uid}@outreach.test"
    gone = f"event-{world.summer.uid}@outreach.test"
    for name, by_parser in parsed.items():
        for parser, calendar in by_parser.items():
            assert calendar.event(kept).status == "CANCELLED", (name, parser)
            assert gone not in calendar.uids, (name, parser)
    # The public file of a cancelled event still answers, as CANCELLED.
    assert b"STATUS:CANCELLED" in client.get("/events/summer/calendar.ics").data


def test_drafts_and_submitted_events_never_appear(world, client, parse_three):
    hidden = {
        f"event-{world.draft.uid}@outreach.test",
        f"event-{world.submitted.uid}@outreach.test",
    }
    outputs = public_outputs(client)
    parsed = parse_three(outputs)
    for name, by_parser in parsed.items():
        for parser, calendar in by_parser.items():
            assert not hidden & calendar.uids, (name, parser)
    for name, data in outputs.items():
        assert b"/events/draft" not in data.replace(b"\r\n ", b""), name
    assert client.get("/events/draft/calendar.ics").status_code == 404
    assert client.get("/events/submitted/calendar.ics").status_code == 404


def test_feeds_speak_the_requested_language(world, client, parse_three):
    parsed = parse_three(public_outputs(client))
    uid = f"event-{world.summer.uid}@outreach.test"
    for name, by_parser in parsed.items():
        if name.startswith("event_file"):
            continue
        locale = name.rsplit("_", 1)[1]
        for parser, calendar in by_parser.items():
            assert calendar.event(uid).summary == TEXTS[locale]["title"], (name, parser)
            assert len(calendar.events) == 4, (name, parser)
