"""Enqueue messages in the outbox, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from outreach.extensions import db
from outreach.models import Event, MessageKind, OutboxMessage, Registration


def enqueue(
    kind: MessageKind,
    *,
    recipient: str,
    language: str,
    dedupe_key: str,
    recipient_name: str = "",
    event: Event | None = None,
    registration: Registration | None = None,
    payload: dict[str, Any] | None = None,
) -> OutboxMessage | None:
    """Add a message to the outbox unless one with ``dedupe_key`` exists.

    Does not commit: the message becomes real together with the change that
    caused it, or not at all. Returns None when the message was already owed.
    """
    session = db.session
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)):
        return None
    message = OutboxMessage(
        kind=kind,
        recipient=recipient,
        recipient_name=recipient_name,
        language=language,
        dedupe_key=dedupe_key,
        event=event,
        registration=registration,
        payload=payload or {},
    )
    # A concurrent writer may enqueue the same key between our check and insert;
    # the savepoint lets the unique constraint settle it without losing our work.
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        return None
    return message


def enqueue_for_registration(
    kind: MessageKind,
    registration: Registration,
    *,
    dedupe_suffix: str = "",
    payload: dict[str, Any] | None = None,
) -> OutboxMessage | None:
    """Enqueue a message about ``registration`` to the person who made it."""
    key = f"{kind.value}:{registration.id}"
    if dedupe_suffix:
        key = f"{key}:{dedupe_suffix}"
    return enqueue(
        kind,
        recipient=registration.email,
        recipient_name=registration.name,
        language=registration.language,
        dedupe_key=key,
        event=registration.event,
        registration=registration,
        payload=payload,
    )
