"""Who may do what: every access check in the application goes through here.

Staff may do everything. A partner user acts for one organisation and sees
an event only when that organisation hosts it; they may edit it while it is
a draft, and once it is published see, export, message and check in its
registrants. Views ask these functions and never check roles themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user

from outreach.extensions import login_manager
from outreach.models import Event, EventStatus, Organisation, Role


def _signed_in(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_staff(user: Any) -> bool:
    """Return whether ``user`` is a logged-in, active staff member."""
    return _signed_in(user) and user.role is Role.STAFF


def is_partner(user: Any) -> bool:
    """Return whether ``user`` is a logged-in, active partner user with an organisation."""
    return _signed_in(user) and user.role is Role.PARTNER and user.organisation_id is not None


def _hosts(user: Any, event: Event) -> bool:
    """Return whether ``user`` is an active partner user of one of the event's hosts."""
    if not is_partner(user):
        return False
    return any(host.id == user.organisation_id for host in event.hosts)


def can_view(user: Any, event: Event) -> bool:
    """Return whether ``user`` may open ``event`` in a workspace, whatever its state."""
    return is_staff(user) or _hosts(user, event)


def can_edit(user: Any, event: Event) -> bool:
    """Return whether ``user`` may change ``event``: staff until cancelled, hosts while a draft."""
    if event.status is EventStatus.CANCELLED:
        return False
    return is_staff(user) or (_hosts(user, event) and event.status is EventStatus.DRAFT)


def can_submit(user: Any, event: Event) -> bool:
    """Return whether ``user`` may send the draft ``event`` to staff for review."""
    return event.status is EventStatus.DRAFT and (is_staff(user) or _hosts(user, event))


def can_review(user: Any, event: Event) -> bool:
    """Return whether ``user`` may publish ``event`` or send it back with a comment."""
    return is_staff(user) and event.status in (EventStatus.DRAFT, EventStatus.SUBMITTED)


def can_see_registrations(user: Any, event: Event) -> bool:
    """Return whether ``user`` may see who registered for ``event``."""
    return is_staff(user) or _hosts(user, event)


def can_message_registrants(user: Any, event: Event) -> bool:
    """Return whether ``user`` may write to the people registered for ``event``."""
    return event.status is EventStatus.PUBLISHED and can_see_registrations(user, event)


def can_check_in(user: Any, event: Event) -> bool:
    """Return whether ``user`` may check people in at ``event`` (published ones only)."""
    return event.status is EventStatus.PUBLISHED and can_see_registrations(user, event)


def can_manage_registrations(user: Any, event: Event) -> bool:
    """Return whether ``user`` may move people off the waitlist or cancel for them."""
    return is_staff(user)


def can_edit_organisation(user: Any, organisation: Organisation) -> bool:
    """Return whether ``user`` may change the organisation's profile: staff, or its own users."""
    return is_staff(user) or (is_partner(user) and user.organisation_id == organisation.id)


def _guard(allowed: Callable[[Any], bool]) -> Callable[[Callable], Callable]:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not allowed(current_user):
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorator


#: Let only staff through: others log in first, or get 403 if they are logged in.
staff_required = _guard(is_staff)
#: Let only partner users through (staff have their own workspace).
partner_required = _guard(is_partner)
#: Let any signed-in workspace user through: staff or a partner user.
member_required = _guard(lambda user: is_staff(user) or is_partner(user))
