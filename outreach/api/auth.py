"""Who is calling: bearer tokens for the API's write endpoints.

Only the ``Authorization: Bearer <secret>`` header counts. The session
cookie of a logged-in browser is never looked at here, so a page on another
site cannot make a visitor's browser write through the API (which is exempt
from CSRF protection for exactly that reason).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import request
from flask_babel import gettext as _

from outreach.models import User
from outreach.services.api_tokens import user_for_token

REALM = 'Bearer realm="outreach-api"'


class Unauthenticated(Exception):
    """No usable bearer token: answered with 401 and a ``WWW-Authenticate`` challenge."""

    def __init__(self, message: str, *, invalid_token: bool):
        super().__init__(message)
        self.message = message
        # RFC 6750: a token that was sent but does not work is an "invalid_token".
        self.challenge = REALM + (', error="invalid_token"' if invalid_token else "")


def bearer_secret(header: str | None) -> str | None:
    """Return the secret of an ``Authorization: Bearer …`` header, or None."""
    scheme, _space, secret = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return secret.strip() or None


def authenticated_user() -> User:
    """Return the user whose token came with the request; raise Unauthenticated otherwise."""
    secret = bearer_secret(request.headers.get("Authorization"))
    if secret is None:
        raise Unauthenticated(
            _("Please send an API token: Authorization: Bearer <token>."), invalid_token=False
        )
    user = user_for_token(secret)
    if user is None:
        raise Unauthenticated(
            _("This API token is unknown, revoked, or its account is deactivated."),
            invalid_token=True,
        )
    return user


def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Let only requests with a working token through; the view gets its ``user`` keyword."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any):
        return view(*args, user=authenticated_user(), **kwargs)

    return guarded
