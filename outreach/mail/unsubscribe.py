"""Signed links that let a person stop bulk mail, or choose what they get, without an account.

An unsubscribe token names an address and the kind of bulk mail to stop
(``SuppressionScope.OUTREACH`` or ``NEWSLETTER``); a preferences token names
an address alone. Both are signed with SECRET_KEY (itsdangerous, each with
its own salt, so one is never the other) and do not expire: a link in a
newsletter from two years ago must still work. Nothing is stored; the
signature is what makes them unguessable, and the library compares it in
constant time.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

from outreach.models import SuppressionScope

UNSUBSCRIBE_SALT = "outreach.unsubscribe"
PREFERENCES_SALT = "outreach.mail-preferences"
# The kinds of bulk mail a person can stop with one click.
BULK_SCOPES = (SuppressionScope.OUTREACH, SuppressionScope.NEWSLETTER)
# Longer than any token for a 254-character address: anything longer is not ours.
MAX_TOKEN_LENGTH = 1000


def _serializer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _base_url() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def unsubscribe_token(email: str, scope: SuppressionScope) -> str:
    """The token of the link that stops ``scope`` bulk mail to ``email``."""
    if scope not in BULK_SCOPES:
        raise ValueError(f"no unsubscribe link for scope {scope!r}")
    return _serializer(UNSUBSCRIBE_SALT).dumps([email.lower(), scope.value])


def unsubscribe_url(email: str, scope: SuppressionScope) -> str:
    """``{BASE_URL}/unsubscribe/<token>``: a page with one button, and the one-click POST."""
    return f"{_base_url()}/unsubscribe/{quote(unsubscribe_token(email, scope), safe='')}"


def preferences_token(email: str) -> str:
    """The token of the page where ``email`` chooses what bulk mail to get."""
    return _serializer(PREFERENCES_SALT).dumps(email.lower())


def preferences_url(email: str) -> str:
    """``{BASE_URL}/preferences/<token>``."""
    return f"{_base_url()}/preferences/{quote(preferences_token(email), safe='')}"


def read_unsubscribe_token(token: str) -> tuple[str, SuppressionScope] | None:
    """The address and scope a token names, or None if it is not one we signed."""
    data = _load(token, UNSUBSCRIBE_SALT)
    if not isinstance(data, list) or len(data) != 2:
        return None
    email, scope = data
    if not isinstance(email, str) or "@" not in email or scope not in BULK_SCOPES:
        return None
    return email, SuppressionScope(scope)


def read_preferences_token(token: str) -> str | None:
    """The address a preferences token names, or None if it is not one we signed."""
    email = _load(token, PREFERENCES_SALT)
    return email if isinstance(email, str) and "@" in email else None


def _load(token: str, salt: str) -> object:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        return _serializer(salt).loads(token)
    except (BadData, UnicodeError, ValueError):
        return None
