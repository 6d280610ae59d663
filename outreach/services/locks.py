"""The lock that serialises every decision about one event's seats and schedule."""

from __future__ import annotations

from sqlalchemy import select

from outreach.database import begin_write
from outreach.extensions import db
from outreach.models import Event


def lock_event(event_id: int) -> Event:
    """Begin a write transaction holding the event's lock; return the fresh row.

    PostgreSQL locks the row (FOR UPDATE); SQLite's BEGIN IMMEDIATE already
    holds the database's write lock, and the dialect leaves FOR UPDATE out.
    """
    begin_write()
    return db.session.execute(
        select(Event)
        .where(Event.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
