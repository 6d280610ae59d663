"""Composing the workspaces' mail: review steps, announcements, partner applications.

Rows are written by the real services (review, announcements, invitations)
or enqueued as the applications pages do; each message is parsed with the
email package and read as a client would: headers, text, HTML and links.
"""

from __future__ import annotations

import email.policy
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from sqlalchemy import select

from outreach.extensions import db
from outreach.mail.compose import LOAD_OPTIONS, Superseded, Unsendable, compose
from outreach.mail.outbox import enqueue
from outreach.mail.shared import SHARED
from outreach.mail.worker import Worker
from outreach.models import (
    ApplicationStatus,
    Audience,
    EventStatus,
    MessageKind,
    OutboxMessage,
    PartnerApplication,
    utcnow,
)
from outreach.services import review
from outreach.services.account_links import invite_partner_user
from outreach.services.announcements import announce
from outreach.services.registrations import CONSENT_VERSION, cancel_registration
from outreach.services.scheduling import cancel_event

BASE = "http://outreach.test"  # TestingConfig.BASE_URL
SENDER = "outreach@localhost"  # TestingConfig.MAIL_DEFAULT_SENDER
SITE = "Outreach"  # TestingConfig.SITE_NAME
START = datetime(2031, 3, 14, 17, 30, tzinfo=UTC)
NOW = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)

_parser = BytesParser(policy=email.policy.default)


# -- helpers ------------------------------------------------------------------


def parse(raw: bytes) -> EmailMessage:
    return _parser.parsebytes(raw)


def text_of(message: EmailMessage) -> str:
    """The plain-text body with the line ends a reader sees (the wire has CRLF)."""
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def hrefs(message: EmailMessage) -> list[str]:
    return re.findall(r'href="([^"]+)"', html_of(message))


def row(kind: MessageKind, recipient: str) -> OutboxMessage:
    """The newest row of ``kind`` to ``recipient``, loaded as the worker loads it."""
    db.session.expire_all()
    found = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.kind == kind, OutboxMessage.recipient == recipient)
        .options(*LOAD_OPTIONS)
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert found is not None, f"no {kind.value} row for {recipient}"
    return found


def written(kind: MessageKind, recipient: str, language: str | None = None) -> EmailMessage:
    """Compose the newest row of ``kind`` to ``recipient`` (in ``language``, if given)."""
    message = row(kind, recipient)
    if language:
        message.language = language
    return parse(compose(message, now=NOW).raw)


def sender_of(message: EmailMessage) -> tuple[str, str]:
    [sender] = message["From"].addresses
    return sender.display_name, sender.addr_spec


def assert_well_formed(message: EmailMessage) -> None:
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.get_payload()] == [
        "text/plain",
        "text/html",
    ]
    assert not any(part.defects for part in message.walk())
    assert message["Auto-Submitted"] == "auto-generated"


# -- fixtures -------------------------------------------------------------------


@pytest.fixture
def host(make_org):
    return make_org(name="Kulturverein Mitte", contact_email="team@kulturverein.example.org")


@pytest.fixture
def partner(make_user, host):
    return make_user("partner", org=host, name="Petra Partner", email="petra@example.org")


@pytest.fixture
def staff(make_user):
    return make_user("staff", name="Sam Staff", email="sam@example.org")


@pytest.fixture
def draft(make_event, host, partner, staff):
    return make_event(
        title="Erzählcafé",
        status=EventStatus.DRAFT,
        hosts=[host],
        starts_at=START,
        ends_at=START + timedelta(hours=2),
    )


@pytest.fixture
def submitted(draft, partner):
    review.submit(draft, by=partner, comment="Bitte <b>bald</b> prüfen.\nDanke!")
    return draft


# -- a submission, to staff -------------------------------------------------------


def test_staff_hear_who_submitted_which_event_with_the_note_and_a_link(submitted, staff):
    message = written(MessageKind.EVENT_SUBMITTED, staff.email, "en")

    assert_well_formed(message)
    assert message["Subject"] == "Petra Partner submitted Erzählcafé for review"
    assert sender_of(message) == (SITE, SENDER)
    assert message["To"].addresses[0].addr_spec == staff.email
    assert message["Reply-To"] is None
    assert message["Content-Language"] == "en"
    link = f"{BASE}/staff/events/{submitted.id}"
    text = text_of(message)
    assert "Hello Sam Staff," in text
    assert "Petra Partner submitted Erzählcafé for review." in text
    assert "> Bitte <b>bald</b> prüfen.\n> Danke!" in text
    assert "Host: Kulturverein Mitte" in text
    assert link in text
    assert link in hrefs(message)
    assert "You receive this email because you have an account at Outreach." in text


def test_a_note_typed_into_a_submission_is_escaped_in_html(submitted, staff):
    html = html_of(written(MessageKind.EVENT_SUBMITTED, staff.email, "en"))

    assert "<b>" not in html
    assert "Bitte &lt;b&gt;bald&lt;/b&gt; prüfen.<br>Danke!" in html


def test_staff_read_a_submission_in_german(submitted, staff):
    message = written(MessageKind.EVENT_SUBMITTED, staff.email, "de")

    assert message["Subject"] == "Petra Partner hat Erzählcafé zur Prüfung eingereicht"
    text = text_of(message)
    assert "Hallo Sam Staff," in text
    assert "Petra Partner schreibt:" in text
    assert "Bitte prüfen Sie die Veranstaltung" in text
    assert "Sie erhalten diese E-Mail, weil Sie ein Konto bei Outreach haben." in text
    assert "review" not in text


def test_a_submission_without_a_note_says_nothing_about_one(draft, partner, staff):
    review.submit(draft, by=partner)

    text = text_of(written(MessageKind.EVENT_SUBMITTED, staff.email, "en"))

    assert "writes:" not in text and "> " not in text


def test_a_submission_already_answered_is_superseded(submitted, staff):
    review.request_changes(submitted, by=staff, comment="Bitte ein Foto ergänzen.")

    with pytest.raises(Superseded, match="draft"):
        compose(row(MessageKind.EVENT_SUBMITTED, staff.email), now=NOW)


# -- changes requested, to the hosts ------------------------------------------------


def test_hosts_read_what_staff_would_like_changed_and_where_to_do_it(submitted, staff, partner):
    review.request_changes(submitted, by=staff, comment="Bitte ein Foto ergänzen.\n\nDanke!")

    message = written(MessageKind.CHANGES_REQUESTED, partner.email, "en")

    assert_well_formed(message)
    assert message["Subject"] == "Changes requested: Erzählcafé"
    assert sender_of(message) == (SITE, SENDER)
    text = text_of(message)
    assert "Hello Petra Partner," in text
    assert "Sam Staff has reviewed Erzählcafé and asks for changes" in text
    assert "> Bitte ein Foto ergänzen.\n>\n> Danke!" in text
    link = f"{BASE}/partner/events/{submitted.id}"
    assert link in text and link in hrefs(message)
    html = html_of(message)
    assert "<blockquote" in html
    assert '<p style="margin:0 0 12px;">Bitte ein Foto ergänzen.</p>' in html


def test_hosts_read_the_request_in_german(submitted, staff, partner):
    review.request_changes(submitted, by=staff, comment="Bitte ein Foto ergänzen.")

    message = written(MessageKind.CHANGES_REQUESTED, partner.email, "de")

    assert message["Subject"] == "Änderungswünsche zu Erzählcafé"
    assert "Sam Staff hat Erzählcafé geprüft" in text_of(message)
    assert "Die Veranstaltung ist wieder ein Entwurf." in text_of(message)


def test_a_request_for_changes_is_superseded_once_the_event_is_submitted_again(
    submitted, staff, partner
):
    review.request_changes(submitted, by=staff, comment="Bitte ein Foto ergänzen.")
    review.submit(submitted, by=partner)

    with pytest.raises(Superseded, match="submitted"):
        compose(row(MessageKind.CHANGES_REQUESTED, partner.email), now=NOW)


# -- published, to the hosts -----------------------------------------------------------


def test_hosts_learn_their_event_is_live_with_its_page_and_their_workspace(
    submitted, staff, partner
):
    review.publish(submitted, by=staff)

    message = written(MessageKind.EVENT_PUBLISHED, partner.email, "en")

    assert_well_formed(message)
    assert message["Subject"] == "Published: Erzählcafé"
    text = text_of(message)
    assert "Sam Staff has published Erzählcafé" in text
    public = f"{BASE}/events/{submitted.slug}"
    workspace = f"{BASE}/partner/events/{submitted.id}"
    for link in (public, workspace):
        assert link in text and link in hrefs(message)


def test_hosts_learn_it_in_german_too(submitted, staff, partner):
    review.publish(submitted, by=staff)

    message = written(MessageKind.EVENT_PUBLISHED, partner.email, "de")

    assert message["Subject"] == "Veröffentlicht: Erzählcafé"
    assert "Gute Nachricht: Sam Staff hat Erzählcafé veröffentlicht." in text_of(message)


def test_news_of_publication_is_superseded_once_the_event_is_called_off(submitted, staff, partner):
    review.publish(submitted, by=staff)
    cancel_event(submitted, "Raum fehlt")

    with pytest.raises(Superseded, match="cancelled"):
        compose(row(MessageKind.EVENT_PUBLISHED, partner.email), now=NOW)


def test_a_review_message_whose_event_is_gone_is_unsendable(submitted, staff):
    row_id = row(MessageKind.EVENT_SUBMITTED, staff.email).id
    db.session.delete(submitted)
    db.session.commit()
    db.session.expire_all()

    with pytest.raises(Unsendable, match="event"):
        compose(db.session.get(OutboxMessage, row_id), now=NOW)


# -- announcements, to registrants ------------------------------------------------------

BODY = "We meet in room 2.\nPlease bring <script>alert(1)</script> & snacks.\n\nSee you!"


@pytest.fixture
def event(make_event, host):
    return make_event(
        title="Sprachcafé",
        hosts=[host],
        languages=["de", "en"],
        starts_at=START,
        ends_at=START + timedelta(hours=2),
        online_url="https://meet.example.org/room-42",
        contact_email="sprachcafe@kulturverein.example.org",
        capacity=1,
    )


@pytest.fixture
def ada(event, make_registration):
    return make_registration(event, name="Ada Lovelace", language="en").registration


@pytest.fixture
def grace(event, ada, make_registration):
    return make_registration(event, name="Grace Hopper", language="de").registration


@pytest.fixture
def announced(event, ada, grace, partner):
    return announce(event, by=partner, subject="Room change", body=BODY, audience=Audience.ACTIVE)


def test_an_announcement_comes_from_the_host_with_the_text_as_written(announced, ada, client):
    message = written(MessageKind.ANNOUNCEMENT, ada.email)

    assert_well_formed(message)
    assert message["Subject"] == "Sprachcafé: Room change"
    assert sender_of(message) == ("Kulturverein Mitte", SENDER)
    assert message["Reply-To"].addresses[0].addr_spec == "sprachcafe@kulturverein.example.org"
    text = text_of(message)
    assert "Hello Ada Lovelace," in text
    assert "A message from the organisers of Sprachcafé:" in text
    assert BODY in text
    assert "https://meet.example.org/room-42" in text  # she holds a seat
    assert "Reply to this email" in text
    token = row(MessageKind.ANNOUNCEMENT, ada.email).payload["token"]
    manage = f"{BASE}/r/{token}"
    assert manage in text and manage in hrefs(message)
    assert client.get(manage.removeprefix(BASE)).status_code == 200
    assert f"{BASE}/events/{announced.event.slug}" in hrefs(message)


def test_an_announcement_is_never_rendered_as_html(announced, ada):
    html = html_of(written(MessageKind.ANNOUNCEMENT, ada.email))

    assert "<script>" not in html
    assert (
        '<p style="margin:0 0 12px;">We meet in room 2.<br>'
        "Please bring &lt;script&gt;alert(1)&lt;/script&gt; &amp; snacks.</p>"
    ) in html
    assert '<p style="margin:0 0 12px;">See you!</p>' in html


def test_a_waitlisted_person_reads_the_announcement_in_german(announced, grace):
    message = written(MessageKind.ANNOUNCEMENT, grace.email)

    assert message["Subject"] == "Sprachcafé: Room change"
    assert message["Content-Language"] == "de"
    text = text_of(message)
    assert "Hallo Grace Hopper," in text
    assert "Eine Nachricht der Veranstalter von Sprachcafé:" in text
    assert "Sie stehen auf der Warteliste." in text
    assert "https://meet.example.org/room-42" not in message.as_string()


def test_a_subject_naming_the_event_already_is_not_prefixed(event, ada, partner):
    announce(event, by=partner, subject="Sprachcafé moves to room 2", body="See you there.")

    message = written(MessageKind.ANNOUNCEMENT, ada.email)

    assert message["Subject"] == "Sprachcafé moves to room 2"


def test_people_sharing_an_announcement_rendering_get_their_own_name_and_link(
    make_event, host, partner, make_registration
):
    event = make_event(title="Sprachcafé", hosts=[host])
    people = [
        make_registration(event, name=name, language="en").registration
        for name in ("Ada Lovelace", "Alan Turing")
    ]
    announce(event, by=partner, subject="Room change", body="Room 2.")
    SHARED.clear()

    first, second = (written(MessageKind.ANNOUNCEMENT, person.email) for person in people)

    tokens = [row(MessageKind.ANNOUNCEMENT, person.email).payload["token"] for person in people]
    assert "Ada Lovelace" in text_of(first) and "Alan Turing" not in text_of(first)
    assert "Alan Turing" in text_of(second) and "Ada Lovelace" not in text_of(second)
    assert f"{BASE}/r/{tokens[1]}" in hrefs(second)
    assert f"{BASE}/r/{tokens[0]}" not in html_of(second)
    SHARED.clear()
    assert html_of(written(MessageKind.ANNOUNCEMENT, people[1].email)) == html_of(second)


def test_an_announcement_to_someone_who_cancelled_since_is_superseded(announced, ada):
    cancel_registration(ada)

    with pytest.raises(Superseded, match="cancelled"):
        compose(row(MessageKind.ANNOUNCEMENT, ada.email), now=NOW)


def test_an_announcement_for_an_event_called_off_is_superseded(announced, event, ada):
    cancel_event(event, "Krank")

    with pytest.raises(Superseded, match="event was cancelled"):
        compose(row(MessageKind.ANNOUNCEMENT, ada.email), now=NOW)


def test_an_announcement_that_is_gone_is_unsendable(announced, ada):
    db.session.delete(announced)
    db.session.commit()

    with pytest.raises(Unsendable, match="announcement"):
        compose(row(MessageKind.ANNOUNCEMENT, ada.email), now=NOW)


# -- partner applications -----------------------------------------------------------------


@pytest.fixture
def make_application(app):
    def make(kind: MessageKind, **values) -> PartnerApplication:
        application = PartnerApplication(
            organisation_name=values.pop("organisation_name", "Diaspora Netzwerk e.V."),
            contact_name="Amina Diallo",
            contact_email="amina@netzwerk.example.org",
            languages=["de", "fr"],
            description="Wir vernetzen Vereine.",
            language=values.pop("language", "en"),
            consent_version=CONSENT_VERSION,
            consented_at=utcnow(),
            **values,
        )
        db.session.add(application)
        db.session.flush()
        enqueue(
            kind,
            recipient=application.contact_email,
            recipient_name=application.contact_name,
            language=application.language,
            dedupe_key=f"{kind.value}:{application.id}",
            payload={"application": application.id},
        )
        db.session.commit()
        return application

    return make


def test_an_applicant_is_thanked_and_told_we_will_answer(make_application):
    make_application(MessageKind.APPLICATION_RECEIVED)

    message = written(MessageKind.APPLICATION_RECEIVED, "amina@netzwerk.example.org")

    assert_well_formed(message)
    assert message["Subject"] == "Your application to Outreach"
    assert sender_of(message) == (SITE, SENDER)
    text = text_of(message)
    assert "Hello Amina Diallo," in text
    assert (
        "Thank you for applying to become a partner organisation of Outreach "
        "with Diaspora Netzwerk e.V." in " ".join(text.split())
    )
    assert "answer you by email" in text
    assert "contact for the application of Diaspora Netzwerk e.V." in text


def test_an_applicant_is_thanked_in_german(make_application):
    make_application(MessageKind.APPLICATION_RECEIVED, language="de")

    message = written(MessageKind.APPLICATION_RECEIVED, "amina@netzwerk.example.org")

    assert message["Subject"] == "Ihre Bewerbung bei Outreach"
    text = text_of(message)
    assert "Hallo Amina Diallo," in text
    assert "Vielen Dank, dass Sie sich mit Diaspora Netzwerk e.V. als Partnerorganisation" in text


def test_thanks_for_an_application_decided_since_is_superseded(make_application):
    application = make_application(MessageKind.APPLICATION_RECEIVED)
    application.status = ApplicationStatus.ACCEPTED
    db.session.commit()

    with pytest.raises(Superseded, match="decided"):
        compose(row(MessageKind.APPLICATION_RECEIVED, application.contact_email), now=NOW)


def test_a_declined_applicant_gets_a_kind_no_with_the_note_escaped(make_application):
    make_application(
        MessageKind.APPLICATION_DECLINED,
        status=ApplicationStatus.DECLINED,
        decision_note="Wir arbeiten nur in <i>Berlin</i>.\nMelden Sie sich gern wieder!",
    )

    message = written(MessageKind.APPLICATION_DECLINED, "amina@netzwerk.example.org")

    assert_well_formed(message)
    assert message["Subject"] == "Your application to Outreach"
    text = text_of(message)
    assert "we cannot take Diaspora Netzwerk e.V. on as a partner organisation" in text
    assert "Our team adds:\n> Wir arbeiten nur in <i>Berlin</i>.\n> Melden Sie" in text
    assert f"{BASE}/" in text and f"{BASE}/" in hrefs(message)
    html = html_of(message)
    assert "<i>" not in html
    assert "Wir arbeiten nur in &lt;i&gt;Berlin&lt;/i&gt;.<br>Melden Sie sich gern wieder!" in html


def test_a_declined_applicant_without_a_note_reads_german(make_application):
    make_application(
        MessageKind.APPLICATION_DECLINED, status=ApplicationStatus.DECLINED, language="de"
    )

    message = written(MessageKind.APPLICATION_DECLINED, "amina@netzwerk.example.org")

    text = text_of(message)
    assert "Es tut uns leid: Wir können Diaspora Netzwerk e.V. derzeit nicht" in text
    assert "Unser Team schreibt dazu" not in text
    assert "jederzeit willkommen" in text


def test_a_refusal_for_an_application_not_declined_is_superseded(make_application):
    make_application(MessageKind.APPLICATION_DECLINED)  # still pending

    with pytest.raises(Superseded, match="pending"):
        compose(row(MessageKind.APPLICATION_DECLINED, "amina@netzwerk.example.org"), now=NOW)


def test_a_message_about_an_application_that_is_gone_is_unsendable(make_application):
    application = make_application(MessageKind.APPLICATION_RECEIVED)
    db.session.delete(application)
    db.session.commit()

    with pytest.raises(Unsendable, match="application"):
        compose(row(MessageKind.APPLICATION_RECEIVED, "amina@netzwerk.example.org"), now=NOW)


def test_an_invitation_after_an_accepted_application_welcomes_the_organisation(host, staff):
    invite_partner_user("new@kulturverein.example.org", host.slug, "Nora Neu", staff, language="en")
    invitation = row(MessageKind.USER_INVITATION, "new@kulturverein.example.org")
    plain = text_of(parse(compose(invitation, now=NOW).raw))
    invitation.payload = {**invitation.payload, "application": True}
    db.session.commit()

    welcoming = written(MessageKind.USER_INVITATION, "new@kulturverein.example.org")

    welcome = (
        "Welcome! We are glad that Kulturverein Mitte is now one of our partner organisations."
    )
    assert welcome in text_of(welcoming) and welcome in html_of(welcoming)
    assert "Welcome!" not in plain
    assert "Sam Staff has invited you to work for Kulturverein Mitte" in text_of(welcoming)


# -- through the worker and a real SMTP server ----------------------------------------------


def test_review_announcement_and_application_mail_arrive_through_smtp(
    mail_app, smtp, submitted, staff, partner, make_application, make_registration
):
    review.publish(submitted, by=staff)
    registration = make_registration(submitted, name="Ada Lovelace", language="en").registration
    announce(submitted, by=partner, subject="Room change", body="Room 2.\n<b>Bring tea</b>")
    make_application(MessageKind.APPLICATION_RECEIVED)

    tally = Worker(mail_app).run_once()

    # The submission was overtaken by the publication; everything else goes out.
    assert tally.counts == {"sent": 4, "skipped": 1}
    [published] = smtp.to(partner.email)
    assert published["Subject"] == "Veröffentlicht: Erzählcafé"
    assert f"{BASE}/partner/events/{submitted.id}" in text_of(published)
    [confirmation, announcement] = smtp.to(registration.email)
    assert confirmation["Subject"] == "You are registered: Erzählcafé"
    assert announcement["Subject"] == "Erzählcafé: Room change"
    assert "&lt;b&gt;Bring tea&lt;/b&gt;" in html_of(announcement)
    assert sender_of(announcement) == ("Kulturverein Mitte", SENDER)
    [thanks] = smtp.to("amina@netzwerk.example.org")
    assert thanks["Subject"] == "Your application to Outreach"
    assert not smtp.to(staff.email)
