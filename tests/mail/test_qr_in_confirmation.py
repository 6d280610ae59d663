"""The check-in QR code in confirmations: an inline PNG next to the HTML part, one per person.

Messages are parsed back with the email package; the image is opened with
Pillow and compared with the code the check-in service makes for the
person, so it is known to hold their own check-in link.
"""

from __future__ import annotations

import email.policy
import io
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from PIL import Image
from sqlalchemy import select

from outreach.extensions import db
from outreach.mail.compose import LOAD_OPTIONS, compose
from outreach.mail.shared import SHARED
from outreach.mail.worker import Worker
from outreach.models import MessageKind, OutboxMessage, Registration, RegistrationStatus
from outreach.services.checkin import (
    CHECK_IN_PATH,
    check_in_url,
    qr_png,
    registration_for_check_in_token,
)
from outreach.services.registrations import cancel_registration

START = datetime(2031, 3, 14, 17, 30, tzinfo=UTC)
NOW = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)
ENTRANCE = {"en": "Show this code at the entrance.", "de": "Zeigen Sie diesen Code am Eingang vor."}

_parser = BytesParser(policy=email.policy.default)


def parse(raw: bytes) -> EmailMessage:
    return _parser.parsebytes(raw)


def row_for(registration: Registration, kind: MessageKind) -> OutboxMessage:
    db.session.expire_all()
    return db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.registration_id == registration.id, OutboxMessage.kind == kind)
        .options(*LOAD_OPTIONS)
        .order_by(OutboxMessage.id.desc())
    ).first()


def composed(registration: Registration, kind: MessageKind) -> EmailMessage:
    return parse(compose(row_for(registration, kind), now=NOW).raw)


def images(message: EmailMessage) -> list[EmailMessage]:
    return [part for part in message.walk() if part.get_content_maintype() == "image"]


def qr_of(message: EmailMessage) -> EmailMessage:
    [image] = images(message)
    return image


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def cid_sources(html: str) -> list[str]:
    return re.findall(r'<img src="cid:([^"]+)"', html)


@pytest.fixture
def event(make_event):
    return make_event(
        title="Sprachcafé",
        languages=["de", "en"],
        starts_at=START,
        ends_at=START + timedelta(hours=2),
        capacity=1,
    )


@pytest.fixture
def confirmed(event, make_registration):
    return make_registration(event, name="Ada Lovelace", language="en").registration


# -- where the image sits ---------------------------------------------------------


def test_the_qr_code_sits_next_to_the_html_and_leaves_the_invitation_where_clients_look(confirmed):
    message = composed(confirmed, MessageKind.REGISTRATION_CONFIRMED)

    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.get_payload()
    plain, related, calendar = alternative.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    assert related.get_param("type") == "text/html"
    html, image = related.get_payload()
    assert html.get_content_type() == "text/html"
    assert image.get_content_type() == "image/png"
    assert image.get_content_disposition() == "inline"
    assert calendar.get_content_type() == "text/calendar"
    assert calendar.get_param("method") == "REQUEST"
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_content() == calendar.get_content().encode("utf-8")
    assert not any(part.defects for part in message.walk())


def test_the_html_shows_the_image_by_its_content_id(confirmed):
    message = composed(confirmed, MessageKind.REGISTRATION_CONFIRMED)

    image = qr_of(message)
    content_id = image["Content-ID"]
    assert content_id.startswith("<") and content_id.endswith(">")
    assert cid_sources(html_of(message)) == [content_id[1:-1]]
    assert 'alt="Your check-in code (QR code)"' in html_of(message)


def test_the_image_is_a_png_of_the_persons_own_check_in_link(confirmed, event):
    image = qr_of(composed(confirmed, MessageKind.REGISTRATION_CONFIRMED))

    png = image.get_content()
    picture = Image.open(io.BytesIO(png))
    assert picture.format == "PNG"
    assert picture.width == picture.height >= 100
    assert png == qr_png(check_in_url(confirmed))
    url = check_in_url(confirmed)
    assert url.startswith(f"http://outreach.test{CHECK_IN_PATH}")
    token = url.removeprefix(f"http://outreach.test{CHECK_IN_PATH}")
    assert registration_for_check_in_token(token).id == confirmed.id


def test_the_raw_message_stays_ascii_with_short_crlf_lines(confirmed):
    raw = compose(row_for(confirmed, MessageKind.REGISTRATION_CONFIRMED), now=NOW).raw

    assert raw.isascii()
    assert raw.count(b"\n") == raw.count(b"\r\n")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78


# -- what the person reads ------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "de"])
def test_both_parts_say_to_show_the_code_at_the_entrance(event, make_registration, language):
    registration = make_registration(event, language=language).registration

    message = composed(registration, MessageKind.REGISTRATION_CONFIRMED)

    assert ENTRANCE[language] in text_of(message)
    assert ENTRANCE[language] in html_of(message)
    other = "de" if language == "en" else "en"
    assert ENTRANCE[other] not in message.as_string()


# -- one code per person, one rendering for all -------------------------------------


def test_people_sharing_a_rendering_each_get_their_own_code(event, make_registration):
    event.capacity = None
    db.session.commit()
    people = [make_registration(event, language="de").registration for _ in range(2)]
    SHARED.clear()

    first, second = (composed(person, MessageKind.REGISTRATION_CONFIRMED) for person in people)

    assert qr_of(first).get_content() == qr_png(check_in_url(people[0]))
    assert qr_of(second).get_content() == qr_png(check_in_url(people[1]))
    assert qr_of(first).get_content() != qr_of(second).get_content()
    assert qr_of(first)["Content-ID"] != qr_of(second)["Content-ID"]
    for message in (first, second):
        assert cid_sources(html_of(message)) == [qr_of(message)["Content-ID"][1:-1]]
    SHARED.clear()
    fresh = composed(people[1], MessageKind.REGISTRATION_CONFIRMED)
    assert html_of(fresh) == html_of(second)


def test_a_resend_carries_the_same_content_id(confirmed):
    row = row_for(confirmed, MessageKind.REGISTRATION_CONFIRMED)

    first = parse(compose(row, now=NOW).raw)
    again = parse(compose(row, now=NOW + timedelta(hours=1)).raw)

    assert qr_of(first)["Content-ID"] == qr_of(again)["Content-ID"]


# -- who gets one -----------------------------------------------------------------


def test_a_person_promoted_from_the_waitlist_gets_their_code(confirmed, event, make_registration):
    waiting = make_registration(event, language="en").registration
    assert waiting.status is RegistrationStatus.WAITLISTED
    assert not images(composed(waiting, MessageKind.REGISTRATION_WAITLISTED))

    cancel_registration(confirmed)
    message = composed(waiting, MessageKind.WAITLIST_PROMOTED)

    assert qr_of(message).get_content() == qr_png(check_in_url(waiting))
    assert cid_sources(html_of(message)) == [qr_of(message)["Content-ID"][1:-1]]
    assert ENTRANCE["en"] in text_of(message)


def test_an_online_only_event_has_no_door_and_no_code(make_event, make_registration):
    event = make_event(venue_name=None, venue_city=None, online_url="https://meet.example.org/x")
    registration = make_registration(event, language="en").registration

    message = composed(registration, MessageKind.REGISTRATION_CONFIRMED)

    assert not images(message)
    assert "<img" not in html_of(message)
    assert ENTRANCE["en"] not in text_of(message)
    alternative, _attachment = message.get_payload()
    assert [part.get_content_type() for part in alternative.get_payload()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]


def test_a_cancellation_carries_no_code(confirmed):
    cancel_registration(confirmed)

    message = composed(confirmed, MessageKind.REGISTRATION_CANCELLED)

    assert not images(message)
    assert ENTRANCE["en"] not in message.as_string()


# -- through the worker and a real SMTP server ----------------------------------------


def test_the_code_arrives_through_smtp_intact(mail_app, smtp, event, confirmed):
    assert Worker(mail_app).run_once()["sent"] == 1

    [received] = smtp.to(confirmed.email)
    image = qr_of(received)
    assert image.get_content() == qr_png(check_in_url(confirmed))
    assert cid_sources(html_of(received)) == [image["Content-ID"][1:-1]]
    assert ENTRANCE["en"] in text_of(received)
