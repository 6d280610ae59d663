"""The suppression list: addresses that later messages skip, wholly or for one kind of bulk mail.

An entry's scope says what it stops. ``ALL`` (a hard bounce: the address is
dead) stops every message. ``OUTREACH`` and ``NEWSLETTER`` (the person
unsubscribed or complained) stop bulk mail of that kind only: mail about the
person's own registration, a password reset or the newsletter's opt-in link
still goes out.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from outreach.extensions import db
from outreach.models import MessageKind, Suppression, SuppressionReason, SuppressionScope

# The scope a bulk kind of message honours, besides ALL.
SCOPE_OF_KIND = {
    MessageKind.CAMPAIGN: SuppressionScope.OUTREACH,
    MessageKind.NEWSLETTER: SuppressionScope.NEWSLETTER,
}


def scope_for(kind: MessageKind) -> SuppressionScope | None:
    """The bulk scope that stops messages of ``kind``, or None for transactional mail."""
    return SCOPE_OF_KIND.get(kind)


def blocking_scope(
    scopes: Iterable[SuppressionScope], kind: MessageKind
) -> SuppressionScope | None:
    """Which of an address's entries stops a message of ``kind``: ALL first, else the kind's own."""
    scopes = set(scopes)
    if SuppressionScope.ALL in scopes:
        return SuppressionScope.ALL
    own = scope_for(kind)
    return own if own is not None and own in scopes else None


def suppression_scopes(addresses: Iterable[str]) -> dict[str, set[SuppressionScope]]:
    """The entries of these addresses, lower-cased address → scopes (one query for a batch)."""
    lowered = {address.lower() for address in addresses}
    if not lowered:
        return {}
    found: dict[str, set[SuppressionScope]] = {}
    rows = db.session.execute(
        select(Suppression.email, Suppression.scope).where(Suppression.email.in_(lowered))
    )
    for email, scope in rows:
        found.setdefault(email, set()).add(scope)
    return found


def suppressed_among(addresses: set[str], *, kind: MessageKind | None = None) -> set[str]:
    """Which of these addresses a message of ``kind`` must skip (any kind: those with ALL)."""
    return {
        email
        for email, scopes in suppression_scopes(addresses).items()
        if (blocking_scope(scopes, kind) if kind else SuppressionScope.ALL in scopes)
    }


def is_suppressed(address: str, kind: MessageKind | None = None) -> bool:
    """Whether a message of ``kind`` (any kind: only ALL counts) to ``address`` must be skipped."""
    return bool(suppressed_among({address}, kind=kind))


def suppress(
    email: str,
    reason: SuppressionReason,
    detail: str = "",
    scope: SuppressionScope = SuppressionScope.ALL,
) -> bool:
    """Put an address on the list for ``scope``, inside the caller's transaction.

    Twice is harmless; returns whether the entry is new.
    """
    email = email.lower()
    existing = select(Suppression.id).where(Suppression.email == email, Suppression.scope == scope)
    if db.session.scalar(existing):
        return False
    try:
        with db.session.begin_nested():
            db.session.add(
                Suppression(email=email, scope=scope, reason=reason, detail=detail[:2000])
            )
    except IntegrityError:
        return False  # another worker or request recorded the same a moment ago
    return True


def lift(email: str, scope: SuppressionScope) -> bool:
    """Take an unsubscription off the list, inside the caller's transaction.

    For a person who asks for that kind of mail again. Only entries the person
    made by unsubscribing go: a bounce or a complaint is not theirs to lift.
    """
    if scope is SuppressionScope.ALL:
        raise ValueError("an address that bounced is not lifted by asking")
    result = db.session.execute(
        delete(Suppression).where(
            Suppression.email == email.lower(),
            Suppression.scope == scope,
            Suppression.reason == SuppressionReason.UNSUBSCRIBED,
        )
    )
    return bool(result.rowcount)
