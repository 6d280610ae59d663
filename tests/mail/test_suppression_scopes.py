"""Suppression scopes: a dead address gets nothing, an unsubscribed one no bulk mail of that kind.

The worker sends to a real SMTP server on loopback; unsubscribing goes
through the link in the List-Unsubscribe header of a message it received.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from outreach.extensions import db
from outreach.mail.suppression import lift, suppress, suppressed_among
from outreach.mail.unsubscribe import unsubscribe_token
from outreach.mail.worker import Worker
from outreach.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    Registration,
    Subscriber,
    SubscriberStatus,
    Suppression,
    SuppressionReason,
    SuppressionScope,
    utcnow,
)
from outreach.services.segments import Segment, segment_size

ALL = SuppressionScope.ALL
OUTREACH = SuppressionScope.OUTREACH
NEWSLETTER = SuppressionScope.NEWSLETTER
UNSUBSCRIBED = SuppressionReason.UNSUBSCRIBED
TEXTS = {
    "de": {"subject": "Neuigkeiten", "body": "Hallo {{ first_name }}, es gibt Neues."},
    "en": {"subject": "News", "body": "Hello {{ first_name }}, there is news."},
}


def add(address: str, scope: SuppressionScope, reason=UNSUBSCRIBED) -> None:
    suppress(address, reason, scope=scope)
    db.session.commit()


def make_campaign(kind: CampaignKind = CampaignKind.OUTREACH) -> Campaign:
    campaign = Campaign(
        kind=kind,
        name="Neuigkeiten",
        texts=TEXTS,
        fallback_language="de",
        segment={},
        status=CampaignStatus.QUEUED,
    )
    db.session.add(campaign)
    db.session.commit()
    return campaign


def queue(
    campaign: Campaign,
    address: str,
    *,
    language: str = "de",
    registration: Registration | None = None,
    payload: dict | None = None,
) -> int:
    """Write a campaign's outbox row as the engine does; return its id."""
    kind = (
        MessageKind.NEWSLETTER if campaign.kind is CampaignKind.NEWSLETTER else MessageKind.CAMPAIGN
    )
    test = (payload or {}).get("test") is True
    row = OutboxMessage(
        kind=kind,
        recipient=address,
        recipient_name=registration.name if registration else "",
        language=language,
        dedupe_key=f"campaign{'-test' if test else ''}:{campaign.id}:{address}",
        campaign_id=campaign.id,
        registration_id=registration.id if registration else None,
        event_id=registration.event_id if registration else None,
        payload=payload or {},
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def status_of(row_id: int) -> tuple[MessageStatus, str | None]:
    db.session.rollback()
    row = db.session.get(OutboxMessage, row_id)
    db.session.refresh(row)
    return row.status, row.last_error


def make_subscriber(address: str) -> Subscriber:
    now = utcnow()
    subscriber = Subscriber(
        email=address,
        language="de",
        interests=[],
        status=SubscriberStatus.ACTIVE,
        consent_version="newsletter-test",
        consent_language="de",
        consented_at=now,
        confirmed_at=now,
    )
    db.session.add(subscriber)
    db.session.commit()
    return subscriber


# -- the list -----------------------------------------------------------------------


def test_an_address_has_one_entry_per_scope_and_twice_is_harmless(app):
    assert suppress("Ada@Example.org", UNSUBSCRIBED, scope=OUTREACH) is True
    assert suppress("ada@example.org", UNSUBSCRIBED, scope=OUTREACH) is False
    assert suppress("ada@example.org", SuppressionReason.HARD_BOUNCE, "5.1.1") is True
    db.session.commit()

    rows = db.session.execute(select(Suppression.email, Suppression.scope)).all()
    assert sorted(rows) == [("ada@example.org", ALL), ("ada@example.org", OUTREACH)]


def test_which_entries_stop_which_kind_of_mail(app):
    add("outreach@example.org", OUTREACH)
    add("newsletter@example.org", NEWSLETTER)
    add("dead@example.org", ALL, SuppressionReason.HARD_BOUNCE)
    everyone = {
        "outreach@example.org",
        "newsletter@example.org",
        "dead@example.org",
        "fine@example.org",
    }

    assert suppressed_among(everyone) == {"dead@example.org"}
    assert suppressed_among(everyone, kind=MessageKind.REGISTRATION_CONFIRMED) == {
        "dead@example.org"
    }
    assert suppressed_among(everyone, kind=MessageKind.CAMPAIGN) == {
        "dead@example.org",
        "outreach@example.org",
    }
    assert suppressed_among(everyone, kind=MessageKind.NEWSLETTER) == {
        "dead@example.org",
        "newsletter@example.org",
    }
    assert suppressed_among(everyone, kind=MessageKind.NEWSLETTER_CONFIRMATION) == {
        "dead@example.org"
    }


def test_lifting_takes_back_an_unsubscription_but_never_a_bounce_or_complaint(app):
    add("ada@example.org", OUTREACH)
    add("bob@example.org", OUTREACH, SuppressionReason.COMPLAINT)

    assert lift("ada@example.org", OUTREACH) is True
    assert lift("bob@example.org", OUTREACH) is False
    with pytest.raises(ValueError, match="bounced"):
        lift("ada@example.org", ALL)
    db.session.commit()
    assert db.session.scalars(select(Suppression.email)).all() == ["bob@example.org"]


# -- the worker ---------------------------------------------------------------------


def test_the_worker_skips_bulk_mail_of_an_unsubscribed_kind_but_sends_the_rest(
    mail_app, smtp, make_event, make_registration
):
    add("ada@example.org", OUTREACH)
    outreach = queue(make_campaign(), "ada@example.org")
    news = queue(make_campaign(CampaignKind.NEWSLETTER), "ada@example.org")
    make_registration(make_event(), email="ada@example.org")

    tally = Worker(mail_app).run_once()

    assert tally.counts == {"suppressed": 1, "sent": 2}
    status, reason = status_of(outreach)
    assert status is MessageStatus.SKIPPED and "suppressed" in reason and "outreach" in reason
    assert status_of(news)[0] is MessageStatus.SENT
    subjects = sorted(str(message["Subject"]) for message in smtp.to("ada@example.org"))
    assert subjects[0] == "Neuigkeiten" and subjects[1].startswith("Sie sind angemeldet")


def test_a_dead_address_gets_no_mail_of_any_kind(mail_app, smtp, make_event, make_registration):
    add("dead@example.org", ALL, SuppressionReason.HARD_BOUNCE)
    bulk = queue(make_campaign(), "dead@example.org")
    make_registration(make_event(), email="dead@example.org")

    assert Worker(mail_app).run_once().counts == {"suppressed": 2}

    assert status_of(bulk)[0] is MessageStatus.FAILED
    assert smtp.to("dead@example.org") == []


def test_a_test_send_reaches_a_staff_member_who_unsubscribed(mail_app, smtp):
    add("staff@example.org", OUTREACH)
    row = queue(make_campaign(), "staff@example.org", payload={"test": True})

    assert Worker(mail_app).run_once().counts == {"sent": 1}

    assert status_of(row)[0] is MessageStatus.SENT
    [message] = smtp.to("staff@example.org")
    assert str(message["Subject"]).startswith("[Test]")


def test_an_unsubscribe_after_queuing_still_stops_the_message(mail_app, smtp, client):
    campaign = make_campaign(CampaignKind.NEWSLETTER)
    subscriber = make_subscriber("ada@example.org")
    row = queue(campaign, "ada@example.org", payload={"subscriber": subscriber.id})

    client.post(
        "/unsubscribe/" + unsubscribe_token("ada@example.org", NEWSLETTER),
        data={"List-Unsubscribe": "One-Click"},
    )
    Worker(mail_app).run_once()

    assert status_of(row)[0] is MessageStatus.SKIPPED
    assert smtp.to("ada@example.org") == []


# -- the whole way round ------------------------------------------------------------


def bulk_mail(smtp, address: str, subject: str) -> list:
    return [m for m in smtp.to(address) if m["List-Unsubscribe"] and m["Subject"] == subject]


def test_one_click_from_a_received_message_stops_the_next_campaign_not_registration_mail(
    mail_app, smtp, make_event, make_registration
):
    event = make_event()
    people = {
        f"{name}@example.org": make_registration(
            event, name=name.title(), email=f"{name}@example.org", language=language
        ).registration
        for name, language in [("ada", "en"), ("bruno", "de"), ("chen", "en"), ("dara", "de")]
    }
    first = make_campaign()
    for address, registration in people.items():
        queue(first, address, language=registration.language, registration=registration)
    Worker(mail_app).run_once()

    [to_ada] = bulk_mail(smtp, "ada@example.org", "News")
    assert to_ada["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    [https] = [
        link
        for link in re.findall(r"<([^<>]+)>", str(to_ada["List-Unsubscribe"]))
        if link.startswith("http")
    ]
    # What a mail client sends: no cookies, no CSRF token, just the one-click body.
    mail_app.config["WTF_CSRF_ENABLED"] = True
    with mail_app.test_client() as mail_client:
        answer = mail_client.post(
            https.removeprefix("http://outreach.test"), data={"List-Unsubscribe": "One-Click"}
        )
    mail_app.config["WTF_CSRF_ENABLED"] = False
    assert answer.status_code == 200

    segment = Segment.from_dict({"type": "registrants", "events": [event.id]})
    assert segment_size(segment, CampaignKind.OUTREACH) == 3
    second = make_campaign()
    for address, registration in people.items():
        queue(second, address, language=registration.language, registration=registration)
    make_registration(make_event(), email="ada@example.org", language="en")
    Worker(mail_app).run_once()

    assert len(bulk_mail(smtp, "ada@example.org", "News")) == 1  # the first campaign only
    assert sum("registered" in str(m["Subject"]) for m in smtp.to("ada@example.org")) == 2
    for address in ("bruno@example.org", "chen@example.org", "dara@example.org"):
        language = people[address].language
        received = bulk_mail(smtp, address, TEXTS[language]["subject"])
        assert len(received) == 2
        assert all(message["Content-Language"] == language for message in received)
