"""The staff workspace under /staff/: the blueprint, its guard and its pages' addresses.

The views live in modules by subject (events, people, mail); this module
defines the blueprint and gives each view its address and endpoint name.
Every page here is for staff only: others log in first or get 403.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from outreach.policy import staff_required
from outreach.services import dashboard as dashboard_service
from outreach.staff import events, labels, mail, people

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.before_request
@staff_required
def staff_only() -> None:
    """Let only staff in: the guard runs before every view of the blueprint."""
    return None


@bp.context_processor
def staff_helpers() -> dict[str, Any]:
    return {"labels": labels}


@bp.get("/")
def dashboard():
    return render_template("staff/dashboard.html", overview=dashboard_service.overview())


_ROUTES: list[tuple[str, str, Any, tuple[str, ...]]] = [
    # (rule, endpoint, view, methods)
    ("/events", "events", events.event_list, ("GET",)),
    ("/events/new", "new_event", events.new_event, ("GET", "POST")),
    ("/events/<int:event_id>", "event", events.event_page, ("GET",)),
    ("/events/<int:event_id>/edit", "edit_event", events.edit_event, ("GET", "POST")),
    ("/events/<int:event_id>/publish", "publish_event", events.publish_event, ("POST",)),
    (
        "/events/<int:event_id>/request-changes",
        "request_changes",
        events.request_changes,
        ("POST",),
    ),
    ("/events/<int:event_id>/cancel", "cancel_event", events.cancel_event, ("GET", "POST")),
    ("/organisations", "organisations", people.organisations, ("GET",)),
    ("/organisations/new", "new_organisation", people.new_organisation, ("GET", "POST")),
    ("/organisations/<int:org_id>", "organisation", people.organisation, ("GET",)),
    ("/organisations/<int:org_id>/invite", "invite_user", people.invite_user, ("POST",)),
    ("/users", "users", people.users, ("GET",)),
    (
        "/users/<int:user_id>/deactivate",
        "deactivate_user",
        people.deactivate_user,
        ("GET", "POST"),
    ),
    ("/users/<int:user_id>/activate", "activate_user", people.activate_user, ("POST",)),
    ("/mail", "mail_queue", mail.mail_queue, ("GET",)),
    ("/mail.json", "mail_queue_json", mail.mail_queue_json, ("GET",)),
    ("/mail/<int:message_id>/retry", "retry_message", mail.retry_message, ("POST",)),
    ("/mail/retry-failed", "retry_all_failed", mail.retry_all_failed, ("POST",)),
]

for _rule, _endpoint, _view, _methods in _ROUTES:
    bp.add_url_rule(_rule, _endpoint, _view, methods=list(_methods))
