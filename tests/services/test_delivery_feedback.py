"""Bounces and complaints feed the suppression list; every report is kept once.

The fixtures are written the way Postfix and Exim write delivery status
notifications (RFC 3464) and mailbox providers write complaint reports
(ARF, RFC 5965); tests/test_cli_bounces.py and tests/web/test_delivery_webhook.py
reuse them.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from outreach.extensions import db
from outreach.mail.letter import message_id_for
from outreach.mail.suppression import is_suppressed
from outreach.mail.worker import Worker
from outreach.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    DeliveryProblem,
    DeliveryReport,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    Suppression,
    SuppressionReason,
    SuppressionScope,
    utcnow,
)
from outreach.services.delivery_feedback import parse_report, process_message

# -- fixture messages ---------------------------------------------------------------------


def postfix_dsn(
    recipient: str,
    message_id: str | None,
    *,
    action: str = "failed",
    status: str = "5.1.1",
    diagnostic: str = "smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected:\n"
    "    User unknown in virtual mailbox table",
    queue_id: str = "4C3A21A0",
) -> bytes:
    """A Postfix bounce (or, with action "delayed", its delay warning) returning the headers."""
    diagnostic = diagnostic.format(rcpt=recipient)
    subject = (
        "Delayed Mail (still being retried)"
        if action == "delayed"
        else "Undelivered Mail Returned to Sender"
    )
    returned_id = f"Message-ID: {message_id}\n" if message_id else ""
    return f"""Return-Path: <>
Received: by mx.outreach.test (Postfix)
	id {queue_id}; Mon,  2 Mar 2026 10:00:05 +0100 (CET)
Date: Mon,  2 Mar 2026 10:00:05 +0100 (CET)
From: MAILER-DAEMON@mx.outreach.test (Mail Delivery System)
Subject: {subject}
To: bounces@outreach.test
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="{queue_id}.1772442005/mx.outreach.test"
Content-Transfer-Encoding: 8bit
Message-Id: <20260302090005.{queue_id}@mx.outreach.test>

This is a MIME-encapsulated message.

--{queue_id}.1772442005/mx.outreach.test
Content-Description: Notification
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

This is the mail system at host mx.outreach.test.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

                   The mail system

<{recipient}>: host mail.example.org[203.0.113.5] said: {diagnostic}
    (in reply to RCPT TO command)

--{queue_id}.1772442005/mx.outreach.test
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.outreach.test
X-Postfix-Queue-ID: {queue_id}
X-Postfix-Sender: rfc822; bounces@outreach.test
Arrival-Date: Mon,  2 Mar 2026 10:00:01 +0100 (CET)

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mail.example.org
Diagnostic-Code: {diagnostic}

--{queue_id}.1772442005/mx.outreach.test
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers
Content-Transfer-Encoding: 8bit

Return-Path: <bounces@outreach.test>
Received: from outreach.test (outreach.test [192.0.2.10])
	by mx.outreach.test (Postfix) with ESMTP id {queue_id}
	for <{recipient}>; Mon,  2 Mar 2026 10:00:01 +0100 (CET)
{returned_id}From: Outreach <outreach@outreach.test>
To: {recipient}
Subject: =?utf-8?q?Anmeldung_best=C3=A4tigt?=
Date: Mon, 02 Mar 2026 09:00:00 +0000

--{queue_id}.1772442005/mx.outreach.test--
""".replace("\n", "\r\n").encode()


def exim_dsn(recipient: str, message_id: str) -> bytes:
    """An Exim bounce: status 5.0.0, the SMTP reply in Diagnostic-Code, the message returned."""
    return f"""Return-path: <>
Envelope-to: bounces@outreach.test
Delivery-date: Mon, 02 Mar 2026 10:01:00 +0100
Received: from Debian-exim by mx2.example.net with local (Exim 4.96)
	id 1tXYZa-000Abc-2Q
	for bounces@outreach.test;
	Mon, 02 Mar 2026 10:01:00 +0100
X-Failed-Recipients: {recipient}
Auto-Submitted: auto-replied
From: Mail Delivery System <Mailer-Daemon@mx2.example.net>
To: bounces@outreach.test
Content-Type: multipart/report; report-type=delivery-status; boundary=1772442060-eximdsn-1804289383
MIME-Version: 1.0
Subject: Mail delivery failed: returning message to sender
Message-Id: <E1tXYZa-000Abc-2Q@mx2.example.net>
Date: Mon, 02 Mar 2026 10:01:00 +0100

--1772442060-eximdsn-1804289383
Content-type: text/plain; charset=us-ascii

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {recipient}
    host mx.example.com [198.51.100.7]
    SMTP error from remote mail server after RCPT TO:<{recipient}>:
    550 No such user here

--1772442060-eximdsn-1804289383
Content-type: message/delivery-status

Reporting-MTA: dns; mx2.example.net

Action: failed
Final-Recipient: rfc822;{recipient}
Status: 5.0.0
Remote-MTA: dns; mx.example.com
Diagnostic-Code: smtp; 550 No such user here

--1772442060-eximdsn-1804289383
Content-type: message/rfc822

Return-path: <bounces@outreach.test>
Received: from outreach.test ([192.0.2.10])
	by mx2.example.net with esmtp (Exim 4.96)
	id 1tXYZZ-000Abb-1x
	for {recipient};
	Mon, 02 Mar 2026 10:00:59 +0100
From: Outreach <outreach@outreach.test>
To: {recipient}
Subject: Sommerfest
Message-ID: {message_id}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Guten Tag, Ihre Anmeldung ist bestätigt.

--1772442060-eximdsn-1804289383--
""".encode()


def arf_report(message_id: str, recipient: str | None, *, kind: str = "abuse") -> bytes:
    """A complaint (ARF) as a mailbox provider sends it; ``recipient`` None when redacted."""
    rcpt_to = f"Original-Rcpt-To: <{recipient}>\n" if recipient else ""
    return f"""From: <feedbackloop@feedback.example.com>
Date: Tue, 03 Mar 2026 14:00:00 +0000
Subject: FW: Sommerfest
To: <abuse@outreach.test>
Message-ID: <arf-{hashlib.sha256(message_id.encode()).hexdigest()[:12]}@feedback.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
     boundary="part1_13d.2e68ed54_boundary"

--part1_13d.2e68ed54_boundary
Content-Type: text/plain; charset="US-ASCII"
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP
192.0.2.10 on Tue, 03 Mar 2026 13:55:00 +0000.

--part1_13d.2e68ed54_boundary
Content-Type: message/feedback-report

Feedback-Type: {kind}
User-Agent: ExampleFBL/1.0
Version: 1
Original-Mail-From: <bounces@outreach.test>
{rcpt_to}Arrival-Date: Tue, 03 Mar 2026 13:55:00 +0000
Reporting-MTA: dns; mail.example.com
Source-IP: 192.0.2.10

--part1_13d.2e68ed54_boundary
Content-Type: message/rfc822
Content-Disposition: inline

From: Outreach <outreach@outreach.test>
Received: from outreach.test (outreach.test [192.0.2.10])
        by mail.example.com with ESMTP id M63d4137594e46;
        Tue, 03 Mar 2026 13:55:00 +0000
To: <redacted@example.com>
Subject: Sommerfest
MIME-Version: 1.0
Content-type: text/plain
Message-ID: {message_id}
Date: Tue, 03 Mar 2026 13:54:00 +0000

Kommen Sie zu unserem Sommerfest!
--part1_13d.2e68ed54_boundary--
""".encode()


GARBAGE = {
    "empty": b"",
    "binary": bytes(range(256)) * 4,
    "ordinary mail": b"From: someone@example.org\nSubject: Danke!\n\nVielen Dank.\n",
    "out-of-office": (
        b"From: amina@example.org\nSubject: Abwesenheitsnotiz\nAuto-Submitted: auto-replied\n"
        b"\nIch bin bis Montag nicht im Buero.\n"
    ),
    "broken report": (
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\n\n"
        b"--x\nContent-Type: message/delivery-status\n\n\x00\x01 nonsense\n--x--\n"
    ),
    "report without parts": (
        b"Content-Type: multipart/report; report-type=delivery-status\n\nno parts at all\n"
    ),
    "unknown report type": (
        b"Content-Type: multipart/report; report-type=disposition-notification; boundary=y\n\n"
        b"--y\nContent-Type: message/disposition-notification\n\nDisposition: manual-action/"
        b"MDN-sent-manually; displayed\n--y--\n"
    ),
}


# -- helpers ------------------------------------------------------------------------------


@pytest.fixture
def sent_to(make_event, make_registration):
    """Register ``email`` for a new event and return the outbox row of its confirmation."""

    def send(email: str, **values) -> OutboxMessage:
        registration = make_registration(make_event(**values), email=email).registration
        return db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.registration_id == registration.id)
        ).one()

    return send


def our_id(row: OutboxMessage) -> str:
    return message_id_for(row, "outreach.test")


def reports() -> list[DeliveryReport]:
    db.session.rollback()
    return list(db.session.scalars(select(DeliveryReport).order_by(DeliveryReport.id)))


def suppressions() -> set[tuple[str, SuppressionScope, SuppressionReason]]:
    db.session.rollback()
    return {(s.email, s.scope, s.reason) for s in db.session.scalars(select(Suppression))}


# -- bounces ------------------------------------------------------------------------------


def test_a_postfix_hard_bounce_is_recorded_against_its_message_and_suppresses_all_mail(sent_to):
    row = sent_to("amina@example.org")

    outcome = process_message(postfix_dsn("Amina@Example.org", our_id(row)))

    assert (outcome.recorded, outcome.suppressed, outcome.unrecognised) == (1, 1, 0)
    [report] = reports()
    assert report.outbox_id == row.id and report.email == "amina@example.org"
    assert report.problem is DeliveryProblem.HARD_BOUNCE and report.source == "dsn"
    assert report.detail.startswith("5.1.1 smtp; 550 5.1.1")
    assert "User unknown in virtual mailbox table" in report.detail
    assert suppressions() == {
        ("amina@example.org", SuppressionScope.ALL, SuppressionReason.HARD_BOUNCE)
    }


def test_an_exim_bounce_returning_the_whole_message_is_read_too(sent_to):
    row = sent_to("bilal@example.org")

    process_message(exim_dsn("bilal@example.org", our_id(row)))

    [report] = reports()
    assert report.outbox_id == row.id and report.problem is DeliveryProblem.HARD_BOUNCE
    assert report.detail == "5.0.0 smtp; 550 No such user here"
    assert is_suppressed("bilal@example.org")


def test_our_message_is_found_whatever_host_its_message_id_was_written_with(sent_to):
    row = sent_to("chen@example.org")
    moved = message_id_for(row, "old-host.example.net")

    process_message(postfix_dsn("chen@example.org", moved))

    assert [report.outbox_id for report in reports()] == [row.id]


def test_the_same_bounce_read_twice_adds_nothing(sent_to):
    row = sent_to("dana@example.org")
    bounce = postfix_dsn("dana@example.org", our_id(row))
    process_message(bounce)

    again = process_message(bounce)

    assert (again.recorded, again.duplicates, again.suppressed) == (0, 1, 0)
    assert len(reports()) == 1 and len(suppressions()) == 1


def test_a_bounce_without_returned_headers_is_recorded_unlinked_once(app):
    bounce = postfix_dsn("emre@example.org", None)

    process_message(bounce)
    process_message(bounce)

    [report] = reports()
    assert report.outbox_id is None and report.email == "emre@example.org"
    assert is_suppressed("emre@example.org")


def test_a_bounce_with_raw_bytes_and_nuls_in_it_is_stored_as_readable_text(sent_to):
    row = sent_to("sami@example.org")
    bounce = postfix_dsn(
        "sami@example.org", our_id(row), diagnostic="smtp; 550 5.1.1 Benutzer unbekannt"
    ).replace(b"Benutzer", b"Benutzer \xff\xfe\x00")

    process_message(bounce)

    [report] = reports()
    assert report.detail.startswith("5.1.1 smtp; 550 5.1.1 Benutzer")
    assert report.detail.endswith(" unbekannt") and "\x00" not in report.detail
    assert is_suppressed("sami@example.org")


def test_backscatter_about_a_message_we_never_sent_is_ignored(app):
    spam = postfix_dsn("victim@example.org", "<1234.spam@botnet.example>")

    outcome = process_message(spam)

    assert outcome.unrecognised == 1 and reports() == [] and suppressions() == set()


@pytest.mark.parametrize("name", GARBAGE)
def test_garbage_and_ordinary_mail_record_nothing(app, name):
    outcome = process_message(GARBAGE[name])

    assert (outcome.messages, outcome.unrecognised, outcome.recorded) == (1, 1, 0)
    assert reports() == []


def test_a_successful_delivery_notification_is_no_problem(sent_to):
    row = sent_to("farah@example.org")

    delivered = postfix_dsn("farah@example.org", our_id(row), action="delivered", status="2.0.0")

    assert parse_report(delivered) == []


# -- soft bounces -------------------------------------------------------------------------


def test_a_delay_warning_is_a_soft_bounce_and_suppresses_nothing(sent_to):
    row = sent_to("gul@example.org")
    warning = postfix_dsn(
        "gul@example.org",
        our_id(row),
        action="delayed",
        status="4.4.1",
        diagnostic="X-Postfix; connect to mail.example.org[203.0.113.5]:25: Connection timed out",
    )

    process_message(warning)

    [report] = reports()
    assert report.problem is DeliveryProblem.SOFT_BOUNCE and report.outbox_id == row.id
    assert not is_suppressed("gul@example.org")


def _mailbox_full(recipient: str, row: OutboxMessage) -> bytes:
    return postfix_dsn(
        recipient,
        our_id(row),
        status="4.2.2",
        diagnostic="smtp; 452 4.2.2 <{rcpt}>: Mailbox full",
        queue_id=f"Q{row.id}",
    )


def test_three_soft_bounces_suppress_the_address_and_two_do_not(sent_to):
    rows = [sent_to("hana@example.org") for _ in range(3)]

    for row in rows[:2]:
        process_message(_mailbox_full("hana@example.org", row))
    assert not is_suppressed("hana@example.org")

    outcome = process_message(_mailbox_full("hana@example.org", rows[2]))

    assert outcome.suppressed == 1
    assert suppressions() == {
        ("hana@example.org", SuppressionScope.ALL, SuppressionReason.HARD_BOUNCE)
    }
    assert [report.problem for report in reports()] == [DeliveryProblem.SOFT_BOUNCE] * 3


def test_the_same_soft_bounce_three_times_counts_once(sent_to):
    row = sent_to("ilias@example.org")

    for _ in range(3):
        process_message(_mailbox_full("ilias@example.org", row))

    assert len(reports()) == 1 and not is_suppressed("ilias@example.org")


def test_soft_bounces_older_than_thirty_days_do_not_count(sent_to):
    rows = [sent_to("jamal@example.org") for _ in range(3)]
    long_ago = utcnow() - timedelta(days=31)

    for row in rows[:2]:
        process_message(_mailbox_full("jamal@example.org", row), now=long_ago)
    process_message(_mailbox_full("jamal@example.org", rows[2]))

    assert not is_suppressed("jamal@example.org")


def test_the_soft_bounce_limit_is_configurable(app, sent_to):
    app.config["SOFT_BOUNCE_LIMIT"] = 1
    row = sent_to("kemal@example.org")

    process_message(_mailbox_full("kemal@example.org", row))

    assert is_suppressed("kemal@example.org")


# -- complaints ---------------------------------------------------------------------------


def test_a_complaint_stops_campaigns_and_newsletters_but_not_transactional_mail(sent_to):
    row = sent_to("lale@example.org")

    outcome = process_message(arf_report(our_id(row), "Lale@example.org"))

    assert outcome.suppressed == 2
    [report] = reports()
    assert report.problem is DeliveryProblem.COMPLAINT and report.outbox_id == row.id
    assert report.detail == "abuse report from dns; mail.example.com"
    assert suppressions() == {
        ("lale@example.org", SuppressionScope.OUTREACH, SuppressionReason.COMPLAINT),
        ("lale@example.org", SuppressionScope.NEWSLETTER, SuppressionReason.COMPLAINT),
    }
    assert is_suppressed("lale@example.org", MessageKind.CAMPAIGN)
    assert is_suppressed("lale@example.org", MessageKind.NEWSLETTER)
    assert not is_suppressed("lale@example.org", MessageKind.REGISTRATION_CONFIRMED)


def test_a_complaint_with_the_address_redacted_is_attributed_through_our_message(sent_to):
    row = sent_to("mina@example.org")

    process_message(arf_report(our_id(row), None))

    [report] = reports()
    assert report.email == "mina@example.org" and report.outbox_id == row.id
    assert is_suppressed("mina@example.org", MessageKind.CAMPAIGN)


def test_a_not_spam_report_is_no_complaint(sent_to):
    row = sent_to("nour@example.org")

    outcome = process_message(arf_report(our_id(row), "nour@example.org", kind="not-spam"))

    assert outcome.unrecognised == 1 and reports() == []


def test_a_complaint_we_cannot_attribute_records_nothing(app):
    outcome = process_message(arf_report("<outreach.999.0123456789abcdef@outreach.test>", None))

    assert outcome.recorded == 0 and reports() == []


# -- what the worker does afterwards --------------------------------------------------------


@pytest.fixture
def worker(app, tmp_path):
    """The mail worker, delivering to the development mailbox (no MAIL_SERVER in tests)."""
    app.config["MAILBOX_DIR"] = str(tmp_path / "mailbox")
    return Worker(app)


def _status(row_id: int) -> MessageStatus:
    db.session.rollback()
    return db.session.get(OutboxMessage, row_id).status


def _campaign_message(email: str) -> OutboxMessage:
    campaign = Campaign(
        kind=CampaignKind.OUTREACH,
        name="Sommerfest",
        texts={"de": {"subject": "Sommerfest", "body": "Kommen Sie!"}},
        segment={"type": "subscribers", "languages": [], "interests": []},
        status=CampaignStatus.QUEUED,
    )
    db.session.add(campaign)
    db.session.flush()
    message = OutboxMessage(
        kind=MessageKind.CAMPAIGN,
        recipient=email,
        language="de",
        dedupe_key=f"campaign:{campaign.id}:{email}",
        campaign_id=campaign.id,
        payload={},
    )
    db.session.add(message)
    db.session.commit()
    return message


def test_a_hard_bounce_stops_every_later_message_to_that_address(sent_to, worker):
    first = sent_to("olga@example.org")
    assert worker.run_once().counts["sent"] == 1
    process_message(postfix_dsn("olga@example.org", our_id(first)))

    later = sent_to("olga@example.org")
    campaign = _campaign_message("olga@example.org")
    someone_else = sent_to("pavel@example.org")
    worker.run_once()

    assert _status(later.id) is MessageStatus.FAILED
    assert _status(campaign.id) is MessageStatus.FAILED
    assert _status(someone_else.id) is MessageStatus.SENT


def test_a_complaint_stops_campaigns_but_not_a_registration_confirmation(sent_to, worker):
    first = sent_to("rana@example.org")
    worker.run_once()
    process_message(arf_report(our_id(first), "rana@example.org"))

    campaign = _campaign_message("rana@example.org")
    confirmation = sent_to("rana@example.org")
    worker.run_once()

    assert _status(campaign.id) is MessageStatus.SKIPPED
    assert _status(confirmation.id) is MessageStatus.SENT
