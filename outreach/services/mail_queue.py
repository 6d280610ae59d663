"""The mail queue as staff see it: how much is waiting, what failed, and sending it again.

The staff pages (and their JSON) will call these; until then ``flask outreach
queue`` does. The development outbox page reads ``recent_messages``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from outreach.database import begin_write
from outreach.extensions import db
from outreach.mail.suppression import is_suppressed
from outreach.models import (
    MessageKind,
    MessageStatus,
    OutboxMessage,
    Suppression,
    SuppressionScope,
    utcnow,
)
from outreach.services.errors import MessageNotFound, MessageNotRetryable


def recent_messages(*, limit: int = 100) -> list[OutboxMessage]:
    """Return the newest outbox rows first, with their event loaded."""
    query = (
        select(OutboxMessage)
        .options(joinedload(OutboxMessage.event))
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def queue_counts(*, now: datetime | None = None) -> dict[str, Any]:
    """Count the outbox by status and by kind, and say how much is waiting and for how long.

    Every status and kind is present (zero when there is none), so the shape
    is the same on an empty queue. ``by_kind`` maps each kind to its counts
    per status plus ``total``. ``due_now`` is what a worker would claim now:
    queued messages whose time has come, and the ``expired_leases`` —
    messages a worker claimed and did not finish in time (it died, most likely).
    """
    now = now or utcnow()
    by_kind: dict[str, dict[str, int]] = {
        kind.value: {status.value: 0 for status in MessageStatus} | {"total": 0}
        for kind in MessageKind
    }
    by_status = {status.value: 0 for status in MessageStatus}
    rows = db.session.execute(
        select(OutboxMessage.kind, OutboxMessage.status, func.count()).group_by(
            OutboxMessage.kind, OutboxMessage.status
        )
    )
    for kind, status, number in rows:
        by_kind[kind.value][status.value] += number
        by_kind[kind.value]["total"] += number
        by_status[status.value] += number

    queued = OutboxMessage.status == MessageStatus.QUEUED
    due = db.session.scalar(
        select(func.count()).where(queued, OutboxMessage.next_attempt_at <= now)
    )
    oldest_queued_at = db.session.scalar(select(func.min(OutboxMessage.created_at)).where(queued))
    expired_leases = db.session.scalar(
        select(func.count()).where(
            OutboxMessage.status == MessageStatus.SENDING, OutboxMessage.locked_until < now
        )
    )
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "by_kind": by_kind,
        "due_now": due + expired_leases,
        "oldest_queued_at": oldest_queued_at,
        "oldest_queued_age_seconds": (
            max(0, int((now - oldest_queued_at).total_seconds())) if oldest_queued_at else None
        ),
        "expired_leases": expired_leases,
    }


def failed_messages(limit: int = 100) -> list[OutboxMessage]:
    """Return the failed messages, newest first, each with its attempts and last error."""
    query = (
        select(OutboxMessage)
        .options(joinedload(OutboxMessage.event))
        .where(OutboxMessage.status == MessageStatus.FAILED)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def retry(message_id: int, *, now: datetime | None = None) -> OutboxMessage:
    """Put a failed message back in the queue, due now, with a fresh count of attempts.

    ``last_error`` stays, so staff still see why it failed until the worker
    tries again. Raises MessageNotFound, or MessageNotRetryable when the
    message has not failed or its address is on the suppression list (the
    worker would fail it again at once).
    """
    now = now or utcnow()
    try:
        begin_write()
        message = db.session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if message is None:
            raise MessageNotFound()
        if message.status is not MessageStatus.FAILED:
            raise MessageNotRetryable()
        if message.purged_at is not None:  # retention (services/retention.py) blanked it
            raise MessageNotRetryable(
                str(_l("This message’s address and content were deleted; it cannot be sent again."))
            )
        if is_suppressed(message.recipient, message.kind):
            raise MessageNotRetryable(
                str(
                    _l(
                        "%(email)s is on the suppression list; the message would fail again.",
                        email=message.recipient,
                    )
                )
            )
        message.status = MessageStatus.QUEUED
        message.attempts = 0
        message.next_attempt_at = now
        message.locked_until = None
        message.locked_by = None
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return message


def retry_all_failed(*, now: datetime | None = None) -> int:
    """Put every failed message back in the queue as ``retry`` does; return how many.

    Messages to addresses on the suppression list stay failed.
    """
    now = now or utcnow()
    try:
        begin_write()
        result = db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == MessageStatus.FAILED,
                OutboxMessage.purged_at.is_(None),
                func.lower(OutboxMessage.recipient).not_in(
                    # Dead addresses; the worker skips bulk mail to the unsubscribed itself.
                    select(Suppression.email).where(Suppression.scope == SuppressionScope.ALL)
                ),
            )
            .values(
                status=MessageStatus.QUEUED,
                attempts=0,
                next_attempt_at=now,
                locked_until=None,
                locked_by=None,
            )
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return result.rowcount
