"""Creating staff and partner accounts, and checking their passwords."""

from __future__ import annotations

import secrets
from functools import cache

from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from outreach.extensions import db
from outreach.models import Organisation, Role, User
from outreach.models.users import password_hash_method
from outreach.services.errors import InvalidInput
from outreach.services.registration_input import (
    MAX_NAME_LENGTH,
    clean_email,
    has_unsafe_name_characters,
)

MIN_PASSWORD_LENGTH = 10


def create_user(
    *,
    email: str,
    role: Role,
    password: str,
    org_slug: str | None = None,
    name: str = "",
    commit: bool = True,
) -> User:
    """Create a user; partner users must belong to an existing organisation.

    With ``commit=False`` the user is only flushed, for a caller that writes
    more in the same transaction.
    """
    errors: dict[str, str] = {}
    try:
        email = clean_email(email)
    except ValueError as problem:
        errors["email"] = str(problem)
    else:
        if db.session.scalar(select(User.id).where(User.email == email)):
            errors["email"] = _("A user with this email address exists already.")
    # The name goes into mail headers: checked before spaces collapse a line break away.
    name = name if isinstance(name, str) else ""
    if has_unsafe_name_characters(name.strip()):
        errors["name"] = _("The name contains characters we cannot use.")
    name = " ".join(name.split())
    if len(name) > MAX_NAME_LENGTH:
        errors["name"] = _("Please use at most %(n)d characters.", n=MAX_NAME_LENGTH)
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = _("Please use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
    organisation = None
    if org_slug:
        organisation = db.session.scalar(select(Organisation).where(Organisation.slug == org_slug))
        if organisation is None:
            errors["org"] = _("There is no organisation %(slug)s.", slug=org_slug)
    elif role is Role.PARTNER:
        errors["org"] = _("Partner users belong to an organisation: give --org.")
    if errors:
        raise InvalidInput(errors)

    user = User(email=email, role=role, name=name, organisation=organisation)
    user.set_password(password)
    db.session.add(user)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return user


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not anybody's password", method=method)


def authenticate(email: str, password: str) -> User | None:
    """Return the active user with this email and password, or None.

    An unknown address costs as much time as a wrong password (a hash is
    checked either way), so timing does not tell which addresses have accounts.
    """
    try:
        email = clean_email(email)
    except ValueError:
        email = ""
    user = db.session.scalar(select(User).where(User.email == email)) if email else None
    if user is None:
        check_password_hash(_dummy_hash(password_hash_method()), password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    return user


def user_by_id(session_id: str) -> User | None:
    """Return the active user behind a session's id (``User.get_id``), or None.

    A session from before the latest password change names an old
    fingerprint and finds nobody.
    """
    user_id, _, fingerprint = str(session_id).partition(":")
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    if user is None or not user.is_active:
        return None
    if not secrets.compare_digest(user.password_fingerprint, fingerprint):
        return None
    return user
