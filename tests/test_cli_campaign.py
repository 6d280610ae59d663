"""``flask outreach campaign …``: list, show, send with a progress bar and live counts, cancel."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from outreach.extensions import db
from outreach.models import (
    AuditEntry,
    Campaign,
    CampaignKind,
    CampaignStatus,
    MessageStatus,
    OutboxMessage,
    utcnow,
)
from outreach.services import campaigns
from outreach.services.campaigns import CampaignInput
from tests.services.test_segments import add_people


@pytest.fixture
def draft(app, make_event, make_user):
    """A draft campaign to the 12 confirmed registrants of an event."""
    event = make_event()
    add_people(event, 12)
    return campaigns.create_campaign(
        CampaignInput(
            kind=CampaignKind.OUTREACH,
            name="Herbstfest",
            texts={"de": {"subject": "Hallo {{ first_name }}", "body": "Bis bald!"}},
            fallback_language="de",
            segment={"type": "registrants", "events": [event.id]},
        ),
        by=make_user("staff"),
    )


def invoke(runner, *args, **kwargs):
    return runner.invoke(args=["outreach", "campaign", *args], **kwargs)


def queued_rows(campaign: Campaign) -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count(OutboxMessage.id)).where(OutboxMessage.campaign_id == campaign.id)
    )


def test_list_shows_the_campaigns(runner, draft):
    result = invoke(runner, "list")
    assert result.exit_code == 0, result.output
    assert "Herbstfest" in result.output and "draft" in result.output


def test_list_says_when_there_are_none(runner):
    result = invoke(runner, "list")
    assert result.exit_code == 0 and "No campaigns." in result.output


def test_show_tells_the_audience_size_before_sending(runner, draft):
    result = invoke(runner, "show", str(draft.id))
    assert result.exit_code == 0, result.output
    assert "Recipients now: 12." in result.output
    assert "Status: draft." in result.output
    assert "0 messages" in result.output


def test_an_unknown_campaign_is_a_clear_error(runner):
    result = invoke(runner, "show", "4711")
    assert result.exit_code == 1
    assert "Diese Kampagne gibt es nicht." in result.output  # German: the default language


def test_send_asks_first_and_does_nothing_when_declined(runner, draft):
    result = invoke(runner, "send", str(draft.id), input="n\n")
    assert result.exit_code == 1
    assert "to 12 people now?" in result.output
    assert queued_rows(draft) == 0
    assert db.session.get(Campaign, draft.id).status is CampaignStatus.DRAFT


def test_send_queues_everyone_with_a_progress_bar(runner, draft):
    result = invoke(runner, "send", str(draft.id), "--yes", "--no-watch")
    assert result.exit_code == 0, result.output
    assert "Queueing" in result.output and "Queued 12 messages." in result.output
    assert queued_rows(draft) == 12
    campaign = db.session.get(Campaign, draft.id)
    assert campaign.status is CampaignStatus.QUEUED
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"campaign.send_now", "campaign.enqueued"} <= actions


def test_send_watches_until_everything_is_settled(runner, draft):
    campaigns.send_now(draft, by=None)
    campaigns.enqueue(draft)
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.campaign_id == draft.id)
        .values(status=MessageStatus.SENT, sent_at=utcnow())
    )
    db.session.commit()
    # A queued campaign is not queued again: the command only follows it.
    result = invoke(runner, "send", str(draft.id), "--yes")
    assert result.exit_code == 0, result.output
    assert "12 messages: 0 queued, 0 sending, 12 sent, 0 failed, 0 skipped." in result.output
    assert queued_rows(draft) == 12


def test_cancel_skips_what_is_not_sent(runner, draft):
    campaigns.send_now(draft, by=None)
    campaigns.enqueue(draft)
    result = invoke(runner, "cancel", str(draft.id), "--yes")
    assert result.exit_code == 0, result.output
    assert "12 skipped" in result.output
    again = invoke(runner, "send", str(draft.id), "--yes")
    assert again.exit_code == 1 and "cancelled" in again.output
