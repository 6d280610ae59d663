"""Private manage links: random tokens whose hashes alone are stored."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from outreach.extensions import db
from outreach.models import ManageToken, Registration, utcnow

TOKEN_BYTES = 32
# token_urlsafe(32) gives 43 characters; accept a little slack, nothing odd.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{40,64}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def issue_token(registration: Registration) -> str:
    """Create a new manage token for ``registration`` and return it in the clear."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    registration.tokens.append(ManageToken(token_hash=hash_token(token)))
    return token


def registration_for_token(token: str, *, grace_days: int) -> Registration | None:
    """Return the registration a token opens, or None if it is unknown or expired.

    The lookup is by hash: timing differences reveal nothing about the token.
    A link stops working ``grace_days`` after the event has ended.
    """
    # fullmatch: "$" alone would let a trailing newline through.
    if not isinstance(token, str) or not TOKEN_PATTERN.fullmatch(token):
        return None
    registration = db.session.scalar(
        select(Registration)
        .join(ManageToken)
        .where(ManageToken.token_hash == hash_token(token))
        .options(joinedload(Registration.event))
    )
    if registration is None:
        return None
    if registration.event.ends_at + timedelta(days=grace_days) < utcnow():
        return None
    return registration
