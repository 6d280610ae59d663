"""Composing: every kind of message, built through the real services, read back as a client would.

Each message is parsed with the email package's modern parser, its calendar
parts with icalendar; manage links are opened with the test client.
"""

from __future__ import annotations

import email.policy
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from flask import current_app
from icalendar import Calendar
from sqlalchemy import select

from outreach.calendar.components import CalendarSettings
from outreach.calendar.invites import cancellation_for, invite_for
from outreach.extensions import db
from outreach.mail.compose import (
    LOAD_OPTIONS,
    NOTIFIERS,
    ComposedMessage,
    Superseded,
    Unsendable,
    compose,
)
from outreach.mail.mime import (
    HeaderRefused,
    address_header,
    display_name,
    plain_header,
    text_header,
)
from outreach.mail.shared import SHARED, StandIn, build_skeleton
from outreach.models import (
    MessageKind,
    OutboxMessage,
    Registration,
    RegistrationStatus,
)
from outreach.services.registrations import cancel_registration
from outreach.services.scheduling import cancel_event, reschedule
from outreach.services.tokens import issue_token

HOST = "outreach.test"  # of TestingConfig.BASE_URL
SENDER = "outreach@localhost"  # TestingConfig's MAIL_DEFAULT_SENDER
ONLINE = "https://meet.example.org/room-42"
# Friday 14 March 2031, 18:30–20:30 in Berlin (CET, UTC+1).
START = datetime(2031, 3, 14, 17, 30, tzinfo=UTC)
NOW = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)

_parser = BytesParser(policy=email.policy.default)


# -- helpers ------------------------------------------------------------------


def parse(composed: ComposedMessage) -> EmailMessage:
    return _parser.parsebytes(composed.raw)


def leaves(message: EmailMessage) -> list[EmailMessage]:
    return [part for part in message.walk() if not part.is_multipart()]


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def calendar_parts(message: EmailMessage) -> list[EmailMessage]:
    return [
        p for p in leaves(message) if p.get_content_type() in ("text/calendar", "application/ics")
    ]


def invitation(message: EmailMessage, method: str):
    """The parsed inline ``text/calendar; method=…`` part, checked against its .ics copy."""
    inline, attached = calendar_parts(message)
    assert inline.get_content_type() == "text/calendar"
    assert inline.get_param("method") == method
    assert inline.get_content_charset() == "utf-8"
    assert attached.get_content_type() == "application/ics"
    assert attached.is_attachment() and attached.get_filename() == "invite.ics"
    assert attached.get_content() == inline.get_content().encode("utf-8")
    calendar = Calendar.from_ical(inline.get_content())
    assert str(calendar["METHOD"]) == method
    [vevent] = calendar.walk("VEVENT")
    return vevent


def row_for(registration: Registration, kind: MessageKind) -> OutboxMessage:
    """The newest outbox row of ``kind`` for ``registration``, loaded as the worker loads it."""
    db.session.expire_all()
    return db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.registration_id == registration.id, OutboxMessage.kind == kind)
        .options(*LOAD_OPTIONS)
        .order_by(OutboxMessage.id.desc())
    ).first()


def manage_link(row: OutboxMessage) -> str:
    return f"http://{HOST}/r/{row.payload['token']}"


def opens(client, url: str) -> bool:
    return client.get(url.removeprefix(f"http://{HOST}")).status_code == 200


@pytest.fixture
def host(make_org):
    return make_org(name="Kulturverein Mitte", contact_email="team@kulturverein.example.org")


@pytest.fixture
def event(make_event, host):
    return make_event(
        title="Sprachcafé",
        hosts=[host],
        languages=["de", "en"],
        starts_at=START,
        ends_at=START + timedelta(hours=2),
        online_url=ONLINE,
        contact_email="sprachcafe@kulturverein.example.org",
        capacity=1,
    )


@pytest.fixture
def confirmed(event, make_registration):
    return make_registration(event, name="Ada Lovelace", language="de").registration


@pytest.fixture
def waitlisted(event, confirmed, make_registration):
    registration = make_registration(event, name="Grace Hopper", language="en").registration
    assert registration.status is RegistrationStatus.WAITLISTED
    return registration


# -- the confirmation, in full ------------------------------------------------


def test_every_kind_of_message_has_its_notify_function():
    assert set(NOTIFIERS) == set(MessageKind)
    assert all(notify.__name__ == f"notify_{kind.value}" for kind, notify in NOTIFIERS.items())


def test_a_confirmation_has_text_html_and_an_invitation_outlook_and_gmail_recognise(confirmed):
    composed = compose(row_for(confirmed, MessageKind.REGISTRATION_CONFIRMED), now=NOW)
    message = parse(composed)

    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == [
        "text/plain",
        "multipart/related",  # the HTML part and its check-in QR code
        "text/calendar",
    ]
    assert attachment.get_content_type() == "application/ics"
    assert not message.defects and not any(part.defects for part in message.walk())


def test_the_invitation_names_the_event_by_its_uid_and_sequence(confirmed, event):
    composed = compose(row_for(confirmed, MessageKind.REGISTRATION_CONFIRMED), now=NOW)

    vevent = invitation(parse(composed), "REQUEST")

    assert str(vevent["UID"]) == f"event-{event.uid}@{HOST}"
    assert int(vevent["SEQUENCE"]) == event.sequence == 0
    assert str(vevent["ATTENDEE"]) == f"mailto:{confirmed.email}"
    assert str(vevent["CONFERENCE"]) == ONLINE


def test_the_invitation_is_exactly_what_invite_for_builds(confirmed, waitlisted):
    row = row_for(confirmed, MessageKind.REGISTRATION_CONFIRMED)
    SHARED.clear()
    for _ in range(2):  # built afresh, then from the shared skeleton
        [inline, _file] = calendar_parts(parse(compose(row, now=NOW)))
        assert inline.get_content().encode("utf-8") == invite_for(confirmed, now=NOW)

    cancel_registration(confirmed)
    cancelled = row_for(confirmed, MessageKind.REGISTRATION_CANCELLED)
    [inline, _file] = calendar_parts(parse(compose(cancelled, now=NOW)))
    assert inline.get_content().encode("utf-8") == cancellation_for(cancelled.registration, now=NOW)


def test_each_invitation_is_built_once_and_only_two_lines_differ_per_person(confirmed, event):
    settings = CalendarSettings.from_config(current_app.config)
    for method in ("REQUEST", "CANCEL"):
        stand_in = StandIn(event, "de", RegistrationStatus.CONFIRMED)
        assert build_skeleton(method, stand_in, settings) is not None, method


def test_a_german_registrant_reads_german_with_the_time_in_the_events_zone(confirmed):
    message = parse(compose(row_for(confirmed, MessageKind.REGISTRATION_CONFIRMED), now=NOW))

    assert message["Subject"] == "Sie sind angemeldet: Sprachcafé"
    assert message["Content-Language"] == "de"
    for body in (text_of(message), html_of(message)):
        assert "Hallo Ada Lovelace," in body
        assert "Danke für Ihre Anmeldung. Ihr Platz ist bestätigt." in body
        assert "Freitag, 14. März 2031, 18:30–20:30" in body
        assert "Mitteleuropäische Normalzeit (Europe/Berlin)" in body
        assert "Thank you" not in body
    assert '<html lang="de" dir="ltr">' in html_of(message)
    # Nothing to fetch from elsewhere: the one image (the QR code) is in the message.
    assert html_of(message).count("<img") == html_of(message).count('<img src="cid:') == 1


def test_an_english_registrant_reads_english(event, make_registration):
    registration = make_registration(event, name="Alan Turing", language="en").registration

    message = parse(compose(row_for(registration, MessageKind.REGISTRATION_CONFIRMED), now=NOW))

    assert message["Subject"] == "You are registered: Sprachcafé"
    assert message["Content-Language"] == "en"
    text = text_of(message)
    assert "Hello Alan Turing," in text
    assert "Thank you for registering. Your seat is confirmed." in text
    assert "Friday, March 14, 2031" in text
    assert "Central European Standard Time (Europe/Berlin)" in text
    assert "Danke" not in text and "Freitag" not in text


def test_the_manage_link_in_the_confirmation_opens_the_registration(confirmed, client):
    row = row_for(confirmed, MessageKind.REGISTRATION_CONFIRMED)
    message = parse(compose(row, now=NOW))

    link = manage_link(row)
    assert link in text_of(message)
    assert f'href="{link}"' in html_of(message)
    assert opens(client, link)


def test_only_a_confirmed_registrant_sees_the_online_link(confirmed, waitlisted):
    to_confirmed = parse(compose(row_for(confirmed, MessageKind.REGISTRATION_CONFIRMED), now=NOW))
    to_waiting = parse(compose(row_for(waitlisted, MessageKind.REGISTRATION_WAITLISTED), now=NOW))

    assert ONLINE in text_of(to_confirmed) and ONLINE in html_of(to_confirmed)
    assert ONLINE not in to_waiting.as_string()


# -- headers ------------------------------------------------------------------


def test_headers_name_the_host_reply_to_the_contact_and_mark_the_mail_automatic(confirmed):
    message = parse(compose(row_for(confirmed, MessageKind.REGISTRATION_CONFIRMED), now=NOW))

    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Kulturverein Mitte", SENDER)
    [reply_to] = message["Reply-To"].addresses
    assert reply_to.addr_spec == "sprachcafe@kulturverein.example.org"
    [to] = message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Ada Lovelace", confirmed.email)
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["Date"].datetime == NOW
    assert message["MIME-Version"] == "1.0"


def test_reply_to_falls_back_to_the_lead_hosts_contact(make_event, host, make_registration):
    event = make_event(hosts=[host], contact_email=None)
    registration = make_registration(event).registration

    message = parse(compose(row_for(registration, MessageKind.REGISTRATION_CONFIRMED)))

    assert message["Reply-To"].addresses[0].addr_spec == "team@kulturverein.example.org"


def test_the_envelope_and_message_id_are_stable_for_a_row(confirmed, waitlisted):
    row = row_for(confirmed, MessageKind.REGISTRATION_CONFIRMED)

    first = compose(row, now=NOW)
    again = compose(row, now=NOW + timedelta(hours=3))  # a resend after a crash
    other = compose(row_for(waitlisted, MessageKind.REGISTRATION_WAITLISTED), now=NOW)

    assert first.message_id == again.message_id == parse(again)["Message-ID"]
    assert first.message_id.startswith("<") and first.message_id.endswith(f"@{HOST}>")
    assert other.message_id != first.message_id
    assert (first.envelope_from, first.recipient) == (SENDER, confirmed.email)


def test_a_host_named_with_address_characters_cannot_break_the_from_header(
    make_org, make_event, make_registration
):
    tricky = make_org(name='Foo, "Bar" <x@y>')
    registration = make_registration(make_event(hosts=[tricky])).registration

    composed = compose(row_for(registration, MessageKind.REGISTRATION_CONFIRMED), now=NOW)
    message = parse(composed)

    [sender] = message["From"].addresses
    assert sender.addr_spec == SENDER
    assert not set(sender.display_name) & set('@:,"<>')
    assert sender.display_name.split() == ["Foo", "Bar", "x", "y"]
    assert len(message.get_all("From")) == 1
    # The signature shows the name as it is, escaped in HTML.
    assert 'Foo, "Bar" <x@y>' in text_of(message)
    assert "Foo, &#34;Bar&#34; &lt;x@y&gt;" in html_of(message)


def test_display_names_lose_line_breaks_controls_and_address_characters():
    assert display_name('Eve\r\nBcc: victim@example.org, "x"') == "Eve Bcc victim example.org x"
    assert display_name("Line\u2028separator\x85next\x00") == "Line separator next"
    assert display_name("\u202eevil\u202c") == "evil"  # bidi overrides disguise a name
    assert display_name("مهدی\u200cزاده") == "مهدی\u200cزاده"  # the joiner is spelling
    assert display_name(None) == ""


@pytest.mark.parametrize("value", ["a\r\nBcc: x@y", "a\nb", "a\rb", "a\u2028b", "a\x0bb"])
def test_header_values_with_line_breaks_are_refused(value):
    with pytest.raises(HeaderRefused):
        text_header("Subject", value)
    with pytest.raises(HeaderRefused):
        plain_header("X-Test", value)
    with pytest.raises(HeaderRefused):
        address_header("To", value, "a@example.org")
    with pytest.raises(HeaderRefused):
        address_header("To", "A", f"{value}@example.org")


def test_a_name_with_a_line_break_on_the_row_still_gives_one_to_header(confirmed):
    row = row_for(confirmed, MessageKind.REGISTRATION_CONFIRMED)
    row.recipient_name = "Ada\r\nBcc: victim@example.org"  # the services refuse such names

    composed = compose(row, now=NOW)
    message = parse(composed)

    assert message["Bcc"] is None
    [to] = message["To"].addresses
    assert to.addr_spec == confirmed.email
    head = composed.raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in head
    assert "Hallo Ada Bcc: victim@example.org," in text_of(message)  # one line in the body too


def test_a_contact_address_with_a_line_break_makes_the_message_unsendable(confirmed, event):
    event.contact_email = "team@example.org\r\nBcc: victim@example.org"
    db.session.commit()

    with pytest.raises(Unsendable, match="line break"):
        compose(row_for(confirmed, MessageKind.REGISTRATION_CONFIRMED), now=NOW)


def test_an_internationalised_domain_is_sent_in_idna_form(confirmed):
    row = row_for(confirmed, MessageKind.REGISTRATION_CONFIRMED)
    row.recipient = "ada@müller.example.org"

    composed = compose(row, now=NOW)

    assert composed.recipient == "ada@xn--mller-kva.example.org"
    assert parse(composed)["To"].addresses[0].domain == "xn--mller-kva.example.org"


def test_an_address_that_needs_smtputf8_is_unsendable(confirmed):
    row = row_for(confirmed, MessageKind.REGISTRATION_CONFIRMED)
    row.recipient = "jörg@example.org"

    with pytest.raises(Unsendable, match="SMTPUTF8"):
        compose(row, now=NOW)


def test_html_escapes_what_people_typed(event, make_registration):
    registration = make_registration(
        event, name="Ada <script>alert(1)</script> & Co", language="en"
    ).registration

    message = parse(compose(row_for(registration, MessageKind.REGISTRATION_CONFIRMED)))

    html = html_of(message)
    assert "<script>" not in html
    assert "Hello Ada &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co," in html
    assert "Hello Ada <script>alert(1)</script> & Co," in text_of(message)


def test_the_raw_message_is_ascii_with_crlf_lines_no_longer_than_78(confirmed):
    raw = compose(row_for(confirmed, MessageKind.REGISTRATION_CONFIRMED), now=NOW).raw

    assert raw.isascii()
    assert raw.count(b"\n") == raw.count(b"\r\n")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78


def test_an_unknown_language_falls_back_to_the_default(confirmed):
    row = row_for(confirmed, MessageKind.REGISTRATION_CONFIRMED)
    row.language = "xx"

    message = parse(compose(row, now=NOW))

    assert message["Content-Language"] == "de"
    assert "Hallo" in text_of(message)


def test_people_sharing_a_rendering_get_what_a_fresh_rendering_gives(make_event, make_registration):
    event = make_event(online_url=ONLINE)
    people = [make_registration(event, language="de").registration for _ in range(2)]
    rows = [row_for(person, MessageKind.REGISTRATION_CONFIRMED) for person in people]
    compose(rows[0], now=NOW)

    shared = parse(compose(rows[1], now=NOW))  # rendered for the first, filled in for the second
    SHARED.clear()
    fresh = parse(compose(rows[1], now=NOW))

    assert text_of(shared) == text_of(fresh) and html_of(shared) == html_of(fresh)
    assert people[1].name in text_of(shared) and people[0].name not in text_of(shared)
    assert manage_link(rows[1]) in html_of(shared)


# -- waitlist, promotion, manage link, own cancellation -----------------------


def test_a_waitlisted_person_learns_their_place_and_gets_no_invitation(waitlisted, client):
    row = row_for(waitlisted, MessageKind.REGISTRATION_WAITLISTED)

    message = parse(compose(row, now=NOW))

    assert message.get_content_type() == "multipart/alternative"
    assert not calendar_parts(message)
    assert message["Subject"] == "You are on the waitlist: Sprachcafé"
    assert "Your place in the queue: 1." in text_of(message)
    assert opens(client, manage_link(row))


def test_a_promoted_person_gets_the_invitation_and_the_online_link(confirmed, waitlisted, client):
    cancel_registration(confirmed)
    row = row_for(waitlisted, MessageKind.WAITLIST_PROMOTED)

    message = parse(compose(row, now=NOW))

    assert message["Subject"] == "A seat is free for you: Sprachcafé"
    assert "a seat has become free, and it is yours" in text_of(message)
    assert ONLINE in text_of(message)
    vevent = invitation(message, "REQUEST")
    assert str(vevent["ATTENDEE"]) == f"mailto:{waitlisted.email}"
    assert opens(client, manage_link(row))


def test_a_second_registration_sends_a_link_that_works(event, make_registration, client):
    first = make_registration(event, email="twice@example.org", language="en")
    again = make_registration(event, email="twice@example.org", language="en")
    assert again.is_duplicate
    row = row_for(first.registration, MessageKind.MANAGE_LINK)

    message = parse(compose(row, now=NOW))

    assert message["Subject"] == "Your link for Sprachcafé"
    assert "already registered" in text_of(message)
    assert "Your seat is confirmed." in text_of(message)
    assert not calendar_parts(message)
    assert opens(client, manage_link(row))


def test_cancelling_takes_the_event_out_of_the_persons_calendar(confirmed, event):
    cancel_registration(confirmed)
    row = row_for(confirmed, MessageKind.REGISTRATION_CANCELLED)

    message = parse(compose(row, now=NOW))

    assert message["Subject"] == "Ihre Anmeldung ist storniert: Sprachcafé"
    vevent = invitation(message, "CANCEL")
    assert str(vevent["UID"]) == f"event-{event.uid}@{HOST}"
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert "/r/" not in message.as_string()  # no token owed: the link would only show "cancelled"
    assert ONLINE not in message.as_string()


def test_leaving_the_waitlist_sends_no_calendar_cancellation(waitlisted):
    cancel_registration(waitlisted)

    message = parse(compose(row_for(waitlisted, MessageKind.REGISTRATION_CANCELLED), now=NOW))

    assert "Your registration has been cancelled." in text_of(message)
    assert not calendar_parts(message)


# -- the event changes or is called off ---------------------------------------


def test_an_update_says_what_changed_and_carries_the_current_time_and_sequence(
    confirmed, waitlisted, event, client
):
    later = START + timedelta(minutes=30)
    reschedule(event, starts_at=later, ends_at=later + timedelta(hours=2))
    reschedule(event, venue_name="Stadtbibliothek")  # a second change before the worker ran
    first_update = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.dedupe_key == f"event_updated:{confirmed.id}:1")
        .options(*LOAD_OPTIONS)
    ).one()

    message = parse(compose(first_update, now=NOW))

    assert message["Subject"] == "Geändert: Sprachcafé"
    text = text_of(message)
    assert "hat sich etwas geändert: die Zeit." in text
    assert "19:00–21:00" in text and "18:30" not in text
    assert "Stadtbibliothek" in text  # composed now: the event as it is now
    vevent = invitation(message, "REQUEST")
    assert str(vevent["UID"]) == f"event-{event.uid}@{HOST}"
    assert int(vevent["SEQUENCE"]) == event.sequence == 2
    assert opens(client, manage_link(first_update))


def test_a_waitlisted_person_hears_of_the_update_without_an_invitation(waitlisted, event):
    reschedule(event, venue_name="Stadtbibliothek")

    message = parse(compose(row_for(waitlisted, MessageKind.EVENT_UPDATED), now=NOW))

    assert "The event you registered for has changed: the place." in text_of(message)
    assert not calendar_parts(message)
    assert ONLINE not in message.as_string()


def test_an_update_to_someone_who_cancelled_since_is_superseded(confirmed, waitlisted, event):
    reschedule(event, venue_name="Stadtbibliothek")
    cancel_registration(confirmed)

    with pytest.raises(Superseded):
        compose(row_for(confirmed, MessageKind.EVENT_UPDATED), now=NOW)


def test_a_cancelled_event_tells_why_and_removes_it_from_calendars(confirmed, waitlisted, event):
    cancel_event(event, "Die Referentin ist erkrankt.\nWir melden uns mit einem neuen Termin.")

    to_confirmed = parse(compose(row_for(confirmed, MessageKind.EVENT_CANCELLED), now=NOW))
    to_waiting = parse(compose(row_for(waitlisted, MessageKind.EVENT_CANCELLED), now=NOW))

    assert to_confirmed["Subject"] == "Abgesagt: Sprachcafé"
    assert "Die Referentin ist erkrankt." in text_of(to_confirmed)
    assert "Die Referentin ist erkrankt." in html_of(to_confirmed)
    vevent = invitation(to_confirmed, "CANCEL")
    assert int(vevent["SEQUENCE"]) == event.sequence == 1
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert ONLINE not in to_confirmed.as_string()
    assert "We are sorry" in text_of(to_waiting)
    assert not calendar_parts(to_waiting)


# -- reminders ----------------------------------------------------------------


@pytest.fixture
def reminder(confirmed):
    row = OutboxMessage(
        kind=MessageKind.REMINDER,
        recipient=confirmed.email,
        recipient_name=confirmed.name,
        language=confirmed.language,
        dedupe_key=f"reminder:1440:{confirmed.id}",
        event_id=confirmed.event_id,
        registration_id=confirmed.id,
        payload={"token": issue_token(confirmed), "offset": 1440},
    )
    db.session.add(row)
    db.session.commit()
    return row_for(confirmed, MessageKind.REMINDER)


def test_a_reminder_offers_to_release_the_seat(reminder, client):
    message = parse(compose(reminder, now=START - timedelta(days=1)))

    assert message["Subject"] == "Erinnerung: Sprachcafé beginnt in 1 Tag"
    text = text_of(message)
    assert "beginnt in 1 Tag" in text
    assert ONLINE in text
    cancel_link = f"{manage_link(reminder)}/cancel"
    assert cancel_link in text and f'href="{cancel_link}"' in html_of(message)
    page = client.get(cancel_link.removeprefix(f"http://{HOST}"))
    assert page.status_code == 200 and b"<form" in page.data  # asks before cancelling
    assert opens(client, manage_link(reminder))
    assert not calendar_parts(message)


def test_a_reminder_two_hours_ahead_says_so_in_english(reminder, confirmed):
    reminder.language = "en"

    message = parse(compose(reminder, now=START - timedelta(hours=2)))

    assert message["Subject"] == "Reminder: Sprachcafé starts in 2 hours"


def test_a_reminder_is_superseded_once_the_seat_is_given_up_or_the_event_began(reminder, confirmed):
    with pytest.raises(Superseded, match="started"):
        compose(reminder, now=START + timedelta(minutes=1))

    cancel_registration(confirmed)
    with pytest.raises(Superseded, match="cancelled"):
        compose(row_for(confirmed, MessageKind.REMINDER), now=NOW)


def test_a_reminder_for_a_cancelled_event_is_superseded(reminder, event):
    cancel_event(event)

    with pytest.raises(Superseded, match="event was cancelled"):
        compose(reminder, now=NOW)


# -- messages overtaken by events ---------------------------------------------


def test_a_confirmation_not_yet_sent_when_the_person_cancelled_is_superseded(confirmed):
    cancel_registration(confirmed)

    with pytest.raises(Superseded, match="cancelled now"):
        compose(row_for(confirmed, MessageKind.REGISTRATION_CONFIRMED), now=NOW)
    # The cancellation itself still goes out.
    assert compose(row_for(confirmed, MessageKind.REGISTRATION_CANCELLED), now=NOW)


def test_the_waitlist_notice_is_superseded_once_the_person_is_promoted(confirmed, waitlisted):
    cancel_registration(confirmed)

    with pytest.raises(Superseded, match="confirmed now"):
        compose(row_for(waitlisted, MessageKind.REGISTRATION_WAITLISTED), now=NOW)


def test_only_the_cancellation_goes_out_once_the_event_is_called_off(confirmed, event):
    cancel_event(event)

    with pytest.raises(Superseded):
        compose(row_for(confirmed, MessageKind.REGISTRATION_CONFIRMED), now=NOW)
    assert compose(row_for(confirmed, MessageKind.EVENT_CANCELLED), now=NOW)


# -- rows that are gone -------------------------------------------------------


def test_a_message_whose_registration_is_gone_is_unsendable(confirmed):
    row_id = row_for(confirmed, MessageKind.REGISTRATION_CONFIRMED).id
    db.session.delete(confirmed)
    db.session.commit()
    db.session.expire_all()

    row = db.session.get(OutboxMessage, row_id)
    assert row.registration is None
    with pytest.raises(Unsendable, match="registration"):
        compose(row, now=NOW)


def test_a_message_whose_event_is_gone_is_unsendable(confirmed, event):
    row_id = row_for(confirmed, MessageKind.REGISTRATION_CONFIRMED).id
    db.session.delete(event)
    db.session.commit()
    db.session.expire_all()

    with pytest.raises(Unsendable):
        compose(db.session.get(OutboxMessage, row_id), now=NOW)
