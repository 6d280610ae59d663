// Parse .ics files with Mozilla's ical.js (the parser inside Thunderbird) and
// print one JSON document: {"files": [{file, ok, method, events, ...}, ...]}.
//
//   node tests/calendar/ical_parse.mjs [--offsets=instants.json] a.ics b.ics ...
//
// Each file's VTIMEZONEs are registered with ICAL.TimezoneService (after a
// reset, so nothing leaks from one file to the next) before any date is read:
// ical.js has no zone database of its own, so every TZID resolves to the
// VTIMEZONE the file carries, or the file is reported as broken.
//
// With --offsets, a JSON list of UNIX seconds (or an object of such lists by
// TZID): for every VTIMEZONE, the UTC
// offset (seconds) that ical.js computes from it at each of those instants, and
// the instant ical.js gives back for the local time that offset yields.

import { readFileSync } from "node:fs";
import ICAL from "ical.js";

function paramsOf(property) {
  const json = property.toJSON();
  return json[1];
}

function address(property) {
  if (!property) return null;
  return { value: String(property.getFirstValue()), params: paramsOf(property) };
}

function instant(property) {
  if (!property) return null;
  const time = property.getFirstValue();
  const tzid = property.getParameter("tzid") || null;
  if (tzid && (!time.zone || time.zone.tzid !== tzid)) {
    throw new Error(`TZID ${tzid} does not resolve to a VTIMEZONE of this file`);
  }
  return {
    utc: time.toJSDate().toISOString().replace(".000Z", "Z"),
    local: time.toString(),
    tzid,
  };
}

function text(component, name) {
  const value = component.getFirstPropertyValue(name);
  return value === null ? null : String(value);
}

function offsetsAt(zone, instants) {
  // ical.js expands a VTIMEZONE's STANDARD/DAYLIGHT parts (DTSTART, RRULE,
  // RDATE) into a list of changes in UTC, and derives every offset from it:
  // read the offset in force at each instant from that list, then turn the
  // local time back into an instant the way ical.js does for a DTSTART.
  const lastYear = new Date(Math.max(...instants) * 1000).getUTCFullYear();
  zone._ensureCoverage(lastYear);
  const changes = zone.changes.map((change) => ({
    at: Date.UTC(change.year, change.month - 1, change.day, change.hour, change.minute, change.second) / 1000,
    offset: change.utcOffset,
  }));
  return instants.map((seconds) => {
    let offset = null;
    for (const change of changes) {
      if (change.at > seconds) break;
      offset = change.offset;
    }
    if (offset === null) return { offset: null, back: null };
    const wall = new Date((seconds + offset) * 1000);
    const local = ICAL.Time.fromData({
      year: wall.getUTCFullYear(),
      month: wall.getUTCMonth() + 1,
      day: wall.getUTCDate(),
      hour: wall.getUTCHours(),
      minute: wall.getUTCMinutes(),
      second: wall.getUTCSeconds(),
    }, zone);
    return { offset, back: local.toUnixTime() };
  });
}

function parseFile(path, instants) {
  ICAL.TimezoneService.reset();
  const root = new ICAL.Component(ICAL.parse(readFileSync(path, "utf8")));
  const timezones = root.getAllSubcomponents("vtimezone").map((component) => {
    const zone = new ICAL.Timezone(component);
    ICAL.TimezoneService.register(zone);
    return {
      tzid: zone.tzid,
      parts: component.getAllSubcomponents().map((part) => part.name.toUpperCase()),
      zone,
    };
  });
  const events = root.getAllSubcomponents("vevent").map((vevent) => ({
    uid: text(vevent, "uid"),
    sequence: vevent.getFirstPropertyValue("sequence"),
    status: text(vevent, "status"),
    summary: text(vevent, "summary"),
    description: text(vevent, "description"),
    location: text(vevent, "location"),
    url: text(vevent, "url"),
    categories: vevent.getAllProperties("categories").flatMap((p) => p.getValues().map(String)),
    start: instant(vevent.getFirstProperty("dtstart")),
    end: instant(vevent.getFirstProperty("dtend")),
    attendees: vevent.getAllProperties("attendee").map(address),
    organizer: address(vevent.getFirstProperty("organizer")),
  }));
  const result = {
    file: path,
    ok: true,
    method: text(root, "method"),
    calname: text(root, "x-wr-calname"),
    timezones: timezones.map(({ tzid, parts }) => ({ tzid, parts })),
    events,
  };
  if (instants) {
    result.offsets = Object.fromEntries(
      timezones.map(({ tzid, zone }) => [
        tzid,
        offsetsAt(zone, Array.isArray(instants) ? instants : instants[tzid]),
      ]),
    );
  }
  return result;
}

let instants = null;
const files = [];
for (const argument of process.argv.slice(2)) {
  if (argument.startsWith("--offsets=")) {
    instants = JSON.parse(readFileSync(argument.slice("--offsets=".length), "utf8"));
  } else {
    files.push(argument);
  }
}

const results = files.map((path) => {
  try {
    return parseFile(path, instants);
  } catch (error) {
    return { file: path, ok: false, error: String(error && error.stack ? error.stack : error) };
  }
});
process.stdout.write(JSON.stringify({ files: results }));
