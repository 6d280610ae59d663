"""The suppression list: addresses that bounced hard, and later messages skip."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from outreach.extensions import db
from outreach.models import Suppression, SuppressionReason


def suppressed_among(addresses: set[str]) -> set[str]:
    """Which of these addresses are on the list (one query for a whole batch)."""
    if not addresses:
        return set()
    lowered = {address.lower() for address in addresses}
    return set(db.session.scalars(select(Suppression.email).where(Suppression.email.in_(lowered))))


def suppress(email: str, reason: SuppressionReason, detail: str = "") -> None:
    """Put an address on the list, inside the caller's transaction; twice is harmless."""
    email = email.lower()
    if db.session.scalar(select(Suppression.id).where(Suppression.email == email)):
        return
    try:
        with db.session.begin_nested():
            db.session.add(Suppression(email=email, reason=reason, detail=detail[:2000]))
    except IntegrityError:
        pass  # another worker recorded the same bounce a moment ago
