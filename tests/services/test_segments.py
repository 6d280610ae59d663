"""Segments: the right people, once each, without the suppressed, as one query."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, update

from outreach.extensions import db
from outreach.models import (
    CampaignKind,
    Event,
    QuestionKind,
    Registration,
    RegistrationStatus,
    Subscriber,
    SubscriberStatus,
    Suppression,
    SuppressionReason,
    SuppressionScope,
    utcnow,
)
from outreach.services.checkin import check_in
from outreach.services.errors import InvalidInput
from outreach.services.registrations import CONSENT_VERSION
from outreach.services.segments import (
    Segment,
    find_recipient,
    recipients,
    sample,
    segment_size,
)

OUTREACH = CampaignKind.OUTREACH
NEWSLETTER = CampaignKind.NEWSLETTER


def add_people(
    event: Event,
    count: int,
    *,
    prefix: str = "person",
    language: str = "de",
    status: RegistrationStatus = RegistrationStatus.CONFIRMED,
    start: int = 0,
) -> None:
    """Bulk-insert ``count`` registrations (``<prefix><n>@example.org``) for ``event``."""
    now = utcnow()
    db.session.execute(
        insert(Registration),
        [
            {
                "event_id": event.id,
                "name": f"Person {prefix} {number}",
                "email": f"{prefix}{number}@example.org",
                "language": language,
                "status": status,
                "guests": 0,
                "answers": {},
                "consent_version": CONSENT_VERSION,
                "consented_at": now,
            }
            for number in range(start, start + count)
        ],
    )
    db.session.commit()


def emails(segment: Segment, kind: CampaignKind = OUTREACH) -> set[str]:
    db.session.rollback()
    return {row.email for row in db.session.execute(recipients(segment, kind))}


def registrants(events, **values) -> Segment:
    return Segment.from_dict(
        {"type": "registrants", "events": [event.id for event in events], **values}
    )


def suppress(address: str, scope: SuppressionScope) -> None:
    reason = (
        SuppressionReason.HARD_BOUNCE
        if scope is SuppressionScope.ALL
        else (SuppressionReason.UNSUBSCRIBED)
    )
    db.session.add(Suppression(email=address, scope=scope, reason=reason))
    db.session.commit()


def subscriber(email: str, *, status=SubscriberStatus.ACTIVE, language="de", interests=()):
    row = Subscriber(
        email=email,
        name=email.split("@")[0].title(),
        language=language,
        interests=list(interests),
        status=status,
        consent_version="2026-01",
        consent_language=language,
        consented_at=utcnow(),
    )
    db.session.add(row)
    db.session.commit()
    return row


# -- registrants ---------------------------------------------------------------------


def test_a_person_registered_for_two_events_is_one_recipient_named_as_latest(
    make_event, make_registration
):
    first, second = make_event(), make_event()
    make_registration(first, name="Old Name", email="Ada@Example.org", language="de")
    latest = make_registration(second, name="New Name", email="ada@example.org", language="en")
    make_registration(second, name="Ben", email="ben@example.org")

    segment = registrants([first, second])
    rows = {row.email: row for row in db.session.execute(recipients(segment, OUTREACH))}

    assert set(rows) == {"ada@example.org", "ben@example.org"}
    assert rows["ada@example.org"].name == "New Name"
    assert rows["ada@example.org"].language == "en"
    assert rows["ada@example.org"].registration_id == latest.registration.id
    assert rows["ada@example.org"].event_id == second.id
    assert segment_size(segment, OUTREACH) == 2


def test_statuses_and_languages_choose_among_registrants(make_event):
    event = make_event()
    add_people(event, 3, prefix="de", language="de")
    add_people(event, 2, prefix="en", language="en")
    add_people(event, 2, prefix="wait", status=RegistrationStatus.WAITLISTED)
    add_people(event, 1, prefix="gone", status=RegistrationStatus.CANCELLED)

    assert segment_size(registrants([event]), OUTREACH) == 5  # confirmed is the default
    assert emails(registrants([event], statuses=["waitlisted"])) == {
        "wait0@example.org",
        "wait1@example.org",
    }
    assert segment_size(registrants([event], statuses=["confirmed", "cancelled"]), OUTREACH) == 6
    assert emails(registrants([event], languages=["en"])) == {
        "en0@example.org",
        "en1@example.org",
    }


def test_no_show_segment_after_check_in_is_exactly_the_confirmed_who_did_not_come(
    make_event, make_registration, make_user
):
    event = make_event()
    came = [make_registration(event, email=f"came{n}@example.org").registration for n in range(3)]
    for n in range(4):
        make_registration(event, email=f"away{n}@example.org")
    add_people(event, 2, prefix="wait", status=RegistrationStatus.WAITLISTED)
    add_people(event, 1, prefix="cancelled", status=RegistrationStatus.CANCELLED)
    staff = make_user("staff")
    for registration in came:
        assert check_in(registration, by=staff)

    no_shows = registrants([event], attendance="no_show")
    attended = registrants([event], attendance="attended")
    # Before the event is over nobody is a no-show yet.
    assert emails(no_shows) == set()

    db.session.execute(
        update(Event)
        .where(Event.id == event.id)
        .values(starts_at=utcnow() - timedelta(hours=3), ends_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()

    assert emails(no_shows) == {f"away{n}@example.org" for n in range(4)}
    assert emails(attended) == {f"came{n}@example.org" for n in range(3)}


def test_an_answer_to_a_question_chooses_registrants(make_event, make_registration):
    options = [{"value": value, "label": {"de": value}} for value in ("vegan", "meat", "none")]
    event = make_event(
        questions=[
            {"kind": QuestionKind.SINGLE_CHOICE, "label": {"de": "Essen"}, "options": options},
            {"kind": QuestionKind.MULTIPLE_CHOICE, "label": {"de": "Hilfe"}, "options": options},
            {"kind": QuestionKind.CHECKBOX, "label": {"de": "Fotos ok"}},
        ]
    )
    food, help_, photos = (str(question.id) for question in event.questions)
    make_registration(
        event, email="a@example.org", answers={food: "vegan", help_: ["vegan", "meat"]}
    )
    make_registration(event, email="b@example.org", answers={food: "meat", photos: True})
    make_registration(event, email="c@example.org", answers={help_: ["none"]})

    def chosen(question: str, answer: str) -> set[str]:
        return emails(registrants([event], question={"id": int(question), "answer": answer}))

    assert chosen(food, "vegan") == {"a@example.org"}
    assert chosen(help_, "meat") == {"a@example.org"}
    assert chosen(help_, "none") == {"c@example.org"}
    assert chosen(photos, "yes") == {"b@example.org"}
    assert chosen(photos, "no") == {"a@example.org", "c@example.org"}


def test_suppressed_addresses_are_left_out_for_their_scope(make_event):
    event = make_event()
    add_people(event, 4)
    suppress("person0@example.org", SuppressionScope.ALL)
    suppress("person1@example.org", SuppressionScope.OUTREACH)
    suppress("person2@example.org", SuppressionScope.NEWSLETTER)

    assert emails(registrants([event]), OUTREACH) == {
        "person2@example.org",
        "person3@example.org",
    }


# -- subscribers and contacts ------------------------------------------------------------


def test_subscribers_are_the_active_ones_by_language_and_interest(app):
    subscriber("de-all@example.org")
    subscriber("de-art@example.org", interests=["art"])
    subscriber("en-sport@example.org", language="en", interests=["sport"])
    subscriber("pending@example.org", status=SubscriberStatus.PENDING)
    subscriber("left@example.org", status=SubscriberStatus.UNSUBSCRIBED)
    subscriber("quiet@example.org")
    suppress("quiet@example.org", SuppressionScope.NEWSLETTER)

    everyone = Segment.from_dict({"type": "subscribers"})
    assert emails(everyone, NEWSLETTER) == {
        "de-all@example.org",
        "de-art@example.org",
        "en-sport@example.org",
    }
    english = Segment.from_dict({"type": "subscribers", "languages": ["en"]})
    assert emails(english, NEWSLETTER) == {"en-sport@example.org"}
    # No interests chosen means interested in everything.
    art = Segment.from_dict({"type": "subscribers", "interests": ["art"]})
    assert emails(art, NEWSLETTER) == {"de-all@example.org", "de-art@example.org"}
    rows = sample(english, NEWSLETTER)
    assert rows[0].subscriber_id is not None and rows[0].registration_id is None


def test_contacts_are_organisation_addresses_and_active_partner_users_once(make_org, make_user):
    org = make_org(contact_email="Info@Verein.example.org")
    other = make_org(contact_email=None)
    make_user("partner", org=org, email="ana@verein.example.org", name="Ana")
    make_user("partner", org=other, email="info@verein.example.org", name="Info Person")
    inactive = make_user("partner", org=other, email="old@example.org")
    inactive.is_active = False
    make_org(contact_email="unrelated@example.org")
    db.session.commit()

    segment = Segment.from_dict({"type": "contacts", "organisations": [org.id, other.id]})
    rows = {row.email: row for row in db.session.execute(recipients(segment, OUTREACH))}

    assert set(rows) == {"ana@verein.example.org", "info@verein.example.org"}
    # The same address as a partner user and as the organisation's: the person's name wins.
    assert rows["info@verein.example.org"].name == "Info Person"
    assert rows["ana@verein.example.org"].language == "de"


# -- reading the JSON --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (None, "type"),
        ({"type": "everyone"}, "type"),
        ({"type": "registrants", "events": []}, "events"),
        ({"type": "registrants", "events": [999999]}, "events"),
        ({"type": "registrants", "events": [True]}, "events"),
        ({"type": "registrants", "events": "1"}, "events"),
        ({"type": "registrants", "statuses": ["maybe"]}, "statuses"),
        ({"type": "registrants", "statuses": []}, "statuses"),
        ({"type": "registrants", "attendance": "late"}, "attendance"),
        (
            {"type": "registrants", "attendance": "no_show", "statuses": ["waitlisted"]},
            "attendance",
        ),
        ({"type": "registrants", "languages": ["xx"]}, "languages"),
        ({"type": "registrants", "question": {"id": 999999, "answer": "x"}}, "question"),
        ({"type": "registrants", "question": "vegan"}, "question"),
        ({"type": "registrants", "colour": "red"}, "type"),
        ({"type": "subscribers", "interests": "art"}, "interests"),
        ({"type": "contacts", "organisations": [999999]}, "organisations"),
        ({"type": "contacts"}, "organisations"),
    ],
)
def test_a_bad_segment_is_refused_with_a_message_for_its_field(make_event, data, field):
    event = make_event()
    if isinstance(data, dict) and data.get("type") == "registrants":
        data = {"events": [event.id], **data}
    with pytest.raises(InvalidInput) as refused:
        Segment.from_dict(data)
    assert field in refused.value.errors
    assert all(isinstance(message, str) and message for message in refused.value.errors.values())


def test_a_question_must_be_a_choice_of_the_chosen_events(make_event):
    options = [{"value": "yes", "label": {"de": "ja"}}]
    mine = make_event(
        questions=[
            {"kind": QuestionKind.SHORT_TEXT, "label": {"de": "Name"}},
            {"kind": QuestionKind.SINGLE_CHOICE, "label": {"de": "Wahl"}, "options": options},
        ]
    )
    other = make_event(questions=[{"kind": QuestionKind.CHECKBOX, "label": {"de": "ok"}}])
    text, choice = mine.questions
    for question, answer in ((text, "x"), (choice, "no"), (other.questions[0], "yes")):
        with pytest.raises(InvalidInput) as refused:
            registrants([mine], question={"id": question.id, "answer": answer})
        assert "question" in refused.value.errors
    assert registrants([mine], question={"id": choice.id, "answer": "yes"}).question


def test_a_segment_round_trips_through_its_json(make_event, make_org):
    event, org = make_event(), make_org()
    for data in (
        {
            "type": "registrants",
            "events": [event.id],
            "statuses": ["waitlisted", "confirmed"],
            "attendance": None,
            "languages": ["en"],
            "question": None,
        },
        {"type": "subscribers", "languages": ["de"], "interests": ["art"]},
        {"type": "contacts", "organisations": [org.id]},
    ):
        segment = Segment.from_dict(data)
        assert Segment.from_dict(segment.to_dict()) == segment
    assert registrants([event]).to_dict()["statuses"] == ["confirmed"]


def test_sample_and_find_recipient_read_the_same_query(make_event):
    event = make_event()
    add_people(event, 30)
    segment = registrants([event])

    first = sample(segment, OUTREACH, limit=5)
    assert [row.email for row in first] == sorted(row.email for row in first)
    assert len(first) == 5
    found = find_recipient(segment, OUTREACH, " Person7@Example.org ")
    assert found is not None and found.name == "Person person 7"
    assert found.first_name == "Person"
    assert find_recipient(segment, OUTREACH, "stranger@example.org") is None


def test_keyset_bounds_walk_the_segment_without_gaps(make_event):
    event = make_event()
    add_people(event, 25)
    segment = registrants([event])
    seen: list[str] = []
    last = None
    while True:
        rows = [
            row.email
            for row in db.session.execute(
                recipients(segment, OUTREACH, after=last).order_by("email").limit(7)
            )
        ]
        if not rows:
            break
        seen += rows
        last = rows[-1]
    assert len(seen) == len(set(seen)) == 25


def test_a_user_is_no_contact_of_an_organisation_they_do_not_belong_to(make_org, make_user):
    org, other = make_org(contact_email=None), make_org(contact_email=None)
    make_user("partner", org=other, email="elsewhere@example.org")
    segment = Segment.from_dict({"type": "contacts", "organisations": [org.id]})
    assert emails(segment) == set()


@pytest.mark.parametrize(
    "segment",
    [
        {"type": "contacts", "organisations": [99999999999999999999]},
        {"type": "registrants", "events": [2**63]},
        {"type": "registrants", "events": [1], "question": {"id": 2**64, "answer": "x"}},
    ],
)
def test_ids_too_large_for_any_row_are_refused_not_crashed(app, segment):
    with pytest.raises(InvalidInput):
        Segment.from_dict(segment)
