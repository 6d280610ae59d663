"""``flask outreach purge [--dry-run]``: what retention removes, shown as a table."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from outreach.extensions import db
from outreach.models import MessageStatus, OutboxMessage, Registration, utcnow


def registrations(event) -> list[Registration]:
    db.session.rollback()
    return list(db.session.scalars(select(Registration).where(Registration.event_id == event.id)))


def ended_event(make_event, make_registration, *, days_ago: int, slug: str, people: int = 2):
    """An event that ended ``days_ago`` days ago, with its confirmation mail sent long ago."""
    ends_at = utcnow().replace(microsecond=0) - timedelta(days=days_ago)
    event = make_event(slug=slug, starts_at=ends_at - timedelta(hours=2), ends_at=ends_at)
    registered = ends_at - timedelta(days=7)
    for number in range(people):
        make_registration(event, now=registered, email=f"{slug}-{number}@example.org")
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.event_id == event.id)
        .values(status=MessageStatus.SENT, sent_at=registered, next_attempt_at=registered)
    )
    db.session.commit()
    return event


def purge(runner, *options):
    result = runner.invoke(args=["outreach", "purge", *options])
    assert result.exit_code == 0, result.output
    return result.output


def test_dry_run_prints_what_would_go_and_changes_nothing(runner, make_event, make_registration):
    old = ended_event(make_event, make_registration, days_ago=120, slug="old-talk", people=3)
    ended_event(make_event, make_registration, days_ago=10, slug="recent-talk")

    output = purge(runner, "--dry-run")

    lines = output.splitlines()
    assert lines[0] == "Dry run: nothing was changed."
    assert lines[1].split() == ["event", "ended", "(UTC)", "due", "(UTC)", "registrations"]
    assert lines[3].split()[0] == "old-talk" and lines[3].split()[-1] == "3"
    assert "recent-talk" not in output
    # Three confirmations of old-talk were sent 127 days ago; recent-talk's only 17.
    assert lines[-1] == (
        "3 registration(s) of 1 event(s) would be anonymised; 3 mail row(s) would be purged; "
        "0 data-protection request(s) would be reduced to a hash."
    )
    assert all(r.anonymised_at is None and r.name for r in registrations(old))


def test_purge_does_it_and_a_second_run_finds_nothing(runner, make_event, make_registration):
    old = ended_event(make_event, make_registration, days_ago=120, slug="old-talk", people=3)
    recent = ended_event(make_event, make_registration, days_ago=10, slug="recent-talk")

    output = purge(runner)

    assert "Dry run" not in output
    assert "old-talk" in output and "recent-talk" not in output
    assert output.splitlines()[-1] == (
        "3 registration(s) of 1 event(s) were anonymised; 3 mail row(s) were purged; "
        "0 data-protection request(s) were reduced to a hash."
    )
    assert all(r.anonymised_at is not None and not r.name for r in registrations(old))
    assert all(r.anonymised_at is None for r in registrations(recent))
    assert purge(runner).strip() == (
        "0 registration(s) of 0 event(s) were anonymised; 0 mail row(s) were purged; "
        "0 data-protection request(s) were reduced to a hash."
    )


def test_the_configured_periods_apply(app, runner, make_event, make_registration):
    app.config.update(RETENTION_DAYS=5, OUTBOX_RETENTION_DAYS=1)
    ended_event(make_event, make_registration, days_ago=10, slug="recent-talk")

    output = purge(runner, "--dry-run")

    assert "recent-talk" in output
    assert output.splitlines()[-1].endswith(
        "0 data-protection request(s) would be reduced to a hash."
    )
    assert "2 mail row(s) would be purged" in output
