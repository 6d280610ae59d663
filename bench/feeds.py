"""Benchmark the calendar feed /calendar.ics against the floor: icalendar alone.

For each size (1,000 and 10,000 events by default): a fresh SQLite file
migrated with Alembic, the events inserted in bulk (two language versions, a
host, a topic, three time zones), then through the app (Flask test client):

a. the first, uncached request (the feed cache emptied before each try);
b. the same request again (a cache hit);
c. a conditional request with the ETag (answered 304, no body).

The floor, in the same run: the same VEVENTs built as icalendar objects from
plain Python values (no ORM, no database, no request) and serialised. The
figure to compare between machines is the ratio app / floor; the absolute
times depend on the machine.

    .venv/bin/python bench/feeds.py [--sizes 1000,10000] [--tries 3] [--budget 300]

Nothing leaves the process; it stops by itself, and skips the remaining sizes
once --budget seconds have passed. This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from flask_migrate import upgrade  # noqa: E402
from icalendar import Calendar, vCalAddress, vDuration, vText  # noqa: E402
from icalendar import Event as VEvent  # noqa: E402
from sqlalchemy import event as sa_event  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from config import TestingConfig  # noqa: E402
from outreach import create_app  # noqa: E402
from outreach.calendar.timezones import vtimezone  # noqa: E402
from outreach.calendar.views import FEED_CACHE  # noqa: E402
from outreach.extensions import db  # noqa: E402
from outreach.models import (  # noqa: E402
    Event,
    EventStatus,
    EventTranslation,
    Organisation,
    Topic,
    event_hosts,
    event_topics,
)

ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kolkata")
HOST_NAME = "Deutsch-Ukrainischer Verein, e.V."
TOPIC_NAMES = {"de": "Kultur", "en": "Culture"}
BASE_URL = "http://outreach.bench"
ORGANIZER = "outreach@localhost"
LOCALE = "de"


@dataclass
class Timing:
    seconds: float  # median of the tries
    size: int  # bytes of the body
    queries: int = 0  # SQL statements of one try


def median_time(tries: int, run: Callable[[], int], before: Callable[[], None] | None = None):
    """Run ``run`` ``tries`` times (``before`` each, untimed); median seconds and its result."""
    durations, result = [], 0
    for _ in range(tries):
        if before:
            before()
        started = time.perf_counter()
        result = run()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations), result


# -- the data, as plain values ------------------------------------------------


def plain_events(count: int, now: datetime) -> list[dict]:
    """The events as plain Python values: what gets inserted, and what the floor serialises."""
    first = now.replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    events = []
    for number in range(count):
        starts_at = first + timedelta(hours=7 * number)
        events.append(
            {
                "uid": f"00000000-0000-4000-8000-{number:012d}",
                "slug": f"bench-{number}",
                "status": EventStatus.PUBLISHED,
                "starts_at": starts_at,
                "ends_at": starts_at + timedelta(hours=2),
                "timezone": ZONES[number % len(ZONES)],
                "venue_name": f"Gemeindesaal {number}",
                "venue_address": "Hauptstraße 1",
                "venue_city": "Köln",
                "online_url": f"https://meet.example.org/private-{number}",
                "sequence": number % 3,
                "created_at": now,
                "updated_at": now,
                "texts": {
                    "de": (
                        f"Treffen Nr. {number}: Kultur, Musik; Tanz",
                        "Für alle, mit Übersetzung",
                    ),
                    "en": (f"Meeting no. {number}: culture, music; dance", "For everyone"),
                },
            }
        )
    return events


def insert_events(events: list[dict]) -> None:
    host = Organisation(slug="verein", name=HOST_NAME, description={}, is_host=True)
    topic = Topic(slug="kultur", names=TOPIC_NAMES)
    db.session.add_all([host, topic])
    db.session.flush()
    columns = {key: value for key, value in events[0].items() if key != "texts"}.keys()
    ids = list(
        db.session.scalars(
            insert(Event).returning(Event.id, sort_by_parameter_order=True),
            [{key: event[key] for key in columns} for event in events],
        )
    )
    db.session.execute(
        insert(EventTranslation),
        [
            {"event_id": event_id, "locale": locale, "title": title, "summary": summary}
            for event_id, event in zip(ids, events, strict=True)
            for locale, (title, summary) in event["texts"].items()
        ],
    )
    db.session.execute(
        insert(event_hosts),
        [{"event_id": event_id, "organisation_id": host.id, "position": 0} for event_id in ids],
    )
    db.session.execute(
        insert(event_topics), [{"event_id": event_id, "topic_id": topic.id} for event_id in ids]
    )
    db.session.commit()


# -- the floor: icalendar alone -------------------------------------------------


def floor_feed(events: list[dict], name: str) -> bytes:
    """The same calendar as the feed, from plain values: nothing but icalendar."""
    calendar = Calendar()
    calendar.add("prodid", "-//Outreach//Outreach events 1.0//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(timedelta(hours=1)))
    zones = {}
    for event in events:
        years = (event["starts_at"].year, event["ends_at"].year)
        low, high = zones.get(event["timezone"], years)
        zones[event["timezone"]] = (min(low, years[0]), max(high, years[1]))
    for tzid in sorted(zones):
        calendar.add_component(vtimezone(tzid, *zones[tzid]))  # cached: the same in both
    for event in events:
        zone = ZoneInfo(event["timezone"])
        title, summary = event["texts"][LOCALE]
        page = f"{BASE_URL}/events/{event['slug']}"
        entry = VEvent()
        entry.add("uid", f"event-{event['uid']}@outreach.bench")
        entry.add("dtstamp", event["updated_at"])
        entry.add("dtstart", event["starts_at"].astimezone(zone))
        entry.add("dtend", event["ends_at"].astimezone(zone))
        entry.add("sequence", event["sequence"])
        entry.add("last-modified", event["updated_at"])
        entry.add("summary", title)
        entry.add("description", f"{summary}\n\n{page}")
        entry.add(
            "location",
            ", ".join((event["venue_name"], event["venue_address"], event["venue_city"])),
        )
        entry.add("url", page)
        organizer = vCalAddress(f"mailto:{ORGANIZER}")
        organizer.params["CN"] = vText(HOST_NAME)
        entry.add("organizer", organizer)
        entry.add("categories", [TOPIC_NAMES[LOCALE]])
        entry.add("status", "CONFIRMED")
        entry.add("transp", "OPAQUE")
        calendar.add_component(entry)
    return calendar.to_ical()


# -- one size -------------------------------------------------------------------


@dataclass
class SizeResult:
    events: int
    uncached: Timing
    cached: Timing
    conditional: Timing
    floor: Timing
    same_bytes: bool


def bench_size(count: int, tries: int, workdir: Path) -> SizeResult:
    url = f"sqlite:///{workdir / f'feeds-{count}.sqlite'}"
    app = create_app(
        TestingConfig, SQLALCHEMY_DATABASE_URI=url, BASE_URL=BASE_URL, MAIL_DEFAULT_SENDER=ORGANIZER
    )
    now = datetime.now(UTC)
    events = plain_events(count, now)
    with app.app_context():
        with contextlib.redirect_stderr(io.StringIO()):  # Alembic's INFO lines
            upgrade()
        insert_events(events)
        engine = db.engine
    client = app.test_client()
    path = f"/calendar.ics?lang={LOCALE}"
    statements = [0]

    def count_statement(*_args) -> None:
        statements[0] += 1

    def get(headers=None) -> tuple[int, bytes, str]:
        response = client.get(path, headers=headers or {})
        return response.status_code, response.data, response.headers.get("ETag", "")

    def counted(run: Callable[[], tuple[int, bytes, str]]) -> tuple[tuple[int, bytes, str], int]:
        statements[0] = 0
        sa_event.listen(engine, "before_cursor_execute", count_statement)
        try:
            return run(), statements[0]
        finally:
            sa_event.remove(engine, "before_cursor_execute", count_statement)

    (status, body, etag), uncached_queries = counted(get)
    assert status == 200 and body.count(b"BEGIN:VEVENT") == count, (status, len(body))
    uncached, size = median_time(tries, lambda: len(get()[1]), before=FEED_CACHE.clear)
    cached, _ = median_time(tries, lambda: len(get()[1]))
    (status, _, _), cached_queries = counted(get)
    (status, empty, _), conditional_queries = counted(lambda: get({"If-None-Match": etag}))
    assert status == 304 and empty == b"", status
    conditional, _ = median_time(tries, lambda: len(get({"If-None-Match": etag})[1]))
    floor_body = floor_feed(events, app.config["SITE_NAME"])
    floor, floor_size = median_time(tries, lambda: len(floor_feed(events, app.config["SITE_NAME"])))
    return SizeResult(
        events=count,
        uncached=Timing(uncached, size, uncached_queries),
        cached=Timing(cached, size, cached_queries),
        conditional=Timing(conditional, 0, conditional_queries),
        floor=Timing(floor, floor_size),
        same_bytes=floor_body == body,
    )


# -- the report ------------------------------------------------------------------


def print_report(results: list[SizeResult], tries: int) -> None:
    print()
    print(f"GET /calendar.ics?lang={LOCALE} through the app (SQLite), median of {tries} tries")
    header = f"{'events':>7}  {'request':<26} {'ms':>9} {'bytes':>11} {'queries':>8} {'÷ floor':>8}"
    print(header)
    print("-" * len(header))
    for result in results:
        floor = result.floor.seconds
        rows = (
            ("a. first (uncached)", result.uncached),
            ("b. repeated (cache hit)", result.cached),
            ("c. conditional (304)", result.conditional),
            ("floor: icalendar alone", result.floor),
        )
        for label, timing in rows:
            queries = "" if timing is result.floor else str(timing.queries)
            print(
                f"{result.events:>7}  {label:<26} {timing.seconds * 1000:>9.1f} "
                f"{timing.size:>11,} {queries:>8} {timing.seconds / floor:>8.2f}"
            )
    print()
    for result in results:
        per_event = result.uncached.seconds / result.events * 1e6
        ratio = result.uncached.seconds / result.floor.seconds
        print(
            f"{result.events} events: uncached feed = {ratio:.2f}"
            f" x floor ({per_event:.0f} µs per event); floor and feed bytes identical: "
            f"{'yes' if result.same_bytes else 'NO'}"
        )


def parse_args(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="1000,10000", help="events per feed (default 1000,10000)"
    )
    parser.add_argument("--tries", type=int, default=3, help="timed tries per figure (default 3)")
    parser.add_argument(
        "--budget",
        type=float,
        default=300.0,
        help="seconds after which the remaining sizes are skipped (default 300)",
    )
    args = parser.parse_args(argv)
    args.sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    if not args.sizes or min(args.sizes) < 1 or args.tries < 1:
        parser.error("sizes and tries must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    results = []
    with tempfile.TemporaryDirectory(prefix="outreach-bench-feeds-") as tmp:
        for count in args.sizes:
            if time.monotonic() - started > args.budget:
                print(f"{count} events: skipped, the budget of {args.budget:.0f} s is spent")
                continue
            print(f"{count} events: running ...", flush=True)
            results.append(bench_size(count, args.tries, Path(tmp)))
    if not results:
        print("nothing was measured")
        return 2
    print_report(results, args.tries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
