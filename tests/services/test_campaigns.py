"""Campaigns: checked when saved, scheduled, queued once per person in their language, cancelled."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from outreach.extensions import db
from outreach.models import (
    AuditEntry,
    Campaign,
    CampaignKind,
    CampaignStatus,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    RegistrationStatus,
    SubscriberStatus,
    Suppression,
    SuppressionReason,
    SuppressionScope,
    utcnow,
)
from outreach.services import campaigns
from outreach.services.campaigns import (
    CampaignInput,
    CampaignNotCancellable,
    CampaignNotDue,
    CampaignNotEditable,
    CampaignNotSchedulable,
    RecipientNotInAudience,
)
from outreach.services.errors import InvalidInput
from tests.concurrency import run_together
from tests.services.test_segments import add_people, subscriber

TEXTS = {
    "de": {"subject": "Hallo {{ first_name }}", "body": "Wir sehen uns bei {{ event.title }}."},
    "en": {"subject": "Hello {{ first_name }}", "body": "See you at {{ event.title }}."},
}


@pytest.fixture
def staff(make_user):
    return make_user("staff")


@pytest.fixture
def campaign_input():
    def make(event_ids=(), **values) -> CampaignInput:
        return CampaignInput(
            kind=values.pop("kind", CampaignKind.OUTREACH),
            name=values.pop("name", "Sommerfest-Einladung"),
            texts=values.pop("texts", TEXTS),
            fallback_language=values.pop("fallback_language", "de"),
            segment=values.pop(
                "segment", {"type": "registrants", "events": list(event_ids), **values}
            ),
        )

    return make


@pytest.fixture
def due_campaign(campaign_input, staff):
    """A campaign to the confirmed registrants of ``events``, marked to be sent now."""

    def make(*events, **values) -> Campaign:
        campaign = campaigns.create_campaign(
            campaign_input([event.id for event in events], **values), by=staff
        )
        return campaigns.send_now(campaign, by=staff)

    return make


def rows(campaign: Campaign) -> list[OutboxMessage]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.campaign_id == campaign.id)
            .order_by(OutboxMessage.recipient)
        )
    )


def fresh(campaign: Campaign) -> Campaign:
    db.session.rollback()
    return db.session.get(Campaign, campaign.id, populate_existing=True)


def actions(campaign: Campaign) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.subject_type == "campaigns", AuditEntry.subject_id == campaign.id)
            .order_by(AuditEntry.id)
        )
    )


# -- writing -------------------------------------------------------------------------------


def test_a_campaign_is_saved_as_a_draft_with_its_audience_normalised(
    campaign_input, staff, make_event
):
    event = make_event()
    campaign = campaigns.create_campaign(campaign_input([event.id]), by=staff)
    assert campaign.status is CampaignStatus.DRAFT
    assert campaign.segment["statuses"] == ["confirmed"]
    assert campaign.created_by_id == staff.id
    assert actions(campaign) == ["campaign.created"]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"texts": {}}, "texts"),
        ({"texts": {"de": {"subject": "", "body": ""}}}, "texts"),
        ({"texts": {"de": {"subject": "Nur Betreff", "body": ""}}}, "de.body"),
        ({"texts": {"xx": {"subject": "S", "body": "B"}}}, "texts"),
        ({"fallback_language": "en", "texts": {"de": TEXTS["de"]}}, "fallback_language"),
        ({"name": "  "}, "name"),
        ({"kind": "spam"}, "kind"),
        ({"kind": CampaignKind.NEWSLETTER}, "type"),
        ({"texts": {"de": {"subject": "Hi {{ vorname }}", "body": "x"}}}, "de.subject"),
        ({"texts": {"de": {"subject": "Hi", "body": "<script>alert(1)</script>"}}}, "de.body"),
        ({"statuses": ["maybe"]}, "statuses"),
    ],
)
def test_bad_input_is_refused_with_field_messages_and_nothing_is_saved(
    campaign_input, staff, make_event, counts, values, field
):
    event = make_event()
    with pytest.raises(InvalidInput) as refused:
        campaigns.create_campaign(campaign_input([event.id], **values), by=staff)
    assert field in refused.value.errors
    assert db.session.scalar(select(func.count(Campaign.id))) == 0
    assert counts()[1] == 0


def test_a_newsletter_goes_to_subscribers_and_subscribers_get_only_newsletters(
    campaign_input, staff
):
    texts = {"de": {"subject": "Neues", "body": "Hallo {{ name }}! {{ unsubscribe_url }}"}}
    newsletter = campaigns.create_campaign(
        campaign_input(kind=CampaignKind.NEWSLETTER, texts=texts, segment={"type": "subscribers"}),
        by=staff,
    )
    assert newsletter.kind is CampaignKind.NEWSLETTER
    with pytest.raises(InvalidInput) as refused:
        campaigns.create_campaign(
            campaign_input(texts=texts, segment={"type": "subscribers"}), by=staff
        )
    assert "type" in refused.value.errors
    # The event is no placeholder where the audience has no event.
    with pytest.raises(InvalidInput) as refused:
        campaigns.create_campaign(
            campaign_input(kind=CampaignKind.NEWSLETTER, segment={"type": "subscribers"}),
            by=staff,
        )
    assert "event" in refused.value.errors["de.body"]


def test_only_drafts_and_scheduled_campaigns_change(campaign_input, staff, make_event):
    event = make_event()
    campaign = campaigns.create_campaign(campaign_input([event.id]), by=staff)
    campaigns.update_campaign(campaign, campaign_input([event.id], name="Neuer Name"), by=staff)
    assert fresh(campaign).name == "Neuer Name"
    campaigns.schedule(campaign, utcnow() + timedelta(days=1), by=staff)
    campaigns.update_campaign(
        campaign, campaign_input([event.id], statuses=["waitlisted"]), by=staff
    )
    assert fresh(campaign).segment["statuses"] == ["waitlisted"]
    campaigns.cancel(campaign, by=staff)
    with pytest.raises(CampaignNotEditable):
        campaigns.update_campaign(campaign, campaign_input([event.id]), by=staff)
    assert actions(campaign) == [
        "campaign.created",
        "campaign.updated",
        "campaign.scheduled",
        "campaign.updated",
        "campaign.cancelled",
    ]


def test_a_campaign_is_scheduled_for_the_future_only(campaign_input, staff, make_event):
    campaign = campaigns.create_campaign(campaign_input([make_event().id]), by=staff)
    with pytest.raises(InvalidInput) as refused:
        campaigns.schedule(campaign, utcnow() - timedelta(minutes=1), by=staff)
    assert "scheduled_at" in refused.value.errors
    later = utcnow().replace(microsecond=0) + timedelta(hours=5)
    campaigns.schedule(campaign, later, by=staff)
    assert fresh(campaign).status is CampaignStatus.SCHEDULED
    assert fresh(campaign).scheduled_at == later
    # Not due yet: the scheduler leaves it, and the CLI may not take it early.
    assert campaigns.enqueue_due() == 0
    with pytest.raises(CampaignNotDue):
        campaigns.enqueue(campaign)
    assert campaigns.enqueue_due(now=later + timedelta(seconds=1)) == 0  # no registrants
    assert fresh(campaign).status is CampaignStatus.QUEUED


def test_a_draft_is_not_enqueued(campaign_input, staff, make_event):
    campaign = campaigns.create_campaign(campaign_input([make_event().id]), by=staff)
    with pytest.raises(CampaignNotDue):
        campaigns.enqueue(campaign)
    assert campaigns.enqueue_due() == 0
    assert rows(campaign) == []


# -- enqueuing -------------------------------------------------------------------------------


def test_two_thousand_people_get_one_row_each_in_their_language(
    due_campaign, make_event, make_registration
):
    first, second = make_event(), make_event()
    add_people(first, 1000, prefix="de", language="de")
    add_people(first, 600, prefix="en", language="en")
    add_people(second, 300, prefix="en", language="en")  # the same people again
    add_people(second, 399, prefix="ar", language="ar", start=1)
    add_people(first, 1, prefix="ar", language="ar")
    # ar0 registered again later, in English: the latest registration counts.
    make_registration(second, email="ar0@example.org", language="en", name="Mixed")
    add_people(second, 50, prefix="wait", status=RegistrationStatus.WAITLISTED)
    campaign = due_campaign(first, second)

    progress_seen: list[int] = []
    written = campaigns.enqueue(campaign, chunk_size=700, on_progress=progress_seen.append)

    queued = rows(campaign)
    assert written == len(queued) == 2000
    assert progress_seen == [700, 1400, 2000]
    assert len({row.recipient for row in queued}) == 2000
    languages = Counter(row.language for row in queued)
    # Arabic has no version: the fallback (German) goes to those 400.
    assert languages == {"de": 1000 + 399, "en": 601}
    mixed = next(row for row in queued if row.recipient == "ar0@example.org")
    assert (mixed.language, mixed.recipient_name) == ("en", "Mixed")
    assert all(row.kind is MessageKind.CAMPAIGN for row in queued)
    assert all(row.status is MessageStatus.QUEUED for row in queued)
    assert all(row.dedupe_key == f"campaign:{campaign.id}:{row.recipient}" for row in queued)
    assert all(row.registration_id is not None and row.event_id for row in queued)
    assert fresh(campaign).status is CampaignStatus.QUEUED
    assert fresh(campaign).recipients == 2000
    assert fresh(campaign).enqueued_at is not None
    assert campaigns.progress(campaign) == campaigns.CampaignProgress(total=2000, queued=2000)

    # Once queued, another run (a second worker, the CLI) adds nothing.
    assert campaigns.enqueue(campaign) == 0
    assert campaigns.enqueue_due() == 0
    assert len(rows(campaign)) == 2000


def test_an_unsubscribed_address_is_left_out_but_still_gets_its_own_mail(
    due_campaign, make_event, make_registration, outbox
):
    event = make_event()
    add_people(event, 5)
    db.session.add(
        Suppression(
            email="quiet@example.org",
            scope=SuppressionScope.OUTREACH,
            reason=SuppressionReason.UNSUBSCRIBED,
        )
    )
    db.session.commit()
    registration = make_registration(event, email="quiet@example.org").registration

    campaign = due_campaign(event)
    assert campaigns.enqueue(campaign) == 5
    assert "quiet@example.org" not in {row.recipient for row in rows(campaign)}
    confirmation = outbox(kind=MessageKind.REGISTRATION_CONFIRMED)
    assert [row.registration_id for row in confirmation] == [registration.id]


def test_a_crashed_enqueue_goes_on_where_it_stopped(due_campaign, make_event):
    event = make_event()
    add_people(event, 50)
    campaign = due_campaign(event)

    class Crash(Exception):
        pass

    def crash(written: int) -> None:
        raise Crash

    with pytest.raises(Crash):
        campaigns.enqueue(campaign, chunk_size=20, on_progress=crash)
    assert len(rows(campaign)) == 20
    assert fresh(campaign).status is CampaignStatus.ENQUEUING
    assert fresh(campaign).recipients == 20

    # A worker finds it stale later (its row has not moved) and finishes it.
    later = utcnow() + campaigns.STALE_ENQUEUING + timedelta(minutes=1)
    assert campaigns.enqueue_due(now=later) == 30
    assert sorted(row.recipient for row in rows(campaign)) == sorted(
        f"person{n}@example.org" for n in range(50)
    )
    assert fresh(campaign).status is CampaignStatus.QUEUED
    assert fresh(campaign).recipients == 50


def test_a_fresh_enqueuing_campaign_is_left_to_its_enqueuer(due_campaign, make_event):
    event = make_event()
    add_people(event, 3)
    campaign = due_campaign(event)
    db.session.execute(
        update(Campaign).where(Campaign.id == campaign.id).values(status="enqueuing")
    )
    db.session.commit()
    assert campaigns.enqueue_due() == 0
    assert rows(campaign) == []


def test_cancelling_mid_way_stops_between_chunks_and_skips_queued_rows(
    due_campaign, make_event, staff
):
    event = make_event()
    add_people(event, 45)
    campaign = due_campaign(event)

    def cancel_after_first_chunk(written: int) -> None:
        campaigns.cancel(db.session.get(Campaign, campaign.id), by=staff)

    campaigns.enqueue(campaign, chunk_size=20, on_progress=cancel_after_first_chunk)

    assert fresh(campaign).status is CampaignStatus.CANCELLED
    queued = rows(campaign)
    assert len(queued) == 20
    assert {row.status for row in queued} == {MessageStatus.SKIPPED}
    assert campaigns.progress(campaign).skipped == 20
    assert campaigns.enqueue_due() == 0
    with pytest.raises(CampaignNotCancellable):
        campaigns.cancel(campaign, by=staff)
    with pytest.raises(CampaignNotSchedulable):
        campaigns.send_now(campaign, by=staff)
    assert actions(campaign)[-1] == "campaign.cancelled"


def test_cancelling_a_scheduled_campaign_means_nothing_is_queued(campaign_input, staff, make_event):
    event = make_event()
    add_people(event, 3)
    campaign = campaigns.create_campaign(campaign_input([event.id]), by=staff)
    campaigns.schedule(campaign, utcnow() + timedelta(hours=1), by=staff)
    campaigns.cancel(campaign, by=staff)
    assert campaigns.enqueue_due(now=utcnow() + timedelta(hours=2)) == 0
    assert rows(campaign) == []


def test_two_workers_due_at_once_queue_each_person_once(app, due_campaign, make_event):
    event = make_event()
    add_people(event, 300)
    campaign_id = due_campaign(event).id
    db.session.remove()

    results = run_together(app, [campaigns.enqueue_due, campaigns.enqueue_due])

    assert [outcome for outcome, _ in results] == ["ok", "ok"]
    assert sorted(count for _, count in results) == [0, 300]
    campaign = db.session.get(Campaign, campaign_id)
    assert len(rows(campaign)) == 300
    assert fresh(campaign).status is CampaignStatus.QUEUED


def test_subscribers_rows_name_the_subscriber(campaign_input, staff):
    active = subscriber("reader@example.org", language="en")
    subscriber("waiting@example.org", status=SubscriberStatus.PENDING)
    campaign = campaigns.create_campaign(
        campaign_input(
            kind=CampaignKind.NEWSLETTER,
            texts={"de": {"subject": "Neu", "body": "Hallo {{ name }}"}},
            segment={"type": "subscribers"},
        ),
        by=staff,
    )
    campaigns.send_now(campaign, by=staff)
    assert campaigns.enqueue_due() == 1
    (row,) = rows(campaign)
    assert row.kind is MessageKind.NEWSLETTER
    assert row.payload == {"subscriber": active.id}
    assert (row.language, row.registration_id, row.event_id) == ("de", None, None)


def test_contacts_rows_carry_no_registration(campaign_input, staff, make_org):
    org = make_org(contact_email="info@verein.example.org")
    campaign = campaigns.create_campaign(
        campaign_input(
            texts={"de": {"subject": "Hallo", "body": "Liebe {{ name }}"}},
            segment={"type": "contacts", "organisations": [org.id]},
        ),
        by=staff,
    )
    campaigns.send_now(campaign, by=staff)
    assert campaigns.enqueue_due() == 1
    (row,) = rows(campaign)
    assert (row.recipient, row.recipient_name, row.payload) == (
        "info@verein.example.org",
        org.name,
        {},
    )


# -- watching and trying out ---------------------------------------------------------------


def test_progress_and_recipient_statuses_follow_the_rows(due_campaign, make_event):
    event = make_event()
    add_people(event, 60)
    campaign = due_campaign(event)
    campaigns.enqueue(campaign)
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.recipient.in_(["person1@example.org", "person2@example.org"]))
        .values(status=MessageStatus.FAILED, last_error="550 no such user")
    )
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.recipient == "person3@example.org")
        .values(status=MessageStatus.SENT, sent_at=utcnow())
    )
    db.session.commit()

    progress = campaigns.progress(campaign)
    assert (progress.total, progress.queued, progress.failed, progress.sent) == (60, 57, 2, 1)
    assert progress.finished == 3
    page = campaigns.recipient_statuses(campaign)
    assert page.total == 60 and len(page.items) == campaigns.PAGE_SIZE and page.pages == 2
    assert len(campaigns.recipient_statuses(campaign, page=2).items) == 10
    failed = campaigns.recipient_statuses(campaign, status=MessageStatus.FAILED)
    assert [(row.recipient, row.last_error) for row in failed.items] == [
        ("person1@example.org", "550 no such user"),
        ("person2@example.org", "550 no such user"),
    ]


def test_preview_as_a_chosen_recipient_in_a_chosen_version(
    campaign_input, staff, make_event, make_registration
):
    event = make_event(title="Sommerfest")
    make_registration(event, name="Ana Lima", email="ana@example.org", language="en")
    make_registration(event, name="Bea Kurz", email="bea@example.org")
    campaign = campaigns.create_campaign(campaign_input([event.id]), by=staff)

    as_ana = campaigns.preview(campaign, "de", recipient_email="ANA@example.org")
    assert as_ana.subject == "Hallo Ana"
    assert "Sommerfest" in as_ana.text
    first = campaigns.preview(campaign, "en")
    assert first.subject == "Hello Ana"  # the first address of the audience
    with pytest.raises(RecipientNotInAudience):
        campaigns.preview(campaign, "de", recipient_email="stranger@example.org")
    with pytest.raises(InvalidInput):
        campaigns.preview(campaign, "fr")


def test_preview_of_an_empty_audience_uses_an_example_person(campaign_input, staff, make_event):
    event = make_event(title="Lesung")
    campaign = campaigns.create_campaign(campaign_input([event.id]), by=staff)
    rendered = campaigns.preview(campaign, "de")
    assert rendered.subject == "Hallo Erika"
    assert "Lesung" in rendered.text


def test_a_test_send_goes_to_the_staff_member_and_is_no_recipient(
    due_campaign, make_event, staff, outbox
):
    event = make_event()
    add_people(event, 2)
    campaign = due_campaign(event)
    message = campaigns.test_send(campaign, to=staff, locale="en")
    again = campaigns.test_send(campaign, to=staff, locale="en")

    assert message.dedupe_key != again.dedupe_key
    assert (message.recipient, message.language, message.payload) == (
        staff.email,
        "en",
        {"test": True},
    )
    assert message.event_id == event.id and message.campaign_id == campaign.id
    campaigns.enqueue(campaign)
    assert campaigns.progress(campaign).total == 2
    assert len(outbox(kind=MessageKind.CAMPAIGN)) == 4
    assert "campaign.test_sent" in actions(campaign)


def test_the_workers_scheduler_step_queues_a_due_campaign(app, due_campaign, make_event):
    from outreach.mail.worker import Worker

    event = make_event()
    add_people(event, 12)
    campaign_id = due_campaign(event).id
    db.session.remove()

    queued = Worker(app).schedule()

    campaign = db.session.get(Campaign, campaign_id)
    assert queued >= 12
    assert len(rows(campaign)) == 12
    assert fresh(campaign).status is CampaignStatus.QUEUED
