"""The suppression list: addresses that later messages skip, wholly or for one kind of bulk mail.

An entry's scope says what it stops. ``ALL`` (a hard bounce: the address is
dead) stops every message. ``OUTREACH`` and ``NEWSLETTER`` (the person
unsubscribed or complained) stop bulk mail of that kind only: mail about the
person's own registration, a password reset or the newsletter's opt-in link
still goes out.

An erased person's entries stay, with the address replaced by its salted hash
(``hashed_address``): every lookup here matches the plain address or its hash,
so an unsubscribe is honoured if the address comes back, and nobody can read
the address off the list.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from outreach.extensions import db
from outreach.models import MessageKind, Suppression, SuppressionReason, SuppressionScope

# The scope a bulk kind of message honours, besides ALL.
SCOPE_OF_KIND = {
    MessageKind.CAMPAIGN: SuppressionScope.OUTREACH,
    MessageKind.NEWSLETTER: SuppressionScope.NEWSLETTER,
}


HASH_PREFIX = "hmac-sha256:"
_HASH_KEY_SALT = b"outreach.privacy-hash"


def _hash_key() -> bytes:
    """PRIVACY_HASH_KEY, or a key derived from SECRET_KEY (either must never change)."""
    configured = current_app.config.get("PRIVACY_HASH_KEY")
    if configured:
        return configured.encode("utf-8") if isinstance(configured, str) else configured
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(secret, _HASH_KEY_SALT, hashlib.sha256).digest()


def hashed_address(email: str) -> str:
    """The salted hash an erased address is kept as: ``hmac-sha256:<hex>``."""
    normalised = email.strip().lower().encode("utf-8")
    return HASH_PREFIX + hmac.new(_hash_key(), normalised, hashlib.sha256).hexdigest()


def _forms(email: str) -> tuple[str, str]:
    """The address as an entry may hold it: plain (lower-cased) and hashed."""
    email = email.lower()
    return email, hashed_address(email)


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
    plain_of = {hashed_address(address): address for address in lowered}
    found: dict[str, set[SuppressionScope]] = {}
    rows = db.session.execute(
        select(Suppression.email, Suppression.scope).where(
            Suppression.email.in_(lowered | plain_of.keys())
        )
    )
    for email, scope in rows:
        found.setdefault(plain_of.get(email, email), set()).add(scope)
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
    existing = select(Suppression.id).where(
        Suppression.email.in_(_forms(email)), Suppression.scope == scope
    )
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
            Suppression.email.in_(_forms(email)),
            Suppression.scope == scope,
            Suppression.reason == SuppressionReason.UNSUBSCRIBED,
        )
    )
    return bool(result.rowcount)


def hide_address(email: str) -> int:
    """Replace the address in its entries by its salted hash, in the caller's transaction.

    For an erasure: the entries keep working (see ``suppression_scopes``), and the
    address leaves their details too. Where a hashed entry of the scope exists
    already, the plain one just goes. Returns how many entries were hidden.
    """
    email, hashed = _forms(email)
    mention = re.compile(re.escape(email), re.IGNORECASE)
    entries = db.session.scalars(
        select(Suppression).where(func.lower(Suppression.email) == email)
    ).all()
    hashed_scopes = set(
        db.session.scalars(select(Suppression.scope).where(Suppression.email == hashed))
    )
    for entry in entries:
        if entry.scope in hashed_scopes:
            db.session.delete(entry)
            continue
        entry.email = hashed
        entry.detail = mention.sub("[erased]", entry.detail) if entry.detail else entry.detail
        hashed_scopes.add(entry.scope)
    db.session.flush()
    return len(entries)
