"""Emailed links that let a person set a password: a reset, or an invitation to join.

No table holds them: a link is a signed token (itsdangerous) naming the user
and a fingerprint of their current password hash. Setting a password changes
the hash, so each link works once; the signature's timestamp makes it expire
(PASSWORD_RESET_MAX_AGE, INVITATION_MAX_AGE). Each purpose has its own salt,
so an invitation link is no reset link and the other way round.

Invited users are created active with an unusable random password: nobody
can log in as them until they set one from the link. Deactivating such a
user (or any user) makes their links stop working.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import select

from outreach.extensions import db
from outreach.i18n import select_locale
from outreach.mail.outbox import enqueue
from outreach.models import MessageKind, Role, User, utcnow
from outreach.services.errors import DomainError, InvalidInput
from outreach.services.registration_input import clean_email
from outreach.services.users import MIN_PASSWORD_LENGTH, create_user

RESET = "password-reset"
INVITATION = "user-invitation"
_MAX_AGE_SETTING = {RESET: "PASSWORD_RESET_MAX_AGE", INVITATION: "INVITATION_MAX_AGE"}
# At most one reset mail per user in each window of this many seconds.
RESET_MAIL_WINDOW = 600


class LinkInvalid(DomainError):
    """The link is forged, expired, used already, or its user is gone or deactivated."""

    default_message = _l("This link is not valid any more.")


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"outreach.{purpose}")


def password_fingerprint(user: User) -> str:
    """Changes whenever the password does: what makes a link single use."""
    return user.password_fingerprint


def issue_link_token(user: User, purpose: str) -> str:
    return _serializer(purpose).dumps({"u": user.id, "p": password_fingerprint(user)})


def verify_link_token(token: str, purpose: str) -> User | None:
    """Return the active user the link is for, or None if it is bad, expired or used."""
    max_age = current_app.config[_MAX_AGE_SETTING[purpose]]
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
        user_id, fingerprint = int(data["u"]), str(data["p"])
    except (BadData, KeyError, TypeError, ValueError):
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    if not secrets.compare_digest(password_fingerprint(user), fingerprint):
        return None
    return user


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            {"password": _("Please use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)}
        )


def _set_password(token: str, purpose: str, password: str) -> User:
    user = verify_link_token(token, purpose)
    if user is None:
        raise LinkInvalid()
    _check_password(password)
    user.set_password(password)
    db.session.commit()
    return user


# -- password reset -------------------------------------------------------------


def request_password_reset(email: str, *, now: datetime | None = None) -> None:
    """Owe the active user with this address a reset link; do nothing otherwise.

    The caller cannot tell which happened. One mail per user per window
    (RESET_MAIL_WINDOW), however often someone asks. Commits.
    """
    try:
        email = clean_email(email)
    except ValueError:
        return
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None or not user.is_active:
        return
    bucket = int((now or utcnow()).timestamp()) // RESET_MAIL_WINDOW
    enqueue(
        MessageKind.PASSWORD_RESET,
        recipient=user.email,
        recipient_name=user.name,
        language=select_locale(),
        dedupe_key=f"password_reset:{user.id}:{bucket}",
        payload={"token": issue_link_token(user, RESET)},
    )
    db.session.commit()


def reset_password(token: str, new_password: str) -> User:
    """Set the password from a reset link. Raises LinkInvalid or InvalidInput."""
    return _set_password(token, RESET, new_password)


# -- invitations ----------------------------------------------------------------


def invite_partner_user(
    email: str,
    org_slug: str,
    name: str = "",
    invited_by: User | None = None,
    *,
    language: str | None = None,
    welcome: bool = False,
) -> User:
    """Create a partner user of ``org_slug`` and owe them a link to set their password.

    With ``welcome`` the invitation also welcomes their organisation as a new
    partner (after an accepted application).

    The user is active but has a random password nobody knows. Raises
    InvalidInput (bad or taken address, unknown organisation). Commits.
    """
    try:
        user = create_user(
            email=email,
            role=Role.PARTNER,
            password=secrets.token_urlsafe(32),
            org_slug=org_slug or None,
            name=name,
            commit=False,
        )
        payload: dict[str, Any] = {"token": issue_link_token(user, INVITATION)}
        if invited_by is not None:
            payload["invited_by"] = invited_by.name or invited_by.email
        if welcome:
            payload["application"] = True
        enqueue(
            MessageKind.USER_INVITATION,
            recipient=user.email,
            recipient_name=user.name,
            language=language or select_locale(),
            dedupe_key=f"user_invitation:{user.id}:{password_fingerprint(user)}",
            payload=payload,
        )
        # The user and the mail that lets them in are written together, or neither.
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return user


def accept_invitation(token: str, password: str) -> User:
    """Set the invited user's first password. Raises LinkInvalid or InvalidInput."""
    return _set_password(token, INVITATION, password)
