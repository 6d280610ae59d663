"""Fixtures for the server-rendered pages."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.models import OutboxMessage, Registration


@pytest.fixture
def counts(app):
    """Return (registrations, outbox rows) as they are in the database now."""

    def count() -> tuple[int, int]:
        db.session.rollback()  # end any open read so the counts are fresh
        return (
            db.session.scalar(select(func.count(Registration.id))),
            db.session.scalar(select(func.count(OutboxMessage.id))),
        )

    return count
