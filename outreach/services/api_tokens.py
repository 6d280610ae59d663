"""Bearer tokens for the JSON API: issued to a user, shown once, stored as a hash.

A token acts as its user: it stops working when it is revoked or when the
user is deactivated. Only the SHA-256 of the secret is kept, so a copy of
the database lets nobody act as anybody. Creation and revocation land in
the audit log.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload

from outreach.database import begin_write
from outreach.extensions import db
from outreach.models import ApiToken, Role, User, utcnow
from outreach.services import audit
from outreach.services.errors import DomainError, InvalidInput
from outreach.services.registration_input import clean_email, has_control_characters

log = logging.getLogger(__name__)

PREFIX = "otk_"
SECRET_BYTES = 32
# PREFIX + token_urlsafe(32): 4 + 43 characters; anything else is no token of ours.
SECRET_PATTERN = re.compile(r"otk_[A-Za-z0-9_-]{43}")
MAX_NAME_LENGTH = 100
MAX_ACTIVE_TOKENS = 20
# Remember a token's use at most once a minute, not with every request.
LAST_USED_PRECISION = timedelta(minutes=1)
# Ids beyond a database integer are no token's; PostgreSQL would refuse to compare them.
MAX_ID = 2**31 - 1


class TokenNotAllowed(DomainError):
    default_message = _l("Only active staff and partner users can have API tokens.")


class TokenNotFound(DomainError):
    default_message = _l("There is no such API token.")


def hash_secret(secret: str) -> str:
    """Return the SHA-256 (hex) under which a token's secret is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _clean_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput({"name": _("Please give the token a name.")})
    name = " ".join(name.split())
    if has_control_characters(name):
        raise InvalidInput({"name": _("The name contains characters we cannot use.")})
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput({"name": _("Please use at most %(n)d characters.", n=MAX_NAME_LENGTH)})
    return name


def _may_hold_tokens(user: User) -> bool:
    if not user.is_active:
        return False
    return user.role is Role.STAFF or (
        user.role is Role.PARTNER and user.organisation_id is not None
    )


def create_token(user: User, name: str, *, now: datetime | None = None) -> tuple[ApiToken, str]:
    """Issue a token named ``name`` to ``user``; return it and its secret; commits.

    The secret exists only in the return value: show it once, it cannot be
    read again. Raises InvalidInput (name, too many tokens) or TokenNotAllowed.
    """
    name = _clean_name(name)
    if not _may_hold_tokens(user):
        raise TokenNotAllowed()
    if len(tokens_of(user)) >= MAX_ACTIVE_TOKENS:
        raise InvalidInput(
            {
                "name": _(
                    "You have %(n)d active tokens already: please revoke one you no longer use.",
                    n=MAX_ACTIVE_TOKENS,
                )
            }
        )
    secret = PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    try:
        token = ApiToken(
            user_id=user.id, name=name, token_hash=hash_secret(secret), created_at=now or utcnow()
        )
        db.session.add(token)
        db.session.flush()
        audit.record("api_token.created", token, actor=user, changes={"name": [None, name]})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return token, secret


def user_for_token(secret: object, *, now: datetime | None = None) -> User | None:
    """Return the active user a token's secret stands for, or None.

    Unknown, malformed and revoked tokens, and tokens of deactivated users,
    are None alike. The lookup is by hash, so the time it takes says nothing
    about how close a guess came.
    """
    if not isinstance(secret, str) or not SECRET_PATTERN.fullmatch(secret):
        return None
    token = db.session.scalar(
        select(ApiToken)
        .options(joinedload(ApiToken.user))
        .where(ApiToken.token_hash == hash_secret(secret))
    )
    if token is None or not token.is_active:
        return None
    _note_use(token, now or utcnow())
    return token.user


def _note_use(token: ApiToken, now: datetime) -> None:
    """Set ``last_used_at`` when it is older than a minute; a failure refuses nobody."""
    cutoff = now - LAST_USED_PRECISION
    if token.last_used_at is not None and token.last_used_at > cutoff:
        return
    try:
        begin_write()
        db.session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token.id,
                or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= cutoff),
            )
            .values(last_used_at=now)
        )
        db.session.commit()
    except OperationalError:
        # A busy database must not turn a valid token away; the next use tries again.
        db.session.rollback()
        log.warning("Could not record the use of API token %s", token.id, exc_info=True)


def revoke_token(token: ApiToken, *, by: User | None, now: datetime | None = None) -> ApiToken:
    """Stop ``token`` from working; revoking twice is harmless; commits.

    ``by`` is the user who revokes it (None: an operator on the command line).
    """
    if token.revoked_at is not None:
        return token
    try:
        token.revoked_at = now or utcnow()
        audit.record("api_token.revoked", token, actor=by, changes={"name": [token.name, None]})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return token


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens that are not revoked, newest first."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def token_of(user: User, token_id: int) -> ApiToken | None:
    """The user's own not-revoked token with ``token_id``; another's is None, as if unknown."""
    if not 0 < token_id <= MAX_ID:
        return None
    return db.session.scalar(
        select(ApiToken).where(
            ApiToken.id == token_id,
            ApiToken.user_id == user.id,
            ApiToken.revoked_at.is_(None),
        )
    )


def token_by_id(token_id: int) -> ApiToken:
    """Any token by its id (for operators); raises TokenNotFound."""
    token = db.session.get(ApiToken, token_id) if 0 < token_id <= MAX_ID else None
    if token is None:
        raise TokenNotFound()
    return token


def user_with_email(email: str) -> User | None:
    """The user whose login is ``email`` (any spelling of it), or None."""
    try:
        email = clean_email(email)
    except ValueError:
        return None
    return db.session.scalar(select(User).where(User.email == email))
