"""The review workflow and event editing: every step checked, recorded and announced."""

from __future__ import annotations

from datetime import timedelta

import pytest

from outreach.extensions import db
from outreach.models import EventStatus, MessageKind
from outreach.services import audit
from outreach.services.errors import InvalidInput
from outreach.services.event_editing import (
    EventInput,
    NotAllowed,
    QuestionInput,
    create_event,
    update_event,
)
from outreach.services.review import NotReviewable, publish, request_changes, submit


@pytest.fixture
def team(make_org, make_user):
    host, co_host, other = make_org(), make_org(), make_org()
    return {
        "host_org": host,
        "co_org": co_host,
        "staff": make_user("staff"),
        "host": make_user("partner", org=host),
        "co_host": make_user("partner", org=co_host),
        "other": make_user("partner", org=other),
    }


def test_a_partner_proposal_leads_with_its_own_organisation(team, event_input):
    event = create_event(event_input(hosts=[team["co_org"].id]), by=team["host"])

    assert event.status is EventStatus.DRAFT
    assert [host.id for host in event.hosts] == [team["host_org"].id, team["co_org"].id]
    assert event.slug == "erzaehlcafe"
    assert set(event.translations) == {"de", "en"}
    [entry] = audit.entries_for(event)
    assert entry.action == "event.created" and entry.actor_id == team["host"].id


def test_staff_choose_the_hosts(team, event_input):
    with pytest.raises(InvalidInput) as refused:
        create_event(event_input(), by=team["staff"])

    assert "hosts" in refused.value.errors


def test_bad_input_names_each_field_and_writes_nothing(team, event_input, counts):
    data = event_input(
        texts={"de": {"title": ""}}, capacity=-1, venue_name=None, venue_city=None, timezone="Mars"
    )
    data.ends_at = data.starts_at - timedelta(hours=1)

    with pytest.raises(InvalidInput) as refused:
        create_event(data, by=team["staff"])

    assert {"de.title", "capacity", "venue_name", "timezone", "ends_at"} <= set(
        refused.value.errors
    )
    assert counts() == (0, 0)


def test_the_whole_review_round_is_audited_and_announced(team, event_input, outbox):
    event = create_event(event_input(hosts=[team["co_org"].id]), by=team["host"])

    submit(event, by=team["host"])
    request_changes(event, by=team["staff"], comment="Bitte Uhrzeit prüfen")
    assert event.status is EventStatus.DRAFT and event.changes_requested
    data = EventInput.from_event(event)
    data.starts_at += timedelta(hours=1)
    data.ends_at += timedelta(hours=1)
    update_event(event, data, by=team["host"])
    submit(event, by=team["host"])
    publish(event, by=team["staff"])

    assert event.status is EventStatus.PUBLISHED and event.published_at is not None
    assert event.review_comment is None
    actions = [entry.action for entry in reversed(audit.entries_for(event))]
    assert actions == [
        "event.created",
        "event.submitted",
        "event.changes_requested",
        "event.updated",
        "event.submitted",
        "event.published",
    ]
    updated = audit.entries_for(event)[2]
    assert set(updated.changes) == {"starts_at", "ends_at"}
    kinds = [(row.kind, row.recipient) for row in outbox()]
    assert kinds.count((MessageKind.EVENT_SUBMITTED, team["staff"].email)) == 2
    assert (MessageKind.CHANGES_REQUESTED, team["co_host"].email) in kinds
    assert (MessageKind.EVENT_PUBLISHED, team["host"].email) in kinds
    # Nobody is told about their own step, and outsiders hear nothing.
    assert (MessageKind.EVENT_SUBMITTED, team["host"].email) not in kinds
    assert all(recipient != team["other"].email for _, recipient in kinds)


def test_partners_cannot_review_nor_edit_after_submitting(team, event_input):
    event = create_event(event_input(), by=team["host"])
    submit(event, by=team["host"])

    with pytest.raises(NotReviewable):
        publish(event, by=team["host"])
    with pytest.raises(NotAllowed):
        update_event(event, EventInput.from_event(event), by=team["host"])
    with pytest.raises(NotReviewable):
        submit(event, by=team["other"])
    with pytest.raises(InvalidInput):
        request_changes(event, by=team["staff"], comment="  ")
    db.session.refresh(event)
    assert event.status is EventStatus.SUBMITTED


def test_staff_publish_directly_but_not_events_in_the_past(team, event_input):
    hosts = [team["host_org"].id]
    event = create_event(event_input(hosts=hosts), by=team["staff"])
    late = create_event(
        event_input(hosts=hosts, starts_at=event.starts_at - timedelta(days=30)), by=team["staff"]
    )

    publish(event, by=team["staff"])

    assert event.status is EventStatus.PUBLISHED
    with pytest.raises(NotReviewable):
        publish(late, by=team["staff"])


def test_changing_a_published_event_tells_its_registrants(
    team, event_input, make_registration, outbox
):
    event = create_event(event_input(hosts=[team["host_org"].id]), by=team["staff"])
    publish(event, by=team["staff"])
    make_registration(event)
    data = EventInput.from_event(event)
    data.venue_name = "Rathaus"

    update_event(event, data, by=team["staff"])

    assert event.sequence == 1
    [update] = outbox(kind=MessageKind.EVENT_UPDATED)
    assert update.payload["changed"] == ["venue_name"]


def test_questions_are_frozen_once_people_registered(team, event_input, make_registration):
    event = create_event(event_input(hosts=[team["host_org"].id]), by=team["staff"])
    publish(event, by=team["staff"])
    make_registration(event)
    data = EventInput.from_event(event)
    data.questions = [QuestionInput(kind="short_text", label={"de": "Neu?"})]

    with pytest.raises(InvalidInput) as refused:
        update_event(event, data, by=team["staff"])

    assert "questions" in refused.value.errors


def test_a_co_host_editing_a_draft_keeps_the_lead_and_itself(team, event_input):
    event = create_event(event_input(hosts=[team["co_org"].id]), by=team["host"])
    data = EventInput.from_event(event)
    data.hosts = []  # what a form with every co-host unticked sends

    update_event(event, data, by=team["co_host"])

    assert [host.id for host in event.hosts] == [team["host_org"].id, team["co_org"].id]


@pytest.mark.parametrize("text", ["Bitte\x00prüfen", "esc \x1b[31m"])
def test_control_characters_are_refused_in_texts_and_comments(team, event_input, text):
    event = create_event(event_input(hosts=[team["host_org"].id]), by=team["staff"])
    data = EventInput.from_event(event)
    data.texts["de"]["description"] = text

    with pytest.raises(InvalidInput) as in_text:
        update_event(event, data, by=team["staff"])
    with pytest.raises(InvalidInput) as in_comment:
        request_changes(event, by=team["staff"], comment=text)

    assert "de.description" in in_text.value.errors
    assert "comment" in in_comment.value.errors


def test_line_breaks_and_joiners_are_fine_in_comments(team, event_input):
    event = create_event(event_input(hosts=[team["host_org"].id]), by=team["staff"])

    request_changes(event, by=team["staff"], comment="Zeile 1\r\nZeile 2\tmit میخواهم")

    assert event.review_comment.startswith("Zeile 1")
