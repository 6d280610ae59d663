"""Checking people in: signed codes, idempotent marks, undo, and counts that follow."""

from __future__ import annotations

from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer

from outreach.extensions import db
from outreach.models import EventStatus, utcnow
from outreach.services import audit
from outreach.services.checkin import (
    CheckInClosed,
    NotCheckedIn,
    check_in,
    check_in_counts,
    check_in_token,
    check_in_url,
    qr_png,
    qr_svg,
    registration_for_check_in_token,
    undo_check_in,
)


@pytest.fixture
def staff(make_user):
    return make_user("staff")


def test_a_check_in_token_names_its_registration_and_cannot_be_forged(
    make_event, make_registration
):
    registration = make_registration(make_event()).registration
    token = check_in_token(registration)

    assert registration_for_check_in_token(token) is registration
    assert check_in_url(registration) == f"http://outreach.test/check-in/scan/{token}"
    assert registration_for_check_in_token(token[:-2] + "xx") is None
    assert registration_for_check_in_token("") is None
    assert registration_for_check_in_token("not.a.token") is None


def test_a_token_does_not_work_for_another_event(app, make_event, make_registration):
    registration = make_registration(make_event()).registration
    other = make_event()
    forged = URLSafeSerializer(app.config["SECRET_KEY"], salt="outreach.check-in").dumps(
        [registration.id, other.id]
    )

    assert registration_for_check_in_token(forged) is None


def test_checking_in_twice_marks_the_person_once(make_event, make_registration, staff):
    registration = make_registration(make_event()).registration
    at = utcnow().replace(microsecond=0)

    assert check_in(registration, by=staff, now=at) is True
    assert check_in(registration, by=staff, now=at + timedelta(minutes=5)) is False

    db.session.refresh(registration)
    assert registration.checked_in_at == at and registration.checked_in_by_id == staff.id
    actions = [entry.action for entry in audit.entries_for(registration)]
    assert actions.count("registration.checked_in") == 1


def test_counts_follow_check_ins_and_undo(make_event, make_registration, staff):
    event = make_event(capacity=10, max_guests=3)
    first = make_registration(event, guests=2).registration
    make_registration(event, guests=1)
    make_registration(event)

    assert check_in_counts(event).as_dict() == {
        "confirmed": 3,
        "checked_in": 0,
        "missing": 3,
        "guests_expected": 3,
        "guests_arrived": 0,
    }

    check_in(first, by=staff)
    after = check_in_counts(event)
    assert (after.checked_in, after.missing, after.guests_arrived) == (1, 2, 2)

    assert undo_check_in(first, by=staff) is True
    assert undo_check_in(first, by=staff) is False
    assert check_in_counts(event).checked_in == 0
    db.session.refresh(first)
    assert first.checked_in_at is None and first.checked_in_by_id is None
    assert [entry.action for entry in audit.entries_for(first)][:2] == [
        "registration.check_in_undone",
        "registration.checked_in",
    ]


def test_someone_on_the_waitlist_cannot_be_checked_in(make_event, make_registration, staff):
    event = make_event(capacity=1)
    make_registration(event)
    waiting = make_registration(event).registration

    with pytest.raises(NotCheckedIn):
        check_in(waiting, by=staff)

    db.session.refresh(waiting)
    assert waiting.checked_in_at is None
    assert audit.entries_for(waiting) == []
    assert check_in_counts(event).checked_in == 0


def test_check_in_needs_a_published_event_and_a_host_or_staff(
    make_event, make_registration, make_user, make_org
):
    host = make_org()
    event = make_event(hosts=[host])
    registration = make_registration(event).registration
    outsider = make_user("partner")

    with pytest.raises(CheckInClosed):
        check_in(registration, by=outsider)
    assert check_in(registration, by=make_user("partner", org=host)) is True

    event.status = EventStatus.CANCELLED
    db.session.commit()
    with pytest.raises(CheckInClosed):
        undo_check_in(registration, by=make_user("staff"))
    db.session.refresh(registration)
    assert registration.checked_in_at is not None


def test_the_qr_code_comes_as_a_named_svg_and_as_a_png():
    svg = qr_svg("http://outreach.test/check-in/scan/abc", title="Ihr Code")

    assert svg.startswith('<svg role="img" ')
    assert "<title>Ihr Code</title>" in svg
    assert 'width="' not in svg.split(">", 1)[0]
    assert qr_png("http://outreach.test/check-in/scan/abc").startswith(b"\x89PNG\r\n\x1a\n")
