"""Reading the outbox for people: the dev mailbox now, the staff queue page later."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from outreach.extensions import db
from outreach.models import OutboxMessage


def recent_messages(*, limit: int = 100) -> list[OutboxMessage]:
    """The newest outbox rows first, with their event loaded."""
    query = (
        select(OutboxMessage)
        .options(joinedload(OutboxMessage.event))
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))
