"""The queries behind the staff pages, and the audit entries scheduling leaves for them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from outreach.extensions import db
from outreach.models import (
    ApplicationStatus,
    EventStatus,
    EventTranslation,
    PartnerApplication,
    RegistrationStatus,
    utcnow,
)
from outreach.services import audit, dashboard
from outreach.services.checkin import check_in
from outreach.services.dashboard import EventSearch
from outreach.services.registrations import cancel_registration
from outreach.services.scheduling import cancel_event, change_texts, reschedule

NOW = utcnow().replace(microsecond=0)
DRAFT = EventStatus.DRAFT


def test_upcoming_events_come_soonest_first_with_seats_and_waitlist(make_event, make_registration):
    later = make_event(starts_at=NOW + timedelta(days=9), capacity=4, max_guests=2)
    sooner = make_event(starts_at=NOW + timedelta(days=2), capacity=2)
    make_event(status=EventStatus.DRAFT)
    make_event(status=EventStatus.SUBMITTED)
    make_event(starts_at=NOW - timedelta(days=2))
    make_registration(sooner, guests=0)
    make_registration(later, guests=2)
    for _ in range(2):
        make_registration(sooner)  # one seat left, then the waitlist

    fills = dashboard.upcoming_with_fill(now=NOW)

    assert [fill.event.id for fill in fills] == [sooner.id, later.id]
    assert (fills[0].seats_taken, fills[0].waitlisted, fills[0].percent) == (2, 1, 100)
    assert (fills[1].seats_taken, fills[1].waitlisted, fills[1].percent) == (3, 0, 75)


def test_an_event_without_a_seat_limit_has_no_fill_rate(make_event, make_registration):
    event = make_event(capacity=None)
    make_registration(event)

    [fill] = dashboard.upcoming_with_fill(now=NOW)

    assert fill.seats_taken == 1 and fill.percent is None


def test_events_awaiting_review_come_oldest_first(make_event):
    newer = make_event(status=EventStatus.SUBMITTED, submitted_at=NOW - timedelta(hours=1))
    older = make_event(status=EventStatus.SUBMITTED, submitted_at=NOW - timedelta(days=3))
    make_event(status=EventStatus.DRAFT)

    assert [event.id for event in dashboard.awaiting_review()] == [older.id, newer.id]


def test_only_pending_applications_are_counted(app):
    pending, accepted = ApplicationStatus.PENDING, ApplicationStatus.ACCEPTED
    for status in (pending, accepted, pending):
        db.session.add(
            PartnerApplication(
                organisation_name="Verein",
                contact_name="Deniz",
                contact_email="deniz@example.org",
                description="…",
                language="de",
                consent_version="1",
                consented_at=NOW,
                status=status,
            )
        )
    db.session.commit()

    assert dashboard.pending_applications() == 2


def test_mail_health_has_the_same_shape_on_an_empty_queue(app):
    health = dashboard.mail_health(now=NOW)

    body = health.as_json()
    assert body["counts"] == {"queued": 0, "sending": 0, "sent": 0, "failed": 0, "skipped": 0}
    assert body["failed"] == [] and body["oldest_queued_age_seconds"] is None
    assert health.failed_count == 0


def test_overview_gathers_every_section(make_event):
    make_event()

    overview = dashboard.overview(now=NOW)

    assert len(overview.upcoming) == 1
    assert overview.awaiting_review == []
    assert overview.pending_applications == 0
    assert overview.mail.counts["total"] == 0


# -- finding events ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, EventSearch()),
        ({"status": "draft", "q": " Eltern  abend "}, EventSearch(DRAFT, "Eltern abend")),
        ({"status": "everything"}, EventSearch()),
        ({"q": "x" * 500}, EventSearch(text="x" * 100)),
    ],
)
def test_event_search_reads_query_arguments(args, expected):
    assert EventSearch.from_args(args) == expected


def test_find_events_filters_by_status_newest_first(make_event):
    old = make_event(status=EventStatus.DRAFT, created_at=NOW - timedelta(days=2))
    new = make_event(status=EventStatus.DRAFT, created_at=NOW - timedelta(days=1))
    make_event(status=EventStatus.PUBLISHED)

    found = dashboard.find_events(EventSearch(status=EventStatus.DRAFT))

    assert [event.id for event in found.items] == [new.id, old.id]
    assert found.total == 2


def test_find_events_searches_titles_in_every_language_literally(make_event):
    percent = make_event(title="100% Einsatz")
    make_event(title="100 Einsatz")
    arabic = make_event(title="Elternabend")
    arabic.translations["ar"] = EventTranslation(locale="ar", title="أمسية الأهل")
    db.session.commit()

    def ids(text: str) -> list[int]:
        return [event.id for event in dashboard.find_events(EventSearch(text=text)).items]

    assert ids("100%") == [percent.id]
    assert ids("100_") == []
    assert ids("الأهل") == [arabic.id]
    assert ids("ELTERN") == [arabic.id]


def test_find_events_pages(make_event):
    for _ in range(5):
        make_event()

    second = dashboard.find_events(EventSearch(), page=2, per_page=2)
    beyond = dashboard.find_events(EventSearch(), page=9, per_page=2)

    assert len(second.items) == 2 and second.pages == 3
    assert beyond.items == []


# -- one event ---------------------------------------------------------------------------------


def test_event_details_count_registrations_and_check_ins(make_event, make_registration, make_user):
    event = make_event(capacity=1)
    confirmed = make_registration(event).registration
    make_registration(event)
    gone = make_registration(event).registration
    cancel_registration(gone)
    check_in(confirmed, by=make_user("staff"))

    details = dashboard.event_details(event.id)

    assert details.registrations == {
        RegistrationStatus.PENDING.value: 0,
        "confirmed": 1,
        "waitlisted": 1,
        "cancelled": 1,
    }
    assert details.checked_in == 1
    assert details.active_registrations == 2
    assert details.told_if_cancelled == 2


def test_only_a_published_events_registrants_hear_of_a_cancellation(make_event):
    assert dashboard.event_details(make_event(status=EventStatus.DRAFT).id).told_if_cancelled == 0


def test_event_details_of_an_unknown_event_is_none(app):
    assert dashboard.event_details(123456) is None


# -- scheduling leaves its trace in the history -----------------------------------------------


def test_rescheduling_is_audited_with_before_and_after(make_event, make_user):
    staff = make_user("staff")
    start = NOW + timedelta(days=5)
    event = make_event(starts_at=start, venue_name="Gemeindehaus")
    new_start = start + timedelta(days=1)

    reschedule(event, by=staff, starts_at=new_start, ends_at=new_start + timedelta(hours=2))
    reschedule(event, by=staff, venue_name="Gemeindehaus")  # no change: no entry

    [entry] = dashboard.event_details(event.id).history
    assert entry.action == "event.rescheduled" and entry.actor_id == staff.id
    end, new_end = start + timedelta(hours=2), new_start + timedelta(hours=2)
    assert entry.changes == {
        "ends_at": [end.isoformat(), new_end.isoformat()],
        "starts_at": [start.isoformat(), new_start.isoformat()],
    }


def test_rescheduling_from_the_command_line_is_audited_as_the_system(make_event):
    event = make_event()

    reschedule(event, venue_city="Leipzig")

    [entry] = audit.entries_for(event)
    assert entry.actor_id is None and entry.actor_label == "system"
    assert entry.changes == {"venue_city": ["Berlin", "Leipzig"]}


def test_new_texts_are_audited_per_language(make_event, make_user):
    staff = make_user("staff")
    event = make_event(title="Elternabend")

    change_texts(event, {"en": {"title": "Parents' evening", "summary": "Summary en"}}, by=staff)
    change_texts(event, {"en": {"title": "Parents' evening", "summary": "Summary en"}}, by=staff)

    [entry] = audit.entries_for(event)
    assert entry.action == "event.updated"
    before, after = entry.changes["texts"]
    assert before["en"]["title"] == "Elternabend" and after["en"]["title"] == "Parents' evening"
    assert after["de"] == before["de"]


def test_a_cancellation_is_audited_once_with_its_reason(make_event, make_user):
    staff = make_user("staff")
    event = make_event()

    cancel_event(event, "Der Saal ist gesperrt.", by=staff)
    cancel_event(event, "again", by=staff)

    [entry] = audit.entries_for(event)
    assert entry.action == "event.cancelled" and entry.actor_id == staff.id
    assert entry.comment == "Der Saal ist gesperrt."
    assert entry.changes["status"] == ["published", "cancelled"]
    assert entry.changes["cancellation_reason"] == [None, "Der Saal ist gesperrt."]
