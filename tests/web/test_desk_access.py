"""Who reaches which desk route: staff, the event's hosts, and nobody else.

Every route is tried as anonymous, staff, a partner of the lead host, a
partner of the co-host and a partner of an unrelated organisation. The
outsider gets 404 everywhere (the event's existence stays hidden) and
changes nothing; hosts get 403 only on the staff actions of an event they
can see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.models import (
    Announcement,
    AuditEntry,
    EventStatus,
    Organisation,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    User,
)
from outreach.services.checkin import check_in_token

ROLES = ("anonymous", "staff", "host", "co_host", "other")


@dataclass
class Desk:
    event_id: int
    confirmed_id: int
    waiting_id: int
    token: str
    orgs: dict[str, Organisation]
    make_user: Callable[..., User]

    def user(self, role: str) -> User | None:
        """A user in ``role`` (made on demand: hashing passwords is slow on purpose)."""
        if role == "anonymous":
            return None
        if role == "staff":
            return self.make_user("staff")
        return self.make_user("partner", org=self.orgs[role])


@pytest.fixture
def desk(make_org, make_user, make_event, make_registration) -> Desk:
    orgs = {"host": make_org(), "co_host": make_org(), "other": make_org()}
    event = make_event(hosts=[orgs["host"], orgs["co_host"]], capacity=1)
    confirmed = make_registration(event, name="Amina Diallo").registration
    waiting = make_registration(event, name="Bo Berg").registration
    event.capacity = 2  # a seat staff may give to Bo out of turn
    db.session.commit()
    return Desk(
        event_id=event.id,
        confirmed_id=confirmed.id,
        waiting_id=waiting.id,
        token=check_in_token(confirmed),
        orgs=orgs,
        make_user=make_user,
    )


def _base(d: Desk) -> str:
    return f"/desk/events/{d.event_id}"


ANNOUNCEMENT = {"subject": "Raum", "body": "Saal 2", "audience": "confirmed", "send": "1"}

# name: (method, url, form data, {role: status}); anonymous is always sent to the login.
ROUTES = {
    "list": ("GET", lambda d: f"{_base(d)}/registrations", None, 200),
    "csv": ("GET", lambda d: f"{_base(d)}/registrations.csv", None, 200),
    "xlsx": ("GET", lambda d: f"{_base(d)}/registrations.xlsx", None, 200),
    "promote": (
        "POST",
        lambda d: f"{_base(d)}/registrations/{d.waiting_id}/promote",
        {},
        "staff",
    ),
    "cancel-page": (
        "GET",
        lambda d: f"{_base(d)}/registrations/{d.confirmed_id}/cancel",
        None,
        "staff",
    ),
    "cancel": (
        "POST",
        lambda d: f"{_base(d)}/registrations/{d.confirmed_id}/cancel",
        {},
        "staff",
    ),
    "announce-page": ("GET", lambda d: f"{_base(d)}/announce", None, 200),
    "announce": ("POST", lambda d: f"{_base(d)}/announce", ANNOUNCEMENT, 303),
    "check-in-page": ("GET", lambda d: f"{_base(d)}/check-in?q=amina", None, 200),
    "counts": ("GET", lambda d: f"{_base(d)}/check-in/counts.json", None, 200),
    "check-in": ("POST", lambda d: f"{_base(d)}/check-in/{d.confirmed_id}", {}, 303),
    "undo": ("POST", lambda d: f"{_base(d)}/check-in/{d.confirmed_id}/undo", {}, 303),
    "scan-page": ("GET", lambda d: f"/check-in/scan/{d.token}", None, 200),
    "scan": ("POST", lambda d: f"/check-in/scan/{d.token}", {}, 303),
}


def _expected(allowed: int | str, role: str, method: str) -> int:
    if role == "other":
        return 404
    if allowed == "staff":  # the staff-only actions
        if role != "staff":
            return 403
        return 303 if method == "POST" else 200
    return allowed


def _state() -> tuple:
    db.session.rollback()
    return (
        db.session.scalar(select(func.count(AuditEntry.id))),
        db.session.scalar(select(func.count(OutboxMessage.id))),
        db.session.scalar(select(func.count(Announcement.id))),
        tuple(
            db.session.execute(
                select(Registration.id, Registration.status, Registration.checked_in_at).order_by(
                    Registration.id
                )
            )
        ),
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES)
def test_every_desk_route_lets_in_only_staff_and_hosts(client, login, desk, route, role):
    method, url, data, allowed = ROUTES[route]
    login(desk.user(role))
    before = _state()

    response = client.open(url(desk), method=method, data=data)

    if role == "anonymous":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
    else:
        assert response.status_code == _expected(allowed, role, method)
    if role in ("anonymous", "other") or response.status_code == 403:
        assert _state() == before, "a refused request must change nothing"


@pytest.mark.parametrize(
    "route", ["counts", "check-in", "undo", "scan"], ids=lambda name: f"{name}-json"
)
def test_the_outsider_gets_a_json_404_from_the_check_in_script(client, login, desk, route):
    method, url, data, _ = ROUTES[route]
    login(desk.user("other"))
    before = _state()

    response = client.open(
        url(desk), method=method, data=data, headers={"Accept": "application/json"}
    )

    assert response.status_code == 404
    assert response.is_json and response.get_json()["ok"] is False
    assert "Amina" not in response.get_data(as_text=True)
    assert _state() == before


def test_registration_ids_of_another_event_are_not_found(
    client, login, desk, make_event, make_registration
):
    elsewhere = make_event()
    stranger = make_registration(elsewhere, name="Chris Stranger").registration
    login(desk.user("staff"))
    before = _state()
    base = _base(desk)

    for method, url in [
        ("POST", f"{base}/check-in/{stranger.id}"),
        ("POST", f"{base}/check-in/{stranger.id}/undo"),
        ("POST", f"{base}/registrations/{stranger.id}/promote"),
        ("GET", f"{base}/registrations/{stranger.id}/cancel"),
        ("POST", f"{base}/registrations/{stranger.id}/cancel"),
        ("POST", f"{base}/check-in/999999"),
    ]:
        assert client.open(url, method=method).status_code == 404, url
    assert _state() == before


def test_a_host_cannot_reach_another_event_through_their_own(
    client, login, desk, make_event, make_registration
):
    """The host's own event id with someone else's registration id, and the other way round."""
    elsewhere = make_event()
    stranger = make_registration(elsewhere).registration
    login(desk.user("host"))
    before = _state()

    assert client.post(f"{_base(desk)}/check-in/{stranger.id}").status_code == 404
    assert client.post(f"/desk/events/{elsewhere.id}/check-in/{stranger.id}").status_code == 404
    assert client.get(f"/desk/events/{elsewhere.id}/registrations.csv").status_code == 404
    assert client.get(f"/check-in/scan/{check_in_token(stranger)}").status_code == 404
    assert _state() == before


@pytest.mark.parametrize("status", [EventStatus.DRAFT, EventStatus.CANCELLED])
def test_check_in_and_messages_wait_for_a_published_event(client, login, desk, status):
    event_registration = db.session.get(Registration, desk.confirmed_id)
    event_registration.event.status = status
    db.session.commit()
    login(desk.user("host"))
    base = _base(desk)

    assert client.get(f"{base}/registrations").status_code == 200
    for method, url in [
        ("GET", f"{base}/check-in"),
        ("GET", f"{base}/check-in/counts.json"),
        ("POST", f"{base}/check-in/{desk.confirmed_id}"),
        ("GET", f"/check-in/scan/{desk.token}"),
        ("POST", f"/check-in/scan/{desk.token}"),
        ("GET", f"{base}/announce"),
        ("POST", f"{base}/announce"),
    ]:
        response = client.open(url, method=method, data=ANNOUNCEMENT)
        assert response.status_code == 409, url
    assert db.session.get(Registration, desk.confirmed_id).checked_in_at is None
    assert db.session.get(Registration, desk.waiting_id).status is RegistrationStatus.WAITLISTED


def test_an_unknown_event_is_not_found(client, login, desk):
    login(desk.user("staff"))

    assert client.get("/desk/events/999999/registrations").status_code == 404
    assert client.get("/check-in/scan/garbage").status_code == 404
