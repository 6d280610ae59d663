"""``flask outreach …``: demo data and user accounts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from outreach import demo
from outreach.extensions import db
from outreach.models import (
    Event,
    EventStatus,
    Organisation,
    Registration,
    RegistrationStatus,
    Role,
    Topic,
    User,
    utcnow,
)

PASSWORD = "correct horse battery"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def seed(runner, *options):
    result = runner.invoke(args=["outreach", "seed-demo", *options])
    assert result.exit_code == 0, result.output
    return result


def new_records(result) -> int:
    return int(re.search(r"\((\d+) ", result.output).group(1))


def test_seed_demo_is_idempotent(runner):
    first = seed(runner)
    counts = {model: count(model) for model in (Organisation, Event, Topic, Registration)}

    second = seed(runner)

    assert new_records(first) > 0
    assert new_records(second) == 0
    assert counts[Organisation] == 5
    assert counts[Event] == 14
    assert {model: count(model) for model in counts} == counts


def test_demo_data_has_accounts_and_proposals_in_review(runner):
    seed(runner)

    users = {user.email: user for user in db.session.scalars(select(User))}
    statuses = {event.status for event in db.session.scalars(select(Event))}

    assert users["team@brueckenwerk.example.org"].is_staff
    assert users["partner@sahel-forum.example.org"].organisation.slug == "sahel-forum"
    assert users["partner@sahel-forum.example.org"].check_password(demo.DEMO_PASSWORD)
    assert {EventStatus.SUBMITTED, EventStatus.DRAFT, EventStatus.PUBLISHED} <= statuses


def test_demo_data_shows_every_kind_of_event(runner):
    seed(runner)
    db.session.expire_all()
    events = list(db.session.scalars(select(Event)))
    now = utcnow()

    assert sum(1 for org in db.session.scalars(select(Organisation)) if org.is_host) == 1
    assert any(event.ends_at < now for event in events)
    assert any(event.starts_at > now for event in events)
    assert any(event.is_online and not event.is_in_person for event in events)
    assert any(event.is_in_person and not event.is_online for event in events)
    assert any(event.is_hybrid for event in events)
    assert any(len(event.hosts) > 1 for event in events)
    assert any(event.questions for event in events)
    assert all({"de", "en"} <= set(event.translations) for event in events)
    waitlisted = [
        event
        for event in events
        if any(r.status is RegistrationStatus.WAITLISTED for r in event.registrations)
    ]
    assert waitlisted
    assert all(event.seats_left is not None and event.seats_left <= 1 for event in waitlisted)
    # Seeded seats never exceed capacity either.
    assert all(event.capacity is None or event.seats_taken <= event.capacity for event in events)


def test_seed_demo_if_empty_leaves_existing_events_alone(runner, make_event):
    make_event(slug="mine")

    result = seed(runner, "--if-empty")

    assert "not loaded" in result.output
    assert count(Event) == 1
    assert count(Organisation) == 1


def test_seed_demo_if_empty_seeds_an_empty_database(runner):
    seed(runner, "--if-empty")

    assert count(Event) == 14


def create_user(runner, *args, password=PASSWORD):
    return runner.invoke(
        args=["outreach", "create-user", "--password-stdin", *args], input=f"{password}\n"
    )


def test_create_staff_user_with_password_from_stdin(runner):
    result = create_user(runner, "--email", "Staff@Example.org", "--role", "staff", "--name", "Sam")

    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User))
    assert user.email == "staff@example.org"
    assert user.role is Role.STAFF
    assert user.name == "Sam"
    assert user.organisation is None
    assert PASSWORD not in user.password_hash
    assert user.check_password(PASSWORD)
    assert not user.check_password(PASSWORD + "!")


def test_create_partner_user_bound_to_an_organisation(runner, make_org):
    org = make_org(slug="sahel-forum")

    result = create_user(
        runner, "--email", "p@example.org", "--role", "partner", "--org", "sahel-forum"
    )

    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User))
    assert user.role is Role.PARTNER
    assert user.organisation_id == org.id


def test_create_user_reads_the_password_from_a_prompt(runner):
    result = runner.invoke(
        args=["outreach", "create-user", "--email", "s@example.org", "--role", "staff"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert db.session.scalar(select(User)).check_password(PASSWORD)


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["--email", "p@example.org", "--role", "partner"], PASSWORD, "org"),
        (["--email", "p@example.org", "--role", "partner", "--org", "nope"], PASSWORD, "nope"),
        (["--email", "s@example.org", "--role", "staff"], "short", "password"),
        (["--email", "s@example.org", "--role", "staff"], "", "password"),
        (["--email", "not an address", "--role", "staff"], PASSWORD, "email"),
        (["--email", "s@example.org", "--role", "admin"], PASSWORD, "admin"),
    ],
    ids=[
        "partner without org",
        "unknown org",
        "short password",
        "empty password",
        "bad email",
        "unknown role",
    ],
)
def test_create_user_refuses_with_a_clear_message(runner, args, password, message):
    result = create_user(runner, *args, password=password)

    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert count(User) == 0


def test_create_user_refuses_an_address_that_exists(runner):
    assert create_user(runner, "--email", "s@example.org", "--role", "staff").exit_code == 0

    result = create_user(runner, "--email", "S@EXAMPLE.org", "--role", "staff")

    assert result.exit_code != 0
    assert "email" in result.output
    assert count(User) == 1


def test_reschedule_moves_an_event_in_its_own_zone(runner, make_event, make_registration, outbox):
    event = make_event()
    make_registration(event)

    result = runner.invoke(
        args=[
            "outreach",
            "reschedule",
            event.slug,
            "--start",
            "2027-07-01T18:00",
            "--end",
            "2027-07-01T20:00",
            "--venue-name",
            "Rathaus",
        ]
    )

    assert result.exit_code == 0, result.output
    db.session.refresh(event)
    assert event.local_start.isoformat() == "2027-07-01T18:00:00+02:00"
    assert event.venue_name == "Rathaus" and event.sequence == 1
    assert len(outbox(kind="event_updated")) == 1


def test_reschedule_refuses_an_end_before_the_start(runner, make_event):
    event = make_event()

    result = runner.invoke(args=["outreach", "reschedule", event.slug, "--end", "2000-01-01T10:00"])

    assert result.exit_code != 0
    assert "ends_at" in result.output


def test_cancel_event_asks_first_then_cancels(runner, make_event, make_registration, outbox):
    event = make_event()
    make_registration(event)

    declined = runner.invoke(args=["outreach", "cancel-event", event.slug], input="n\n")
    assert declined.exit_code != 0
    assert outbox(kind="event_cancelled") == []

    result = runner.invoke(
        args=["outreach", "cancel-event", event.slug, "--reason", "Sturm", "--yes"]
    )
    assert result.exit_code == 0, result.output
    assert len(outbox(kind="event_cancelled")) == 1


def test_cli_names_an_unknown_event(runner):
    result = runner.invoke(args=["outreach", "cancel-event", "no-such-event", "--yes"])

    assert result.exit_code != 0
    assert "no-such-event" in result.output
