"""Enqueue messages in the outbox, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from outreach.extensions import db
from outreach.models import Event, MessageKind, OutboxMessage, Registration
from outreach.services.tokens import issue_token


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


def enqueue_for_registrations(
    kind: MessageKind,
    registrations: Sequence[Registration],
    *,
    dedupe_suffix: str = "",
    payload: dict[str, Any] | None = None,
    with_links: bool = True,
) -> int:
    """Enqueue one message per registration, skipping keys already queued; return the count.

    For changes that concern everyone registered for an event. Call it while
    holding the event's lock, so no one else writes these keys meanwhile.
    With ``with_links`` each message carries a fresh manage token.
    """
    suffix = f":{dedupe_suffix}" if dedupe_suffix else ""
    keys = {
        registration.id: f"{kind.value}:{registration.id}{suffix}" for registration in registrations
    }
    existing = (
        set(
            db.session.scalars(
                select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys.values()))
            )
        )
        if keys
        else set()
    )
    messages = [
        OutboxMessage(
            kind=kind,
            recipient=registration.email,
            recipient_name=registration.name,
            language=registration.language,
            dedupe_key=keys[registration.id],
            event_id=registration.event_id,
            registration_id=registration.id,
            payload={
                **(payload or {}),
                **({"token": issue_token(registration)} if with_links else {}),
            },
        )
        for registration in registrations
        if keys[registration.id] not in existing
    ]
    db.session.add_all(messages)
    return len(messages)
