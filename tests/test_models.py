"""Row-level rules: aware times, registration windows, seats, language fallback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError

from outreach.extensions import db
from outreach.models import (
    Event,
    EventStatus,
    EventTranslation,
    Registration,
    RegistrationStatus,
    RegistrationWindow,
    Topic,
    utcnow,
)
from outreach.services.registrations import cancel_registration

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def reloaded(event: Event) -> Event:
    event_id = event.id
    db.session.expire_all()
    return db.session.get(Event, event_id)


# -- times ---------------------------------------------------------------------


def test_naive_datetimes_are_refused(make_event):
    event = make_event()
    event.starts_at = datetime(2026, 6, 1, 18, 0)  # noqa: DTZ001 (the point of the test)

    with pytest.raises(StatementError, match="naive"):
        db.session.flush()
    db.session.rollback()


def test_times_come_back_aware_in_utc_whatever_zone_went_in(make_event):
    local = datetime(2026, 7, 3, 19, 30, 15, 123456, tzinfo=BERLIN)
    event = make_event(starts_at=local, ends_at=local + timedelta(hours=2))

    fresh = reloaded(event)

    assert fresh.starts_at.tzinfo is not None
    assert fresh.starts_at.utcoffset() == timedelta(0)
    assert fresh.starts_at == local
    assert fresh.starts_at.hour == 17  # 19:30 in Berlin summer time
    assert fresh.local_start.tzinfo == BERLIN
    assert fresh.local_start.hour == 19
    assert fresh.created_at.utcoffset() == timedelta(0)


def test_aware_times_compare_correctly_in_queries(make_event):
    event = make_event(starts_at=datetime(2026, 7, 3, 19, 0, tzinfo=BERLIN))
    instant = datetime(2026, 7, 3, 17, 0, tzinfo=UTC)

    assert db.session.scalar(select(Event.id).where(Event.starts_at == instant)) == event.id
    assert db.session.scalar(select(Event.id).where(Event.starts_at > instant)) is None


def test_an_event_must_end_after_it_starts(make_event):
    with pytest.raises(IntegrityError):
        make_event(starts_at=NOW, ends_at=NOW)
    db.session.rollback()


# -- registration window -------------------------------------------------------


def event_at(**values) -> Event:
    values.setdefault("status", EventStatus.PUBLISHED)
    values.setdefault("starts_at", NOW + timedelta(days=7))
    return Event(slug="e", ends_at=values["starts_at"] + timedelta(hours=2), **values)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, RegistrationWindow.OPEN),
        ({"registration_opens_at": NOW}, RegistrationWindow.OPEN),
        ({"registration_opens_at": NOW + timedelta(seconds=1)}, RegistrationWindow.NOT_YET_OPEN),
        ({"registration_closes_at": NOW + timedelta(seconds=1)}, RegistrationWindow.OPEN),
        ({"registration_closes_at": NOW}, RegistrationWindow.CLOSED),
        ({"starts_at": NOW + timedelta(seconds=1)}, RegistrationWindow.OPEN),
        ({"starts_at": NOW}, RegistrationWindow.PAST),
        ({"starts_at": NOW - timedelta(days=1)}, RegistrationWindow.PAST),
        ({"status": EventStatus.DRAFT}, RegistrationWindow.UNPUBLISHED),
        ({"status": EventStatus.SUBMITTED}, RegistrationWindow.UNPUBLISHED),
        ({"status": EventStatus.CANCELLED}, RegistrationWindow.CANCELLED),
        (
            {"status": EventStatus.CANCELLED, "starts_at": NOW - timedelta(days=1)},
            RegistrationWindow.CANCELLED,
        ),
        (
            {"registration_opens_at": NOW + timedelta(days=1), "starts_at": NOW},
            RegistrationWindow.PAST,
        ),
    ],
    ids=repr,
)
def test_registration_window(values, expected):
    assert event_at(**values).registration_window(NOW) is expected


# -- seats ---------------------------------------------------------------------


def test_registration_seats_are_the_person_plus_guests(make_event, make_registration):
    event = make_event(capacity=10, max_guests=3)

    assert make_registration(event).registration.seats == 1
    assert make_registration(event, guests=3).registration.seats == 4


def test_seats_left_counts_confirmed_seats_only(make_event, make_registration):
    event = make_event(capacity=3, max_guests=1)
    couple = make_registration(event, guests=1)
    make_registration(event, guests=1)  # waitlisted: holds no seat

    assert reloaded(event).seats_left == 1
    assert not reloaded(event).is_full

    make_registration(event)
    assert reloaded(event).seats_left == 0
    assert reloaded(event).is_full

    cancel_registration(couple.registration)
    # The waitlisted couple took the two seats that were freed.
    assert reloaded(event).seats_left == 0


def test_seats_left_is_never_negative_and_none_without_a_limit(make_event, make_registration):
    event = make_event(capacity=2)
    make_registration(event)
    make_registration(event)
    event.capacity = 1
    db.session.commit()

    assert reloaded(event).seats_left == 0
    assert reloaded(event).is_full
    assert make_event(capacity=None).seats_left is None


def test_a_registration_can_be_changed_until_its_event_starts(make_event, make_registration):
    starts_at = utcnow().replace(microsecond=0) + timedelta(days=1)
    registration = make_registration(make_event(starts_at=starts_at)).registration

    assert registration.is_changeable_at(starts_at - timedelta(seconds=1))
    assert not registration.is_changeable_at(starts_at)
    assert registration.can_be_changed
    assert registration.can_be_cancelled
    cancel_registration(registration)
    assert not registration.is_changeable_at(starts_at - timedelta(days=1))
    assert not registration.is_active


def test_one_active_registration_per_address_is_enforced_by_the_database(
    make_event, make_registration
):
    event = make_event(capacity=5)
    first = make_registration(event, email="ada@example.org").registration

    def same_address(status):
        return Registration(
            event_id=event.id,
            name="Ada",
            email="ada@example.org",
            language="de",
            status=status,
            consent_version="test",
            consented_at=utcnow(),
        )

    db.session.add(same_address(RegistrationStatus.CONFIRMED))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()

    first.status = RegistrationStatus.CANCELLED
    db.session.add(same_address(RegistrationStatus.CANCELLED))
    db.session.add(same_address(RegistrationStatus.WAITLISTED))
    db.session.commit()


# -- languages -----------------------------------------------------------------


def translated(**titles) -> Event:
    event = event_at()
    for locale, title in titles.items():
        event.translations[locale] = EventTranslation(locale=locale, title=title)
    return event


def test_text_in_the_asked_language():
    assert translated(de="Fest", en="Festival", tr="Şenlik").text("tr").title == "Şenlik"


def test_text_falls_back_to_german_then_english_then_any():
    assert translated(de="Fest", en="Festival").text("fr").title == "Fest"
    assert translated(en="Festival", vi="Lễ hội").text("fr").title == "Festival"
    assert translated(vi="Lễ hội").text("de").title == "Lễ hội"


def test_text_without_any_version_shows_the_slug():
    assert translated().text("de").title == "e"


def test_text_fallback_works_on_stored_events(make_event):
    event = make_event(title="Titel")
    del event.translations["de"]
    event.translations["en"].title = "Title"
    db.session.commit()

    assert reloaded(event).text("de").title == "Title"
    assert reloaded(event).text("ar").title == "Title"


def test_topic_name_falls_back_to_another_language_then_the_slug():
    assert Topic(slug="health", names={"de": "Gesundheit"}).name_in("en") == "Gesundheit"
    assert Topic(slug="health", names={}).name_in("en") == "health"


def test_event_languages_are_stored_without_repeats(make_event):
    event = make_event(languages=["tr", "de", "tr"])

    assert reloaded(event).languages == ["de", "tr"]
