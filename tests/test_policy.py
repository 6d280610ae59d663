"""Access policy: staff see everything, partner users only their own events."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

from outreach.extensions import db
from outreach.models import EventStatus, Role
from outreach.policy import (
    can_check_in,
    can_edit,
    can_message_registrants,
    can_review,
    can_see_registrations,
    is_staff,
    staff_required,
)
from outreach.services.users import create_user

PASSWORD = "correct horse battery"


@pytest.fixture
def people(app, make_org, make_event):
    host, co_host, other = make_org(), make_org(), make_org()
    event = make_event(hosts=[host, co_host])

    def user(email: str, role: Role, org=None):
        return create_user(
            email=email, role=role, password=PASSWORD, org_slug=org.slug if org else None
        )

    return {
        "event": event,
        "staff": user("staff@example.org", Role.STAFF),
        "host": user("host@example.org", Role.PARTNER, host),
        "co_host": user("co@example.org", Role.PARTNER, co_host),
        "other": user("other@example.org", Role.PARTNER, other),
        "anonymous": AnonymousUserMixin(),
    }


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("staff", True),
        ("host", True),
        ("co_host", True),
        ("other", False),
        ("anonymous", False),
    ],
)
def test_who_may_edit_a_draft_and_see_registrations(people, who, allowed):
    user, event = people[who], people["event"]
    event.status = EventStatus.DRAFT

    assert can_edit(user, event) is allowed
    assert can_see_registrations(user, event) is allowed


def test_hosts_edit_drafts_only_and_nobody_edits_a_cancelled_event(people):
    event, host, staff = people["event"], people["host"], people["staff"]

    assert event.status is EventStatus.PUBLISHED
    assert not can_edit(host, event) and can_edit(staff, event)
    assert can_check_in(host, event) and can_message_registrants(host, event)
    assert not can_review(host, event) and not can_check_in(people["other"], event)
    event.status = EventStatus.CANCELLED
    assert not can_edit(staff, event) and not can_check_in(host, event)


def test_only_staff_is_staff(people):
    assert is_staff(people["staff"])
    assert not any(is_staff(people[who]) for who in ("host", "other", "anonymous"))
    assert not is_staff(None)


def test_deactivated_users_lose_every_right(people):
    staff, host, event = people["staff"], people["host"], people["event"]
    staff.is_active = host.is_active = False
    db.session.commit()

    assert not is_staff(staff)
    event.status = EventStatus.DRAFT
    assert not can_edit(staff, event) and not can_edit(host, event)
    assert not can_see_registrations(host, event)


def test_staff_required_sends_anonymous_to_login_and_refuses_partners(app, people):
    app.add_url_rule("/staff-only", "staff_only", staff_required(lambda: "secret"))
    client = app.test_client()

    anonymous = client.get("/staff-only")
    client.post("/login", data={"email": "host@example.org", "password": PASSWORD})
    partner = client.get("/staff-only")
    client.post("/logout")
    client.post("/login", data={"email": "staff@example.org", "password": PASSWORD})
    staff = client.get("/staff-only")

    assert anonymous.status_code == 302
    assert anonymous.headers["Location"] == "/login?next=%2Fstaff-only"
    assert partner.status_code == 403
    assert (staff.status_code, staff.get_data(as_text=True)) == (200, "secret")
