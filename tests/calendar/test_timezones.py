"""VTIMEZONE components: their rules, and the offsets three parsers derive from them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone

from outreach.calendar.timezones import transitions, vtimezone
from tests.calendar.parsers import PARSERS, parse_all, run_icaljs, tzinfo_from_vobject

FIRST_YEAR, LAST_YEAR = 2026, 2028

# Northern and southern DST, none, half- and quarter-hour offsets, a 30-minute
# DST (Lord Howe), negative DST in tzdata (Dublin, Casablanca's Ramadan), and
# zones whose changes follow no yearly rule (Casablanca, Gaza).
ZONES = (
    "Europe/Berlin",
    "Europe/London",
    "Europe/Dublin",
    "America/New_York",
    "America/Los_Angeles",
    "America/St_Johns",
    "America/Santiago",
    "America/Sao_Paulo",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "Asia/Tehran",
    "Asia/Jerusalem",
    "Asia/Gaza",
    "Africa/Cairo",
    "Africa/Casablanca",
)


def parts(component: Timezone, name: str) -> list:
    return [part for part in component.subcomponents if part.name == name]


def only(component: Timezone, name: str):
    [part] = parts(component, name)
    return part


def rule(part) -> dict[str, list]:
    return {key: list(value) for key, value in part["RRULE"].items()}


def test_berlin_changes_on_the_last_sunday_of_march_at_2_and_of_october_at_3():
    zone = vtimezone("Europe/Berlin", 2027, 2027)
    assert str(zone["TZID"]) == "Europe/Berlin"
    daylight = only(zone, "DAYLIGHT")
    standard = only(zone, "STANDARD")

    assert rule(daylight) == {"FREQ": ["YEARLY"], "BYMONTH": [3], "BYDAY": ["-1SU"]}
    assert daylight["DTSTART"].dt.time() == time(2, 0)
    assert (daylight["DTSTART"].dt.month, daylight["DTSTART"].dt.weekday()) == (3, 6)
    assert daylight["DTSTART"].dt.tzinfo is None  # local time, as RFC 5545 asks
    assert daylight["TZOFFSETFROM"].td == timedelta(hours=1)
    assert daylight["TZOFFSETTO"].td == timedelta(hours=2)
    assert str(daylight["TZNAME"]) == "CEST"

    assert rule(standard) == {"FREQ": ["YEARLY"], "BYMONTH": [10], "BYDAY": ["-1SU"]}
    assert standard["DTSTART"].dt.time() == time(3, 0)
    assert (standard["DTSTART"].dt.month, standard["DTSTART"].dt.weekday()) == (10, 6)
    assert standard["TZOFFSETFROM"].td == timedelta(hours=2)
    assert standard["TZOFFSETTO"].td == timedelta(hours=1)
    assert str(standard["TZNAME"]) == "CET"

    serialised = zone.to_ical()
    assert b"BYMONTH=3" in serialised and b"BYMONTH=10" in serialised
    assert b"UNTIL" not in serialised  # the rules go on


def test_a_zone_without_dst_has_one_standard_part():
    zone = vtimezone("Asia/Kolkata", 2027, 2027)
    assert [part.name for part in zone.subcomponents] == ["STANDARD"]
    standard = only(zone, "STANDARD")
    assert (
        standard["TZOFFSETFROM"].td == standard["TZOFFSETTO"].td == timedelta(hours=5, minutes=30)
    )
    assert str(standard["TZNAME"]) == "IST"
    assert "RRULE" not in standard and "RDATE" not in standard


def test_sydney_starts_daylight_time_in_october_and_ends_it_in_april():
    zone = vtimezone("Australia/Sydney", 2027, 2027)
    daylight = only(zone, "DAYLIGHT")
    standard = only(zone, "STANDARD")
    assert rule(daylight) == {"FREQ": ["YEARLY"], "BYMONTH": [10], "BYDAY": ["1SU"]}
    assert daylight["DTSTART"].dt.time() == time(2, 0)
    assert (daylight["TZOFFSETFROM"].td, daylight["TZOFFSETTO"].td) == (
        timedelta(hours=10),
        timedelta(hours=11),
    )
    assert rule(standard) == {"FREQ": ["YEARLY"], "BYMONTH": [4], "BYDAY": ["1SU"]}
    assert standard["DTSTART"].dt.time() == time(3, 0)
    assert (standard["TZOFFSETFROM"].td, standard["TZOFFSETTO"].td) == (
        timedelta(hours=11),
        timedelta(hours=10),
    )


def test_irish_summer_time_is_the_daylight_part_although_tzdata_calls_winter_dst():
    zone = vtimezone("Europe/Dublin", 2027, 2027)
    daylight = only(zone, "DAYLIGHT")
    assert str(daylight["TZNAME"]) == "IST"
    assert daylight["TZOFFSETTO"].td == timedelta(hours=1)
    assert only(zone, "STANDARD")["TZOFFSETTO"].td == timedelta(0)


def test_irregular_changes_are_listed_with_the_first_onset_among_the_rdates():
    zone = vtimezone("Africa/Casablanca", 2027, 2027)  # Ramadan moves every year
    for part in zone.subcomponents:
        assert "RRULE" not in part
        rdates = part["RDATE"] if isinstance(part["RDATE"], list) else [part["RDATE"]]
        onsets = [period.dt for rdate in rdates for period in rdate.dts]
        assert part["DTSTART"].dt == onsets[0]
        assert len(onsets) == 3  # one a year, 2026 to 2028


def test_transitions_are_found_to_the_minute():
    berlin = transitions("Europe/Berlin", 2027, 2027)
    assert [t.at for t in berlin] == [
        datetime(2027, 3, 28, 1, 0, tzinfo=UTC),
        datetime(2027, 10, 31, 1, 0, tzinfo=UTC),
    ]
    assert [t.is_daylight for t in berlin] == [True, False]
    assert transitions("Asia/Kolkata", 2026, 2028) == []


def test_vtimezone_returns_a_fresh_copy_each_time():
    first = vtimezone("Europe/Berlin", 2027, 2027)
    first.add("x-changed", "yes")
    assert "X-CHANGED" not in vtimezone("Europe/Berlin", 2027, 2027)


# -- offsets: our VTIMEZONE, read by three parsers, against zoneinfo ------------


def instants_to_check(tzid: str) -> list[datetime]:
    """Every 25 hours over the years (so every hour of the day comes up), and
    around each of the zone's changes: an hour, a minute and a second either side."""
    found = set()
    instant = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
    while instant < datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC):
        found.add(instant)
        instant += timedelta(hours=25)
    for change in transitions(tzid, FIRST_YEAR, LAST_YEAR):
        for seconds in (-3600, -60, -1, 0, 1, 60, 3600):
            found.add(change.at + timedelta(seconds=seconds))
    return sorted(found)


def calendar_of(*components) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Outreach tests//EN")
    calendar.add("version", "2.0")
    for component in components:
        calendar.add_component(component)
    return calendar.to_ical()


def is_ambiguous(local: datetime) -> bool:
    """A wall-clock time that happens twice (the hour repeated when clocks go back)."""
    return local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()


def test_offsets_from_our_vtimezones_match_zoneinfo_in_every_parser(tmp_path: Path):
    instants = {tzid: instants_to_check(tzid) for tzid in ZONES}
    (tmp_path / "instants.json").write_text(
        json.dumps({tzid: [int(i.timestamp()) for i in found] for tzid, found in instants.items()})
    )
    files = {}
    for tzid in ZONES:
        path = tmp_path / f"{tzid.replace('/', '_')}.ics"
        path.write_bytes(calendar_of(vtimezone(tzid, FIRST_YEAR, LAST_YEAR)))
        files[tzid] = path
    icaljs = run_icaljs(list(files.values()), instants=tmp_path / "instants.json")

    for (tzid, path), result in zip(files.items(), icaljs, strict=True):
        zone = ZoneInfo(tzid)
        from_icalendar = Calendar.from_ical(path.read_bytes()).walk("VTIMEZONE")[0]
        from_icalendar = from_icalendar.to_tz(lookup_tzid=False)
        from_vobject = tzinfo_from_vobject(path.read_bytes())
        wrong = {parser: [] for parser in (*PARSERS, "ical.js local time")}
        for instant, answer in zip(instants[tzid], result["offsets"][tzid], strict=True):
            local = instant.astimezone(zone)
            expected = local.utcoffset()
            if instant.astimezone(from_icalendar).utcoffset() != expected:
                wrong["icalendar"].append(instant)
            if instant.astimezone(from_vobject).utcoffset() != expected:
                wrong["vobject"].append(instant)
            if answer["offset"] != expected.total_seconds():
                wrong["ical.js"].append(instant)
            if not is_ambiguous(local) and answer["back"] != int(instant.timestamp()):
                wrong["ical.js local time"].append(instant)
        assert wrong == {parser: [] for parser in wrong}, tzid


def test_local_start_times_convert_like_zoneinfo_in_every_parser(tmp_path: Path):
    """Events every week at night, morning and evening, in zones with and without DST."""
    zones = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Africa/Casablanca")
    outputs, expected = {}, {}
    for tzid in zones:
        zone = ZoneInfo(tzid)
        events, starts = [], {}
        day = datetime(FIRST_YEAR, 1, 1)  # noqa: DTZ001  (a wall-clock date, zone added below)
        number = 0
        while day.year <= LAST_YEAR:
            for hour in (2, 9, 18):
                start = day.replace(hour=hour, minute=30, tzinfo=zone)
                if start.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != start.replace(
                    tzinfo=None
                ) or is_ambiguous(start):
                    continue  # a time that does not exist, or exists twice, that day
                number += 1
                event = Event()
                event.add("uid", f"{number}@{tzid}")
                event.add("dtstamp", datetime(2026, 1, 1, tzinfo=UTC))
                event.add("dtstart", start)
                event.add("dtend", start + timedelta(hours=1))
                events.append(event)
                starts[f"{number}@{tzid}"] = start.astimezone(UTC)
            day += timedelta(days=7)
        name = tzid.replace("/", "_")
        outputs[name] = calendar_of(vtimezone(tzid, FIRST_YEAR, LAST_YEAR), *events)
        expected[name] = starts
    parsed = parse_all(outputs, tmp_path)
    for name, by_parser in parsed.items():
        for parser, calendar in by_parser.items():
            got = {event.uid: event.start for event in calendar.events}
            assert got == expected[name], (name, parser)
