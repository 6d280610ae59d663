"""Fixtures for the calendar tests: a fresh feed cache, bulk events, query counting."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import insert

from outreach.calendar.components import CalendarSettings
from outreach.calendar.views import FEED_CACHE
from outreach.extensions import db
from outreach.models import Event, EventStatus, EventTranslation, Organisation, event_hosts
from tests.calendar.parsers import ParsedCalendar, parse_all


@pytest.fixture(autouse=True)
def fresh_feed_cache() -> Iterator[None]:
    """The feed cache lives as long as the process; no test may see another's feeds."""
    FEED_CACHE.clear()
    yield
    FEED_CACHE.clear()


@pytest.fixture
def settings(app) -> CalendarSettings:
    return CalendarSettings.from_config(app.config)


@pytest.fixture
def parse_three(
    tmp_path: Path,
) -> Callable[[dict[str, bytes]], dict[str, dict[str, ParsedCalendar]]]:
    """Parse outputs by name with icalendar, vobject and ical.js (one node run)."""
    folder = tmp_path / "ics"
    folder.mkdir()

    def parse(outputs: dict[str, bytes]) -> dict[str, dict[str, ParsedCalendar]]:
        return parse_all(outputs, folder)

    return parse


@pytest.fixture
def next_year() -> int:
    """A year whose January and July are both still ahead, whenever the tests run."""
    return datetime.now(UTC).year + 1


@pytest.fixture
def count_queries(app):
    """``with count_queries() as counted:`` … ``counted[0]`` statements were sent."""

    @contextmanager
    def counting() -> Iterator[list[int]]:
        counted = [0]

        def count(*_args, **_kwargs) -> None:
            counted[0] += 1

        sa_event.listen(db.engine, "before_cursor_execute", count)
        try:
            yield counted
        finally:
            sa_event.remove(db.engine, "before_cursor_execute", count)

    return counting


@pytest.fixture
def bulk_events(app):
    """Insert ``n`` published events hosted by ``host`` in a few statements; return their ids.

    Events start a day apart from tomorrow on, alternating between Berlin and
    New York, with a German and an English version each.
    """

    def insert_events(n: int, host: Organisation, *, prefix: str = "bulk") -> list[int]:
        first = datetime.now(UTC).replace(microsecond=0, second=0) + timedelta(days=1)
        now = datetime.now(UTC)
        rows = [
            {
                "slug": f"{prefix}-{number}",
                "status": EventStatus.PUBLISHED,
                "starts_at": first + timedelta(hours=6 * number),
                "ends_at": first + timedelta(hours=6 * number + 2),
                "timezone": "Europe/Berlin" if number % 2 else "America/New_York",
                "venue_name": f"Saal {number}",
                "venue_city": "Berlin",
                "online_url": f"https://meet.example.org/private-{number}",
                "updated_at": now,
                "created_at": now,
            }
            for number in range(n)
        ]
        ids = list(
            db.session.scalars(
                insert(Event).returning(Event.id, sort_by_parameter_order=True), rows
            )
        )
        db.session.execute(
            insert(EventTranslation),
            [
                {
                    "event_id": event_id,
                    "locale": locale,
                    "title": f"{title} {number}",
                    "summary": "Kurz, knapp; klar" if locale == "de" else "Short, sharp; clear",
                    "description": "",
                }
                for number, event_id in enumerate(ids)
                for locale, title in (("de", "Treffen"), ("en", "Meeting"))
            ],
        )
        db.session.execute(
            insert(event_hosts),
            [{"event_id": event_id, "organisation_id": host.id, "position": 0} for event_id in ids],
        )
        db.session.commit()
        return ids

    return insert_events
