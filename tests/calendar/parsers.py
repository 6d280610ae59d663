"""Read iCalendar output back with three independent parsers, into one shape.

- icalendar (the library that writes it),
- vobject (another Python implementation, with dateutil's VTIMEZONE reader),
- ical.js (Mozilla's parser inside Thunderbird), through ``ical_parse.mjs``.

Every parser converts DTSTART/DTEND to UTC with the VTIMEZONE the file
carries, never with a zone database of its own: otherwise a broken VTIMEZONE
would go unnoticed, and Outlook, which trusts the file, would show the wrong
time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import vobject
import vobject.icalendar
from icalendar import Calendar

SCRIPT = Path(__file__).with_name("ical_parse.mjs")
REPO_ROOT = Path(__file__).resolve().parents[2]
PARSERS = ("icalendar", "vobject", "ical.js")


@dataclass
class ParsedEvent:
    uid: str
    sequence: int
    status: str | None
    summary: str | None
    description: str | None
    location: str | None
    start: datetime  # aware, UTC
    end: datetime
    start_tzid: str | None
    attendees: list[dict] = field(default_factory=list)  # {"value": ..., "params": {lower: str}}
    organizer: dict | None = None


@dataclass
class ParsedCalendar:
    parser: str
    method: str | None
    timezones: dict[str, list[str]]  # TZID -> the kinds of its parts (STANDARD, DAYLIGHT)
    events: list[ParsedEvent]

    def event(self, uid: str | None = None) -> ParsedEvent:
        """The only event, or the one with ``uid``."""
        if uid is None:
            assert len(self.events) == 1, f"{self.parser}: {len(self.events)} events"
            return self.events[0]
        matches = [event for event in self.events if event.uid == uid]
        assert len(matches) == 1, f"{self.parser}: {len(matches)} events with UID {uid}"
        return matches[0]

    @property
    def uids(self) -> set[str]:
        return {event.uid for event in self.events}


def _utc(value: datetime) -> datetime:
    assert value.tzinfo is not None, "a floating time where a zoned one was expected"
    return value.astimezone(UTC)


# -- icalendar ---------------------------------------------------------------


def _icalendar_params(prop) -> dict[str, str]:
    return {name.lower(): str(value) for name, value in prop.params.items()}


def _icalendar_address(prop) -> dict | None:
    if prop is None:
        return None
    return {"value": str(prop), "params": _icalendar_params(prop)}


def _icalendar_instant(prop, zones: dict) -> tuple[datetime, str | None]:
    tzid = prop.params.get("TZID")
    if tzid is None:
        return _utc(prop.dt), None
    assert tzid in zones, f"icalendar: TZID {tzid} has no VTIMEZONE"
    local = prop.dt.replace(tzinfo=None)
    return _utc(local.replace(tzinfo=zones[tzid])), str(tzid)


def icalendar_zones(calendar: Calendar) -> dict:
    """tzinfo objects built from the file's VTIMEZONEs (not looked up by TZID)."""
    return {
        str(component["TZID"]): component.to_tz(lookup_tzid=False)
        for component in calendar.walk("VTIMEZONE")
    }


def parse_with_icalendar(data: bytes) -> ParsedCalendar:
    calendar = Calendar.from_ical(data)
    zones = icalendar_zones(calendar)
    events = []
    for component in calendar.walk("VEVENT"):
        start, start_tzid = _icalendar_instant(component["DTSTART"], zones)
        end, _ = _icalendar_instant(component["DTEND"], zones)
        attendees = component.get("ATTENDEE", [])
        if not isinstance(attendees, list):
            attendees = [attendees]
        events.append(
            ParsedEvent(
                uid=str(component["UID"]),
                sequence=int(component.get("SEQUENCE", 0)),
                status=_optional_text(component.get("STATUS")),
                summary=_optional_text(component.get("SUMMARY")),
                description=_optional_text(component.get("DESCRIPTION")),
                location=_optional_text(component.get("LOCATION")),
                start=start,
                end=end,
                start_tzid=start_tzid,
                attendees=[_icalendar_address(attendee) for attendee in attendees],
                organizer=_icalendar_address(component.get("ORGANIZER")),
            )
        )
    return ParsedCalendar(
        parser="icalendar",
        method=_optional_text(calendar.get("METHOD")),
        timezones={
            str(tz["TZID"]): [part.name for part in tz.subcomponents]
            for tz in calendar.walk("VTIMEZONE")
        },
        events=events,
    )


def _optional_text(value) -> str | None:
    return None if value is None else str(value)


# -- vobject -----------------------------------------------------------------


def _forget_vobject_zones() -> None:
    """Empty vobject's process-wide TZID registry, so only this file's VTIMEZONEs count.

    vobject keeps the first zone registered under a TZID and falls back to
    pytz for unknown TZIDs: either way a zone from elsewhere could hide a wrong
    or missing VTIMEZONE.
    """
    registry = vars(vobject.icalendar)["__tzidMap"]
    utc = registry.get("UTC")
    registry.clear()
    registry["UTC"] = utc


def _vobject_params(line) -> dict[str, str]:
    return {name.lower(): ",".join(values) for name, values in line.params.items()}


def _vobject_instant(line) -> tuple[datetime, str | None]:
    value = line.value
    # Once it has turned the value into a datetime, vobject keeps the TZID as this.
    tzid = line.params.get("X-VOBJ-ORIGINAL-TZID", [None])[0]
    if tzid is not None:
        # The tzinfo must be dateutil's reading of the VTIMEZONE in this file.
        assert type(value.tzinfo).__name__ == "_tzicalvtz", (
            f"vobject: TZID {tzid} resolved to {value.tzinfo!r}, not to the file's VTIMEZONE"
        )
    return _utc(value), tzid


def _vobject_text(component, name: str) -> str | None:
    lines = component.contents.get(name)
    if not lines:
        return None
    value = lines[0].value
    return value if isinstance(value, str) else ",".join(value)


def _read_with_own_zones(text: str):
    """Read one VCALENDAR with each TZID bound to dateutil's reading of its VTIMEZONE.

    vobject itself names a VTIMEZONE by guessing from its offsets in the year
    2000 and skips one that looks like UTC then (Casablanca's does, for
    instance), so the file's zones are registered under their TZIDs first.
    """
    _forget_vobject_zones()
    components = list(vobject.readComponents(text, validate=True, transform=False))
    assert len(components) == 1, f"vobject: {len(components)} top-level components"
    calendar = components[0]
    for component in calendar.contents.get("vtimezone", []):
        tzinfo = vobject.icalendar.TimezoneComponent.gettzinfo(component)
        vobject.icalendar.registerTzid(component.tzid.value, tzinfo)
    calendar.transformChildrenToNative()
    return calendar


def parse_with_vobject(data: bytes) -> ParsedCalendar:
    calendar = _read_with_own_zones(data.decode("utf-8"))
    events = []
    for component in calendar.contents.get("vevent", []):
        start, start_tzid = _vobject_instant(component.dtstart)
        end, _ = _vobject_instant(component.dtend)
        organizer = component.contents.get("organizer")
        events.append(
            ParsedEvent(
                uid=component.uid.value,
                sequence=int(_vobject_text(component, "sequence") or 0),
                status=_vobject_text(component, "status"),
                summary=_vobject_text(component, "summary"),
                description=_vobject_text(component, "description"),
                location=_vobject_text(component, "location"),
                start=start,
                end=end,
                start_tzid=start_tzid,
                attendees=[
                    {"value": line.value, "params": _vobject_params(line)}
                    for line in component.contents.get("attendee", [])
                ],
                organizer=(
                    {"value": organizer[0].value, "params": _vobject_params(organizer[0])}
                    if organizer
                    else None
                ),
            )
        )
    return ParsedCalendar(
        parser="vobject",
        method=_vobject_text(calendar, "method"),
        timezones={
            tz.tzid.value: [part.name.upper() for part in tz.components()]
            for tz in calendar.contents.get("vtimezone", [])
        },
        events=events,
    )


# -- ical.js -----------------------------------------------------------------


def node_available() -> str:
    node = shutil.which("node")
    assert node, "Node.js is needed for ical.js (install nodejs)"
    assert (REPO_ROOT / "node_modules" / "ical.js").is_dir(), (
        "ical.js is not installed: run `npm ci --ignore-scripts` (make test does)"
    )
    return node


def run_icaljs(paths: list[Path], *, instants: Path | None = None) -> list[dict]:
    """Run ical_parse.mjs once over ``paths``; its raw per-file results, in order."""
    arguments = [node_available(), str(SCRIPT)]
    if instants is not None:
        arguments.append(f"--offsets={instants}")
    arguments.extend(str(path) for path in paths)
    finished = subprocess.run(arguments, capture_output=True, check=True, timeout=60, cwd=REPO_ROOT)
    results = json.loads(finished.stdout)["files"]
    for result in results:
        assert result["ok"], f"ical.js rejected {result['file']}: {result['error']}"
    return results


def _icaljs_instant(value: dict) -> datetime:
    return datetime.fromisoformat(value["utc"].replace("Z", "+00:00"))


def from_icaljs(result: dict) -> ParsedCalendar:
    events = [
        ParsedEvent(
            uid=event["uid"],
            sequence=int(event["sequence"] or 0),
            status=event["status"],
            summary=event["summary"],
            description=event["description"],
            location=event["location"],
            start=_icaljs_instant(event["start"]),
            end=_icaljs_instant(event["end"]),
            start_tzid=event["start"]["tzid"],
            attendees=[_icaljs_address(attendee) for attendee in event["attendees"]],
            organizer=_icaljs_address(event["organizer"]) if event["organizer"] else None,
        )
        for event in result["events"]
    ]
    return ParsedCalendar(
        parser="ical.js",
        method=result["method"],
        timezones={tz["tzid"]: tz["parts"] for tz in result["timezones"]},
        events=events,
    )


def _icaljs_address(value: dict) -> dict:
    return {
        "value": value["value"],
        "params": {name.lower(): str(param) for name, param in value["params"].items()},
    }


# -- all three ---------------------------------------------------------------


def parse_all(outputs: dict[str, bytes], folder: Path) -> dict[str, dict[str, ParsedCalendar]]:
    """Parse every output with all three parsers: ``{name: {parser: ParsedCalendar}}``.

    The files are written to ``folder`` and ical.js runs once over all of them.
    """
    paths = {}
    for name, data in outputs.items():
        path = folder / f"{name}.ics"
        path.write_bytes(data)
        paths[name] = path
    icaljs = run_icaljs(list(paths.values()))
    parsed = {}
    for (name, data), result in zip(outputs.items(), icaljs, strict=True):
        parsed[name] = {
            "icalendar": parse_with_icalendar(data),
            "vobject": parse_with_vobject(data),
            "ical.js": from_icaljs(result),
        }
    return parsed


def tzinfo_from_vobject(vtimezone_text: bytes):
    """dateutil's tzinfo for the first VTIMEZONE in a calendar, as vobject reads it."""
    calendar = _read_with_own_zones(vtimezone_text.decode("utf-8"))
    return calendar.vtimezone.gettzinfo()
