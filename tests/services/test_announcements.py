"""Announcements: one message, queued once per person in the audience, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from outreach.extensions import db
from outreach.models import Audience, EventStatus, MessageKind, utcnow
from outreach.services import audit
from outreach.services.announcements import (
    AlreadyAnnounced,
    NotAnnounceable,
    announce,
    announcements_for,
    audience_sizes,
    check_message,
)
from outreach.services.errors import InvalidInput
from outreach.services.tokens import registration_for_token


@pytest.fixture
def event(make_event, make_registration):
    event = make_event(capacity=2)
    make_registration(event, email="one@example.org")
    make_registration(event, email="two@example.org")
    make_registration(event, email="waiting@example.org")
    return event


def test_each_confirmed_person_gets_the_message_with_their_own_link(event, make_user, outbox):
    staff = make_user("staff")

    sent = announce(event, by=staff, subject="Raumänderung", body="Wir sind im Saal 2.")

    messages = outbox(kind=MessageKind.ANNOUNCEMENT)
    assert sent.recipients == 2
    assert sorted(m.recipient for m in messages) == ["one@example.org", "two@example.org"]
    assert all(m.payload["announcement"] == sent.id for m in messages)
    for message in messages:
        registration = registration_for_token(message.payload["token"], grace_days=30)
        assert registration is not None and registration.email == message.recipient
    [entry] = [e for e in audit.entries_for(event) if e.action == "event.announcement_sent"]
    assert entry.comment == "Raumänderung" and entry.changes["recipients"] == [None, 2]


def test_the_audience_decides_who_gets_it(event, make_user, outbox):
    staff = make_user("staff")

    assert audience_sizes(event) == {
        Audience.CONFIRMED: 2,
        Audience.WAITLISTED: 1,
        Audience.ACTIVE: 3,
    }
    announce(event, by=staff, subject="Warteliste", body="Noch Geduld", audience="waitlisted")
    announce(event, by=staff, subject="Alle", body="Hallo", audience=Audience.ACTIVE)

    assert [m.recipient for m in outbox(kind=MessageKind.ANNOUNCEMENT)][:1] == [
        "waiting@example.org"
    ]
    assert len(outbox(kind=MessageKind.ANNOUNCEMENT)) == 4
    assert [a.subject for a in announcements_for(event)] == ["Alle", "Warteliste"]


def test_bad_input_names_each_field_and_queues_nothing(event, make_user, outbox):
    with pytest.raises(InvalidInput) as refused:
        announce(event, by=make_user("staff"), subject="Zwei\nZeilen", body=" ", audience="all")

    assert set(refused.value.errors) == {"subject", "body", "audience"}
    assert outbox(kind=MessageKind.ANNOUNCEMENT) == []
    assert announcements_for(event) == []


def test_check_message_tidies_the_subject():
    assert check_message("  Neuer   Raum ", " Saal 2 \n", "confirmed") == (
        "Neuer Raum",
        "Saal 2",
        Audience.CONFIRMED,
    )


def test_an_empty_audience_is_refused(make_event, make_registration, make_user, outbox):
    event = make_event(capacity=5)
    make_registration(event)

    with pytest.raises(InvalidInput) as refused:
        announce(event, by=make_user("staff"), subject="S", body="B", audience="waitlisted")

    assert "audience" in refused.value.errors
    assert announcements_for(event) == []


def test_the_same_message_twice_in_a_row_is_sent_once(event, make_user, outbox):
    staff = make_user("staff")
    now = utcnow()
    announce(event, by=staff, subject="Raum", body="Saal 2", now=now)

    with pytest.raises(AlreadyAnnounced):
        announce(event, by=staff, subject="Raum", body="Saal 2", now=now + timedelta(seconds=3))

    assert len(outbox(kind=MessageKind.ANNOUNCEMENT)) == 2
    announce(event, by=staff, subject="Raum", body="Saal 2", now=now + timedelta(minutes=11))
    assert len(outbox(kind=MessageKind.ANNOUNCEMENT)) == 4


def test_only_hosts_and_staff_write_and_only_for_published_events(event, make_user, outbox):
    with pytest.raises(NotAnnounceable):
        announce(event, by=make_user("partner"), subject="S", body="B")
    host = make_user("partner", org=event.hosts[0])
    assert announce(event, by=host, subject="S", body="B").recipients == 2

    event.status = EventStatus.CANCELLED
    db.session.commit()
    with pytest.raises(NotAnnounceable):
        announce(event, by=host, subject="Other", body="B")
    assert len(outbox(kind=MessageKind.ANNOUNCEMENT)) == 2
