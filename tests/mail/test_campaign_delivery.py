"""Campaigns end to end: enqueued, sent by the worker to a real SMTP server, unsubscribed from.

The campaign engine writes the rows (``enqueue_due``, as the worker's
scheduler step does), ``Worker.run_once`` sends them to the loopback server
of tests/mail/conftest.py, and the tests parse what the server received.
"""

from __future__ import annotations

import re
from collections import Counter
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest

from outreach.extensions import db
from outreach.mail.worker import Worker
from outreach.models import (
    Campaign,
    CampaignKind,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    Suppression,
    SuppressionScope,
)
from outreach.services import campaigns
from outreach.services.campaigns import CampaignInput
from tests.services.test_segments import add_people

TEXTS = {
    "de": {
        "subject": "Einladung für {{ first_name }}",
        "body": "Hallo {{ name }},\n\nwir feiern **{{ event.title }}** am {{ event.date }}.\n\n"
        "[Zur Veranstaltung]({{ event.url }})",
    },
    "en": {
        "subject": "Invitation for {{ first_name }}",
        "body": "Hello {{ name }},\n\nwe celebrate **{{ event.title }}** on {{ event.date }}.\n\n"
        "[To the event]({{ event.url }})",
    },
}


@pytest.fixture
def send_campaign(mail_app, make_user):
    """Create a campaign to the confirmed registrants of ``events``, queue it, send it all."""
    staff = make_user("staff")
    mail_app.config["MAIL_UNSUBSCRIBE_ADDRESS"] = "unsubscribe@outreach.test"

    def send(*events, texts=TEXTS) -> Campaign:
        campaign = campaigns.create_campaign(
            CampaignInput(
                kind=CampaignKind.OUTREACH,
                name="Sommerfest",
                texts=texts,
                fallback_language="de",
                segment={"type": "registrants", "events": [event.id for event in events]},
            ),
            by=staff,
        )
        campaigns.send_now(campaign, by=staff)
        campaigns.enqueue_due()
        Worker(mail_app, batch_size=500).run_once()
        db.session.rollback()
        return db.session.get(Campaign, campaign.id)

    return send


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


def unsubscribe_link(message: EmailMessage) -> str:
    header = " ".join(str(message["List-Unsubscribe"]).split())
    links = re.findall(r"<([^>]+)>", header)
    https = [link for link in links if link.startswith(("http://", "https://"))]
    assert https and any(link.startswith("mailto:") for link in links), header
    return https[0]


def test_two_thousand_people_each_get_one_message_in_their_language(
    send_campaign, make_event, smtp
):
    event = make_event(title="Sommerfest")
    add_people(event, 1200, prefix="de", language="de")
    add_people(event, 800, prefix="en", language="en")

    campaign = send_campaign(event)

    assert smtp.wait_for(2000, timeout=60) == 2000
    assert campaigns.progress(campaign) == campaigns.CampaignProgress(total=2000, sent=2000)
    assert set(smtp.recipients().values()) == {1}
    assert len(smtp.recipients()) == 2000
    languages = Counter()
    for message in smtp.messages():
        address = str(message["To"].addresses[0].addr_spec)
        german = address.startswith("de")
        subject = str(message["Subject"])
        assert subject.startswith("Einladung für" if german else "Invitation for"), subject
        languages["de" if german else "en"] += 1
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert urlsplit(unsubscribe_link(message)).path.startswith("/unsubscribe/")
    assert languages == {"de": 1200, "en": 800}

    sample = smtp.to("en7@example.org")[0]
    text = body_text(sample)
    assert "Hello Person en 7," in text
    assert f"To the event (http://outreach.test/events/{event.slug})" in text
    html = sample.get_body(preferencelist=("html",)).get_content()
    assert "<strong>Sommerfest</strong>" in html


def test_after_one_click_unsubscribe_the_next_campaign_skips_them_but_own_mail_goes(
    send_campaign, make_event, make_registration, smtp, client
):
    event = make_event(title="Lesung")
    add_people(event, 3, language="en")

    send_campaign(event)
    first = smtp.to("person1@example.org")
    assert len(first) == 1
    link = urlsplit(unsubscribe_link(first[0]))

    # What a mail client does with List-Unsubscribe-Post: one POST, no login, no cookie.
    client.delete_cookie("session")
    answer = client.post(link.path, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code in (200, 204)
    db.session.rollback()
    scopes = {
        row.scope for row in db.session.query(Suppression).filter_by(email="person1@example.org")
    }
    assert scopes == {SuppressionScope.OUTREACH}

    # Their own registration's mail still goes to them.
    later = make_event(title="Konzert")
    make_registration(later, email="person1@example.org", language="en")
    add_people(later, 1, prefix="other")
    second = send_campaign(later, event)

    queued = {
        row.recipient for row in db.session.query(OutboxMessage).filter_by(campaign_id=second.id)
    }
    assert "person1@example.org" not in queued
    assert queued == {"person0@example.org", "person2@example.org", "other0@example.org"}
    kinds = [
        row.kind
        for row in db.session.query(OutboxMessage).filter_by(
            recipient="person1@example.org", status=MessageStatus.SENT
        )
    ]
    assert sorted(kinds) == sorted([MessageKind.CAMPAIGN, MessageKind.REGISTRATION_CONFIRMED])
    assert len(smtp.to("person1@example.org")) == 2
    assert len(smtp.to("person0@example.org")) == 2
