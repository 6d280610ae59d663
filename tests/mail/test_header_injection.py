"""A stored name with a line break cannot add headers or recipients to a message.

The forms refuse such names (tests/web/test_names_in_headers.py); these tests
write them straight into the database, as an old import or a bug elsewhere
might, and send through the real worker to the SMTP server on loopback. The
message must reach its one recipient with one From, one To, one Subject, and
nothing the name tried to add.
"""

from __future__ import annotations

import pytest
from sqlalchemy import update

from outreach.extensions import db
from outreach.mail.worker import Worker
from outreach.models import (
    EventTranslation,
    MessageKind,
    MessageStatus,
    Organisation,
    OutboxMessage,
    Registration,
    User,
)
from outreach.services.account_links import request_password_reset

EVIL = "Ada\r\nBcc: everyone@evil.example\r\nSubject: You have won\nX-Evil: 1"
EVIL_VARIANTS = [
    EVIL,
    "Ada\nBcc: everyone@evil.example",
    "Ada\rBcc: everyone@evil.example",
    "Ada\u2028Bcc: everyone@evil.example",
    "Ada\x85Bcc: everyone@evil.example",
    'Ada" <everyone@evil.example>, "Eve',
]
SINGLE = ("From", "To", "Subject", "Message-ID", "Date")


def _assert_untouched(received, recipient: str) -> None:
    assert [address.lower() for address in received.rcpt_tos] == [recipient]
    message = received.message
    for name in SINGLE:
        assert len(message.get_all(name, [])) == 1, name
    assert message.get_all("Bcc") is None and message.get_all("Cc") is None
    assert message.get_all("X-Evil") is None
    [to] = message["To"].addresses  # one address, not a list the name smuggled in
    assert to.addr_spec == recipient
    assert "\n" not in to.display_name and "\r" not in to.display_name
    # The raw bytes too: no header line the name started (folded lines begin with a space).
    raw_headers = received.content.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    started = [line for line in raw_headers if line[:1] not in (b" ", b"\t")]
    assert not [line for line in started if line.lower().startswith((b"bcc", b"x-evil"))]
    assert sum(line.lower().startswith(b"subject:") for line in started) == 1


@pytest.mark.parametrize("name", EVIL_VARIANTS)
def test_a_registrants_name_cannot_add_recipients_or_headers(
    mail_app, smtp, make_event, make_registration, outbox, name
):
    event = make_event()
    make_registration(event, email="ada@example.org")
    db.session.execute(update(Registration).values(name=name))
    db.session.execute(update(OutboxMessage).values(recipient_name=name))
    db.session.commit()

    tally = Worker(mail_app).run_once()

    assert tally["sent"] == 1, tally
    [received] = smtp.received
    _assert_untouched(received, "ada@example.org")
    assert received.message["To"].addresses[0].display_name.startswith("Ada")
    assert "won" not in str(received.message["Subject"])


def test_organisation_names_and_titles_cannot_add_headers_either(
    mail_app, smtp, make_event, make_registration
):
    event = make_event()
    make_registration(event, email="ada@example.org")
    db.session.execute(update(Organisation).values(name=EVIL))
    db.session.execute(update(EventTranslation).values(title=f"Dialog{EVIL}"))
    db.session.commit()

    tally = Worker(mail_app).run_once()

    assert tally["sent"] == 1, tally
    [received] = smtp.received
    _assert_untouched(received, "ada@example.org")
    assert "\n" not in received.message["From"].addresses[0].display_name


def test_a_users_name_cannot_add_headers_to_account_mail(mail_app, smtp, make_user, outbox):
    user = make_user("staff", email="staff@example.org")
    db.session.execute(update(User).where(User.id == user.id).values(name=EVIL))
    db.session.commit()
    with mail_app.test_request_context():
        request_password_reset("staff@example.org")
    [row] = outbox(kind=MessageKind.PASSWORD_RESET)
    assert row.recipient_name == EVIL  # the row carries the name as stored

    tally = Worker(mail_app).run_once()

    assert tally["sent"] == 1, tally
    [received] = smtp.received
    _assert_untouched(received, "staff@example.org")
    db.session.rollback()
    assert outbox()[0].status is MessageStatus.SENT
