"""Who may do what: every access check in the application goes through here."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user

from outreach.extensions import login_manager
from outreach.models import Event, Role


def _signed_in(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_staff(user: Any) -> bool:
    """Return whether ``user`` is a logged-in, active staff member."""
    return _signed_in(user) and user.role is Role.STAFF


def _hosts(user: Any, event: Event) -> bool:
    """Return whether ``user`` is an active partner user of one of the event's hosts."""
    if not _signed_in(user) or user.role is not Role.PARTNER or user.organisation_id is None:
        return False
    return any(host.id == user.organisation_id for host in event.hosts)


def can_edit(user: Any, event: Event) -> bool:
    """Return whether ``user`` may change ``event``: staff, or a partner user of a host."""
    return is_staff(user) or _hosts(user, event)


def can_see_registrations(user: Any, event: Event) -> bool:
    """Return whether ``user`` may see who registered for ``event``."""
    return is_staff(user) or _hosts(user, event)


def staff_required(view: Callable) -> Callable:
    """Let only staff through: others log in first, or get 403 if they are logged in."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not is_staff(current_user):
            abort(403)
        return view(*args, **kwargs)

    return guarded
