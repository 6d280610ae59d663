"""Remove people from registrations and mail rows while keeping the numbers.

Used by retention (``services/retention.py``: events long over) and by
erasure (``services/privacy.py``: a person's request). An anonymised
registration keeps its event, status, guests, language, waitlist position and
check-in time, so counts and attendance stay true; its name, address, answers
and private links are gone. A mail row keeps its kind, status, times and
links to event, registration and campaign; its address, name, payload (which
holds links and tokens) and error text are blanked.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, delete, update

from outreach.extensions import db
from outreach.models import ManageToken, MessageStatus, OutboxMessage, Registration

# Unique per registration (an active address must be unique per event) and
# undeliverable by definition (RFC 2606 reserves .invalid).
ANONYMISED_EMAIL = "anonymised-{id}@anonymised.invalid"
PURGED_RECIPIENT = "purged@anonymised.invalid"


def anonymise_registrations(ids: Collection[int], *, now: datetime) -> int:
    """Blank the people of these registrations in the caller's transaction; return how many.

    Mail still queued for them is skipped, and all their mail rows are purged.
    Registrations already anonymised are left as they are.
    """
    if not ids:
        return 0
    ids = list(ids)
    pending = Registration.id.in_(ids) & Registration.anonymised_at.is_(None)
    changed = db.session.execute(
        update(Registration)
        .where(pending)
        .values(
            name="",
            # Concatenation in SQL keeps it one statement on both databases.
            email="anonymised-" + Registration.id.cast(db.String) + "@anonymised.invalid",
            answers={},
            anonymised_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.execute(delete(ManageToken).where(ManageToken.registration_id.in_(ids)))
    purge_outbox_rows(OutboxMessage.registration_id.in_(ids), now=now, skip_queued=True)
    return changed


def purge_outbox_rows(
    condition: ColumnElement[bool], *, now: datetime, skip_queued: bool = False
) -> int:
    """Blank address, name, payload and error of the mail rows matching ``condition``.

    Rows still waiting are left alone unless ``skip_queued``: then they are
    marked skipped (never to be sent) and purged too. Returns the rows purged.
    """
    if skip_queued:
        db.session.execute(
            update(OutboxMessage)
            .where(condition, OutboxMessage.status == MessageStatus.QUEUED)
            .values(status=MessageStatus.SKIPPED, last_error="person removed")
            .execution_options(synchronize_session=False)
        )
    finished = OutboxMessage.status.in_(
        (MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.SKIPPED)
    )
    purged = db.session.execute(
        update(OutboxMessage)
        .where(condition, finished, OutboxMessage.purged_at.is_(None))
        .values(
            recipient=PURGED_RECIPIENT,
            recipient_name="",
            payload={},
            last_error=None,
            purged_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    # Campaign rows are keyed by address ("campaign:<id>:<address>"); finished ones need
    # their key no more, so it becomes the row's own id.
    db.session.execute(
        update(OutboxMessage)
        .where(condition, finished, OutboxMessage.dedupe_key.contains("@"))
        .values(dedupe_key="purged:" + OutboxMessage.id.cast(db.String))
        .execution_options(synchronize_session=False)
    )
    return purged
