"""Registering, duplicates, invalid input, cancelling, changing and the waitlist."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.models import (
    EventStatus,
    ManageToken,
    MessageKind,
    OutboxMessage,
    QuestionKind,
    Registration,
    RegistrationStatus,
    RegistrationWindow,
    utcnow,
)
from outreach.services.errors import (
    EventFull,
    InvalidInput,
    NotEnoughSeats,
    RegistrationClosed,
    RegistrationNotChangeable,
)
from outreach.services.registration_input import RegistrationChanges
from outreach.services.registrations import (
    cancel_registration,
    change_registration,
    waitlist_position,
)
from outreach.services.tokens import registration_for_token


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def stored_nothing() -> bool:
    return count(Registration) == count(OutboxMessage) == count(ManageToken) == 0


def opens(app, token: str) -> Registration | None:
    return registration_for_token(token, grace_days=app.config["MANAGE_LINK_GRACE_DAYS"])


def promoted_rows(outbox) -> list[OutboxMessage]:
    return outbox(kind=MessageKind.WAITLIST_PROMOTED)


# -- outcomes ------------------------------------------------------------------


def test_guests_count_as_seats(make_event, make_registration):
    event = make_event(capacity=3, max_guests=2)

    first = make_registration(event, guests=2)
    second = make_registration(event)

    assert first.status is RegistrationStatus.CONFIRMED
    assert first.registration.seats == 3
    assert event.seats_left == 0
    assert second.status is RegistrationStatus.WAITLISTED


def test_full_event_waitlists_people_in_the_order_they_came(make_event, make_registration, outbox):
    event = make_event(capacity=1, waitlist_enabled=True)
    make_registration(event)

    waiting = [make_registration(event, language="en") for _ in range(3)]

    assert [o.status for o in waiting] == [RegistrationStatus.WAITLISTED] * 3
    assert [o.registration.waitlist_seq for o in waiting] == [1, 2, 3]
    rows = outbox(kind=MessageKind.REGISTRATION_WAITLISTED)
    assert [row.registration_id for row in rows] == [o.registration.id for o in waiting]
    assert {row.language for row in rows} == {"en"}
    assert all(row.payload["token"] == o.token for row, o in zip(rows, waiting, strict=True))


def test_full_event_without_waitlist_refuses_and_stores_nothing_more(
    make_event, make_registration, outbox
):
    event = make_event(capacity=1, waitlist_enabled=False)
    make_registration(event)

    with pytest.raises(EventFull):
        make_registration(event, email="late@example.org")

    assert count(Registration) == 1
    assert len(outbox()) == 1
    assert count(ManageToken) == 1


def test_a_party_that_does_not_fit_waits_while_a_smaller_one_gets_in(make_event, make_registration):
    event = make_event(capacity=3, max_guests=1)
    make_registration(event, guests=1)

    couple = make_registration(event, guests=1)
    single = make_registration(event)

    assert couple.status is RegistrationStatus.WAITLISTED
    assert single.status is RegistrationStatus.CONFIRMED
    assert event.seats_left == 0


def test_unlimited_capacity_never_waitlists(make_event, make_registration):
    event = make_event(capacity=None, max_guests=3)

    outcomes = [make_registration(event, guests=n % 4) for n in range(25)]

    assert {o.status for o in outcomes} == {RegistrationStatus.CONFIRMED}
    assert event.seats_left is None
    assert not event.is_full


def _closed_cases(now):
    return {
        "not yet open": (dict(registration_opens_at=now + timedelta(days=1)), "not_yet_open"),
        "closed": (dict(registration_closes_at=now - timedelta(minutes=1)), "closed"),
        "cancelled event": (dict(status=EventStatus.CANCELLED), "cancelled"),
        "past": (dict(starts_at=now - timedelta(hours=1)), "past"),
        "draft": (dict(status=EventStatus.DRAFT), "unpublished"),
        "submitted": (dict(status=EventStatus.SUBMITTED), "unpublished"),
    }


@pytest.mark.parametrize("case", list(_closed_cases(utcnow())))
def test_registration_outside_its_window_is_refused_and_stores_nothing(
    case, make_event, make_registration
):
    values, reason = _closed_cases(utcnow().replace(microsecond=0))[case]
    event = make_event(capacity=10, **values)

    with pytest.raises(RegistrationClosed) as refused:
        make_registration(event)

    assert refused.value.reason is RegistrationWindow(reason)
    assert refused.value.message
    assert stored_nothing()


# -- duplicates ----------------------------------------------------------------


def test_same_address_in_other_case_takes_no_second_seat_and_gets_its_link(
    app, make_event, make_registration, outbox
):
    event = make_event(capacity=5)
    first = make_registration(event, email="Ada.Lovelace@Example.ORG", language="en")

    again = make_registration(event, email="ada.lovelace@example.org", language="de")

    assert first.registration.email == "ada.lovelace@example.org"
    assert again.is_duplicate
    assert again.token is None
    assert again.registration.id == first.registration.id
    assert count(Registration) == 1
    assert event.seats_left == 4
    links = outbox(kind=MessageKind.MANAGE_LINK)
    assert len(links) == 1
    # The link goes to the address and in the language of the registration on file.
    assert links[0].recipient == "ada.lovelace@example.org"
    assert links[0].language == "en"
    assert opens(app, links[0].payload["token"]).id == first.registration.id
    # The first token still works: a fresh link never breaks one already sent.
    assert opens(app, first.token).id == first.registration.id


def test_repeated_duplicates_within_the_resend_window_queue_one_link(
    app, make_event, make_registration, outbox
):
    event = make_event(capacity=5)
    make_registration(event, email="ada@example.org")
    now = utcnow()

    for minute in range(4):
        outcome = make_registration(
            event, email="ada@example.org", now=now + timedelta(minutes=minute * 3)
        )
        assert outcome.is_duplicate

    assert len(outbox(kind=MessageKind.MANAGE_LINK)) == 1
    assert count(ManageToken) == 2

    window = app.config["MANAGE_LINK_RESEND_MINUTES"]
    make_registration(event, email="ada@example.org", now=now + timedelta(minutes=window + 1))

    assert len(outbox(kind=MessageKind.MANAGE_LINK)) == 2
    assert count(ManageToken) == 3


def test_duplicate_of_a_waitlisted_person_keeps_one_place(make_event, make_registration):
    event = make_event(capacity=1)
    make_registration(event)
    waiting = make_registration(event, email="wait@example.org")

    again = make_registration(event, email="WAIT@example.org")

    assert again.is_duplicate
    assert again.registration.id == waiting.registration.id
    assert count(Registration) == 2


def test_a_cancelled_registrations_address_may_register_again(
    make_event, make_registration, outbox
):
    event = make_event(capacity=5)
    first = make_registration(event, email="ada@example.org")
    cancel_registration(first.registration)

    second = make_registration(event, email="ada@example.org")

    assert not second.is_duplicate
    assert second.registration.id != first.registration.id
    assert second.status is RegistrationStatus.CONFIRMED
    assert first.registration.status is RegistrationStatus.CANCELLED
    assert len(outbox(kind=MessageKind.REGISTRATION_CONFIRMED)) == 2


# -- invalid input -------------------------------------------------------------

QUESTIONS = [
    dict(kind=QuestionKind.SHORT_TEXT, required=True, label={"en": "Short"}),
    dict(kind=QuestionKind.LONG_TEXT, required=True, label={"en": "Long"}),
    dict(
        kind=QuestionKind.SINGLE_CHOICE,
        required=True,
        label={"en": "One"},
        options=[{"value": "a", "label": {"en": "A"}}, {"value": "b", "label": {"en": "B"}}],
    ),
    dict(
        kind=QuestionKind.MULTIPLE_CHOICE,
        required=True,
        label={"en": "Many"},
        options=[{"value": "x", "label": {"en": "X"}}, {"value": "y", "label": {"en": "Y"}}],
    ),
    dict(kind=QuestionKind.CHECKBOX, required=True, label={"en": "Tick"}),
]
KINDS = [question["kind"] for question in QUESTIONS]


def valid_answers(event) -> dict[str, object]:
    values = {
        QuestionKind.SHORT_TEXT: "short",
        QuestionKind.LONG_TEXT: "line one\nline two",
        QuestionKind.SINGLE_CHOICE: "b",
        QuestionKind.MULTIPLE_CHOICE: ["y", "x"],
        QuestionKind.CHECKBOX: True,
    }
    return {str(q.id): values[q.kind] for q in event.questions}


def question_id(event, kind: QuestionKind) -> str:
    return next(str(q.id) for q in event.questions if q.kind is kind)


def test_answers_to_every_kind_of_question_are_stored_normalised(make_event, make_registration):
    event = make_event(capacity=5, questions=QUESTIONS)

    outcome = make_registration(event, answers=valid_answers(event))

    answers = outcome.registration.answers
    assert answers[question_id(event, QuestionKind.MULTIPLE_CHOICE)] == ["x", "y"]
    assert answers[question_id(event, QuestionKind.CHECKBOX)] is True
    assert answers[question_id(event, QuestionKind.LONG_TEXT)] == "line one\nline two"


INVALID_FIELDS = {
    "name with newline": (dict(name="Ada\nBcc: x@example.org"), "name"),
    "name with invisible character": (dict(name="Ada\u200bLovelace"), "name"),
    "blank name": (dict(name="   "), "name"),
    "bad email": (dict(email="not-an-address"), "email"),
    "email with newline": (dict(email="ada@example.org\nBcc: x@example.org"), "email"),
    "language not offered": (dict(language="fr"), "language"),
    "guests over max": (dict(guests=3), "guests"),
    "negative guests": (dict(guests=-1), "guests"),
    "bool as guests": (dict(guests=True), "guests"),
    "text as guests": (dict(guests="1"), "guests"),
    "consent missing": (dict(consent=False), "consent"),
    "consent not a bool": (dict(consent="yes"), "consent"),
}


@pytest.mark.parametrize("case", list(INVALID_FIELDS))
def test_invalid_field_is_named_and_nothing_is_stored(case, make_event, make_registration):
    values, field = INVALID_FIELDS[case]
    event = make_event(capacity=5, max_guests=2)

    with pytest.raises(InvalidInput) as refused:
        make_registration(event, **values)

    assert set(refused.value.errors) == {field}
    assert refused.value.errors[field]
    assert stored_nothing()


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_missing_required_answer_is_named_for_each_kind(kind, make_event, make_registration):
    event = make_event(capacity=5, questions=QUESTIONS)
    answers = valid_answers(event)
    del answers[question_id(event, kind)]

    with pytest.raises(InvalidInput) as refused:
        make_registration(event, answers=answers)

    assert set(refused.value.errors) == {f"answers.{question_id(event, kind)}"}
    assert stored_nothing()


@pytest.mark.parametrize(
    ("kind", "answer"),
    [
        (QuestionKind.SINGLE_CHOICE, "c"),
        (QuestionKind.MULTIPLE_CHOICE, ["x", "z"]),
        (QuestionKind.MULTIPLE_CHOICE, "x"),
        (QuestionKind.CHECKBOX, "yes"),
        (QuestionKind.SHORT_TEXT, "x" * 201),
        (QuestionKind.SHORT_TEXT, 42),
        (QuestionKind.LONG_TEXT, "bell\x07"),
    ],
    ids=str,
)
def test_answer_outside_what_the_question_allows_is_named(
    kind, answer, make_event, make_registration
):
    event = make_event(capacity=5, questions=QUESTIONS)
    answers = valid_answers(event) | {question_id(event, kind): answer}

    with pytest.raises(InvalidInput) as refused:
        make_registration(event, answers=answers)

    assert set(refused.value.errors) == {f"answers.{question_id(event, kind)}"}
    assert stored_nothing()


def test_answer_to_an_unknown_question_is_refused(make_event, make_registration):
    event = make_event(capacity=5, questions=QUESTIONS)
    other = make_event(capacity=5, questions=QUESTIONS[:1])
    answers = valid_answers(event) | {str(other.questions[0].id): "hi", "nope": "x"}

    with pytest.raises(InvalidInput) as refused:
        make_registration(event, answers=answers)

    assert set(refused.value.errors) == {"answers"}
    assert stored_nothing()


def test_every_bad_field_is_named_at_once(make_event, make_registration):
    event = make_event(capacity=5, questions=QUESTIONS)

    with pytest.raises(InvalidInput) as refused:
        make_registration(event, name="", email="@", language="xx", guests=9, consent=False)

    assert set(refused.value.errors) == {"name", "email", "language", "guests", "consent"} | {
        f"answers.{q.id}" for q in event.questions
    }
    assert stored_nothing()


# -- cancelling and the waitlist -----------------------------------------------


def test_cancelling_frees_the_seat_and_promotes_the_first_in_line(
    app, make_event, make_registration, outbox
):
    event = make_event(capacity=1)
    holder = make_registration(event)
    first, second = make_registration(event, language="en"), make_registration(event)

    promoted = cancel_registration(holder.registration)

    assert [r.id for r in promoted] == [first.registration.id]
    assert first.registration.status is RegistrationStatus.CONFIRMED
    assert first.registration.promoted_at is not None
    assert second.registration.status is RegistrationStatus.WAITLISTED
    [row] = promoted_rows(outbox)
    assert row.registration_id == first.registration.id
    assert row.language == "en"
    assert row.recipient == first.registration.email
    assert opens(app, row.payload["token"]).id == first.registration.id

    cancel_registration(first.registration)

    assert second.registration.status is RegistrationStatus.CONFIRMED


def test_promotion_skips_a_party_that_does_not_fit_and_takes_smaller_ones_behind(
    app, make_event, make_registration, outbox
):
    event = make_event(capacity=4, max_guests=2)
    couple = make_registration(event, guests=1)
    make_registration(event, guests=1)
    three = make_registration(event, guests=2)
    single = make_registration(event)
    pair = make_registration(event, guests=1)
    last_single = make_registration(event)

    promoted = cancel_registration(couple.registration)

    assert [r.id for r in promoted] == [single.registration.id, last_single.registration.id]
    assert three.registration.status is RegistrationStatus.WAITLISTED
    assert pair.registration.status is RegistrationStatus.WAITLISTED
    assert event.seats_left == 0
    rows = promoted_rows(outbox)
    assert [row.registration_id for row in rows] == [r.id for r in promoted]
    assert [opens(app, row.payload["token"]).id for row in rows] == [r.id for r in promoted]


def test_cancelling_twice_is_harmless_and_queues_one_cancellation(
    make_event, make_registration, outbox
):
    event = make_event(capacity=1)
    holder = make_registration(event)
    make_registration(event)

    first = cancel_registration(holder.registration)
    second = cancel_registration(holder.registration)

    assert len(first) == 1
    assert second == []
    assert len(outbox(kind=MessageKind.REGISTRATION_CANCELLED)) == 1
    assert len(promoted_rows(outbox)) == 1


def test_cancelling_a_waitlisted_registration_promotes_nobody(
    make_event, make_registration, outbox
):
    event = make_event(capacity=1)
    make_registration(event)
    waiting = make_registration(event)
    behind = make_registration(event)

    assert cancel_registration(waiting.registration) == []

    assert waiting.registration.status is RegistrationStatus.CANCELLED
    assert waiting.registration.cancelled_at is not None
    assert behind.registration.status is RegistrationStatus.WAITLISTED
    assert promoted_rows(outbox) == []


def test_cancelling_after_the_event_started_is_refused(make_event, make_registration, outbox):
    starts_at = utcnow().replace(microsecond=0) + timedelta(hours=1)
    event = make_event(capacity=2, starts_at=starts_at)
    outcome = make_registration(event)

    with pytest.raises(RegistrationNotChangeable):
        cancel_registration(outcome.registration, now=starts_at + timedelta(minutes=1))

    assert outcome.registration.status is RegistrationStatus.CONFIRMED
    assert outbox(kind=MessageKind.REGISTRATION_CANCELLED) == []


# -- changing ------------------------------------------------------------------


def test_more_guests_than_seats_left_is_refused_and_nothing_changes(make_event, make_registration):
    event = make_event(capacity=3, max_guests=2, questions=QUESTIONS[:1])
    outcome = make_registration(event, language="de", answers=valid_answers(event))
    make_registration(event, answers=valid_answers(event))
    registration = outcome.registration

    with pytest.raises(NotEnoughSeats):
        change_registration(
            registration,
            RegistrationChanges(
                guests=2, language="en", answers={str(event.questions[0].id): "changed"}
            ),
        )

    db.session.expire_all()
    assert registration.guests == 0
    assert registration.language == "de"
    assert registration.answers == valid_answers(event)


def test_more_guests_within_the_seats_left_are_given(make_event, make_registration):
    event = make_event(capacity=3, max_guests=2)
    outcome = make_registration(event)

    change_registration(outcome.registration, RegistrationChanges(guests=2, language="en"))

    assert outcome.registration.guests == 2
    assert outcome.registration.language == "en"
    assert event.seats_left == 0


def test_fewer_guests_free_seats_for_the_waitlist(make_event, make_registration, outbox):
    event = make_event(capacity=3, max_guests=2)
    outcome = make_registration(event, guests=2)
    waiting = make_registration(event)

    promoted = change_registration(
        outcome.registration, RegistrationChanges(guests=1, language="de")
    )

    assert [r.id for r in promoted] == [waiting.registration.id]
    assert waiting.registration.status is RegistrationStatus.CONFIRMED
    assert [row.registration_id for row in promoted_rows(outbox)] == [waiting.registration.id]


def test_a_waitlisted_party_that_asks_for_fewer_guests_can_get_in(
    make_event, make_registration, outbox
):
    event = make_event(capacity=3, max_guests=2)
    make_registration(event, guests=1)
    family = make_registration(event, guests=2)
    assert family.status is RegistrationStatus.WAITLISTED

    promoted = change_registration(
        family.registration, RegistrationChanges(guests=0, language="de")
    )

    assert [r.id for r in promoted] == [family.registration.id]
    assert family.registration.status is RegistrationStatus.CONFIRMED
    assert event.seats_left == 0
    assert len(promoted_rows(outbox)) == 1


def test_changes_after_the_event_started_are_refused(make_event, make_registration):
    starts_at = utcnow().replace(microsecond=0) + timedelta(hours=1)
    event = make_event(capacity=3, max_guests=2, starts_at=starts_at)
    outcome = make_registration(event)

    with pytest.raises(RegistrationNotChangeable):
        change_registration(
            outcome.registration,
            RegistrationChanges(guests=1, language="de"),
            now=starts_at + timedelta(seconds=1),
        )

    assert outcome.registration.guests == 0


def test_registrations_of_a_cancelled_event_cannot_be_changed(make_event, make_registration):
    event = make_event(capacity=3, max_guests=2)
    outcome = make_registration(event)
    event.status = EventStatus.CANCELLED
    db.session.commit()

    with pytest.raises(RegistrationNotChangeable):
        change_registration(outcome.registration, RegistrationChanges(guests=1, language="de"))

    assert outcome.registration.guests == 0


def test_a_cancelled_registration_cannot_be_changed(make_event, make_registration):
    event = make_event(capacity=3, max_guests=2)
    outcome = make_registration(event)
    cancel_registration(outcome.registration)

    with pytest.raises(RegistrationNotChangeable):
        change_registration(outcome.registration, RegistrationChanges(guests=1, language="de"))


def test_invalid_changes_are_named_and_nothing_changes(make_event, make_registration):
    event = make_event(capacity=3, max_guests=1)
    outcome = make_registration(event)

    with pytest.raises(InvalidInput) as refused:
        change_registration(outcome.registration, RegistrationChanges(guests=2, language="fr"))

    assert set(refused.value.errors) == {"guests", "language"}
    assert outcome.registration.guests == 0
    assert outcome.registration.language == "de"


def test_waitlist_position_counts_only_people_still_waiting_ahead(make_event, make_registration):
    event = make_event(capacity=1)
    holder = make_registration(event)
    first, second, third = (make_registration(event).registration for _ in range(3))

    assert [waitlist_position(r) for r in (first, second, third)] == [1, 2, 3]
    assert waitlist_position(holder.registration) is None

    cancel_registration(second)
    cancel_registration(holder.registration)

    assert waitlist_position(first) is None
    assert waitlist_position(third) == 1


def test_the_same_address_may_register_for_different_events(make_event, make_registration):
    first, second = make_event(capacity=1), make_event(capacity=1)

    outcomes = [make_registration(event, email="ada@example.org") for event in (first, second)]

    assert [o.is_duplicate for o in outcomes] == [False, False]
    assert [o.status for o in outcomes] == [RegistrationStatus.CONFIRMED] * 2
