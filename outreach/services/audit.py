"""Writing and reading the audit log; services call record() inside their transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import select

from outreach.extensions import db
from outreach.models import AuditEntry, User


def _plain(value: Any) -> Any:
    """A JSON-friendly form of a field's value."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    return value


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    """The values of ``fields`` on ``obj``, JSON-friendly, to compare later with changes()."""
    return {name: _plain(getattr(obj, name)) for name in fields}


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for the fields whose value differs."""
    return {
        name: [_plain(before.get(name)), _plain(value)]
        for name, value in after.items()
        if _plain(before.get(name)) != _plain(value)
    }


def record(
    action: str,
    subject: Any,
    *,
    actor: User | None,
    changes: Mapping[str, Any] | None = None,
    comment: str | None = None,
) -> AuditEntry:
    """Add an entry for ``action`` on ``subject`` (a model row with an id); does not commit.

    The subject's type is its table name; flush first so a new row has its id.
    """
    if subject.id is None:
        db.session.flush()
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        actor_label=(actor.email if actor is not None else "system"),
        action=action,
        subject_type=subject.__tablename__,
        subject_id=subject.id,
        changes=_plain(dict(changes or {})),
        comment=comment or None,
    )
    db.session.add(entry)
    return entry


def entries_for(subject: Any, *, limit: int = 200) -> list[AuditEntry]:
    """The newest entries about ``subject`` first."""
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.subject_type == subject.__tablename__,
                AuditEntry.subject_id == subject.id,
            )
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
    )
