"""Data-subject requests in the service: find everything about an address, export it, erase it.

The proof of an erasure walks every text and JSON column of every table, so
a column added later is searched too.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from outreach.extensions import db
from outreach.mail.delivery_reports import Feedback
from outreach.mail.outbox import enqueue
from outreach.mail.suppression import hashed_address, is_suppressed, suppress
from outreach.mail.worker import Worker
from outreach.models import (
    AuditEntry,
    CampaignKind,
    DeliveryProblem,
    DeliveryReport,
    Event,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    PartnerApplication,
    PrivacyRequest,
    PrivacyRequestStatus,
    QuestionKind,
    Registration,
    RegistrationStatus,
    Role,
    Subscriber,
    Suppression,
    SuppressionReason,
    SuppressionScope,
    User,
    utcnow,
)
from outreach.services import (
    applications,
    campaigns,
    checkin,
    delivery_feedback,
    directory,
    erasure,
    mail_preferences,
    newsletter,
    privacy,
    privacy_requests,
)
from outreach.services.api_tokens import create_token
from outreach.services.applications import ApplicationInput
from outreach.services.campaigns import CampaignInput
from outreach.services.directory import OrganisationInput
from outreach.services.newsletter import SubscriptionInput
from tests.privacy_helpers import everywhere

ADA = "ada@example.org"
NAME = "Ada Lovelace"


@pytest.fixture
def mailbox(app, tmp_path) -> Path:
    app.config["MAILBOX_DIR"] = str(tmp_path / "mailbox")
    return tmp_path / "mailbox"


@pytest.fixture
def staff(make_user):
    return make_user("staff", email="lead@example.org", name="Lea Lead")


@pytest.fixture
def ada(app, staff, make_user, make_event, make_registration, mailbox):
    """A person with a bit of everything: past and upcoming registrations, mail, consent, logs."""
    past = make_event(
        title="Erzählcafé",
        questions=[
            {
                "kind": QuestionKind.SHORT_TEXT,
                "label": {"de": "Essenswunsch", "en": "Food"},
                "required": False,
            }
        ],
    )
    question = past.questions[0]
    attended = make_registration(
        past, email=ADA, name=NAME, answers={question.id: "vegetarisch"}
    ).registration
    checkin.check_in(attended, by=staff)
    # The confirmation goes out; then the event moves into the past.
    assert Worker(app).run_once().counts["sent"] >= 1
    db.session.execute(
        update(Event)
        .where(Event.id == past.id)
        .values(
            starts_at=utcnow() - timedelta(days=3), ends_at=utcnow() - timedelta(days=3, hours=-2)
        )
    )
    db.session.commit()

    soon = make_event(title="Sommerfest", capacity=1)
    seat = make_registration(soon, email="Ada@Example.org", name=NAME).registration
    waiting = make_registration(soon, email="ben@example.org", name="Ben").registration
    assert waiting.status is RegistrationStatus.WAITLISTED

    newsletter.subscribe(
        SubscriptionInput(
            email=ADA,
            name=NAME,
            language="de",
            consent=True,
            consent_language="de",
            ip="203.0.113.7",
        )
    )
    token = db.session.scalars(
        select(OutboxMessage.payload).where(
            OutboxMessage.kind == MessageKind.NEWSLETTER_CONFIRMATION
        )
    ).one()["token"]
    newsletter.confirm(token)
    mail_preferences.unsubscribe(ADA, SuppressionScope.OUTREACH)
    delivery_feedback.record(
        [
            Feedback(
                email=ADA,
                problem=DeliveryProblem.SOFT_BOUNCE,
                detail=f"4.2.2 <{ADA}> mailbox full",
                source="webhook",
            )
        ]
    )

    application = applications.apply(
        ApplicationInput(
            organisation_name="Brücke e.V.",
            contact_name=NAME,
            contact_email=ADA,
            description="Wir verbinden Nachbarschaften in Köln.",
            city="Köln",
            languages=["de"],
            consent=True,
        ),
        language="de",
    ).application
    applications.decline(application, by=staff, note=f"Bitte melden Sie sich, {NAME} ({ADA}).")
    directory.create_organisation(
        OrganisationInput(name="Freundeskreis", contact_email=ADA), by=staff
    )
    # She also has a partner account, and acted with it.
    partner = make_user("partner", email="ADA@example.org".lower(), name=NAME)
    create_token(partner, "Mein Skript")
    privacy_requests.ask(ADA, "export", language="de")
    return {
        "past": past,
        "soon": soon,
        "attended": attended,
        "seat": seat,
        "waiting": waiting,
        "application": application,
        "partner": partner,
    }


# -- finding and exporting ------------------------------------------------------------------


def test_everything_held_about_an_address_is_found_whatever_its_case(ada):
    person = privacy.find_person("  ADA@example.ORG ")

    assert person.email == ADA
    assert [r.id for r in person.registrations] == [ada["attended"].id, ada["seat"].id]
    assert person.subscriber is not None and person.subscriber.consent_ip == "203.0.113.7"
    assert [a.id for a in person.applications] == [ada["application"].id]
    assert [u.id for u in person.users] == [ada["partner"].id]
    assert {m.kind for m in person.messages} >= {
        MessageKind.REGISTRATION_CONFIRMED,
        MessageKind.NEWSLETTER_CONFIRMATION,
        MessageKind.APPLICATION_DECLINED,
        MessageKind.PRIVACY_REQUEST,
    }
    assert [(s.scope, s.reason) for s in person.suppressions] == [
        (SuppressionScope.OUTREACH, SuppressionReason.UNSUBSCRIBED)
    ]
    assert len(person.delivery_reports) == 1
    actions = {entry.action for entry in person.audit_entries}
    assert {"application.declined", "organisation.created", "api_token.created"} <= actions
    assert len(person.privacy_requests) == 1
    assert [org.name for org in person.organisations] == ["Freundeskreis"]
    assert person.holds_data


def test_the_export_is_plain_json_in_the_documented_shape(ada):
    data = privacy.describe(privacy.find_person(ADA))

    assert data["format"] == privacy.EXPORT_FORMAT
    assert data["email"] == ADA
    assert set(data) == {
        "format",
        "generated_at",
        "email",
        "registrations",
        "newsletter",
        "partner_applications",
        "accounts",
        "messages",
        "suppressions",
        "delivery_reports",
        "audit_log",
        "privacy_requests",
        "contact_for",
    }
    attended = data["registrations"][0]
    assert attended["event"]["title"] == "Erzählcafé"
    assert attended["answers"] == [{"question": "Essenswunsch", "answer": "vegetarisch"}]
    assert attended["checked_in_at"] is not None
    assert attended["consent"]["version"] and attended["consent"]["given_at"]
    assert data["newsletter"]["consent"]["ip"] == "203.0.113.7"
    assert data["accounts"][0]["api_tokens"][0]["name"] == "Mein Skript"
    # Mail rows come without their payload: it holds the links' tokens.
    assert all("payload" not in message and "token" not in message for message in data["messages"])
    json.dumps(data)  # serialisable as it is


def test_an_export_and_a_look_up_are_audited_with_the_hash_never_the_address(ada, staff):
    privacy.look_up(ADA, by=staff)
    privacy.export(ADA, by=staff)

    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action.in_(["person.looked_up", "person.exported"]))
        .order_by(AuditEntry.id)
    ).all()
    assert [entry.action for entry in entries] == ["person.looked_up", "person.exported"]
    for entry in entries:
        assert (entry.subject_type, entry.subject_id) == ("person", 0)
        assert entry.changes["email_hash"] == hashed_address(ADA)
        assert ADA not in str(entry.changes) and ADA not in (entry.comment or "")


# -- erasing --------------------------------------------------------------------------------


def test_after_an_erasure_the_address_is_nowhere_in_the_database(ada, staff):
    assert everywhere(ADA)  # the walk finds it before

    summary = erasure.erase(ADA, by=staff)

    assert everywhere(ADA) == []
    assert everywhere(NAME) == []
    assert summary.registrations_anonymised == 2
    assert summary.registrations_cancelled == 1
    assert summary.waitlist_promoted == 1
    assert summary.subscriptions_deleted == 1
    assert summary.applications_anonymised == 1
    assert summary.accounts_deactivated == 1
    assert summary.delivery_reports_deleted == 1
    assert summary.suppressions_hashed == 1
    assert summary.audit_entries_scrubbed >= 3
    # Only the hashed unsubscribe is left, and only someone who knows the address finds it.
    left = privacy.find_person(ADA)
    assert {kind: n for kind, n in left.counts().items() if n} == {"suppressions": 1}
    assert left.suppressions[0].email == hashed_address(ADA)


def test_an_erasure_keeps_the_numbers_and_gives_the_seat_to_the_next_in_line(ada, staff, outbox):
    erasure.erase(ADA, by=staff)
    db.session.rollback()

    attended = db.session.get(Registration, ada["attended"].id)
    assert attended.status is RegistrationStatus.CONFIRMED
    assert attended.checked_in_at is not None and attended.anonymised_at is not None
    assert attended.answers == {} and attended.name == ""
    seat = db.session.get(Registration, ada["seat"].id)
    assert seat.status is RegistrationStatus.CANCELLED
    waiting = db.session.get(Registration, ada["waiting"].id)
    assert waiting.status is RegistrationStatus.CONFIRMED
    [told] = outbox(kind=MessageKind.WAITLIST_PROMOTED)
    assert told.registration_id == waiting.id and told.status is MessageStatus.QUEUED
    # No word to the erased person: no cancellation, and her queued mail is dropped.
    assert outbox(kind=MessageKind.REGISTRATION_CANCELLED) == []
    assert (
        db.session.scalar(
            select(func.count()).where(
                OutboxMessage.status == MessageStatus.QUEUED,
                OutboxMessage.recipient != "ben@example.org",
            )
        )
        == 0
    )
    assert db.session.scalar(select(func.count(Registration.id))) == 3
    assert db.session.get(Event, ada["soon"].id).seats_taken == 1


def test_an_erasure_closes_accounts_and_keeps_the_organisation_of_an_application(ada, staff):
    erasure.erase(ADA, by=staff)
    db.session.rollback()

    partner = db.session.get(User, ada["partner"].id)
    assert not partner.is_active and partner.name == ""
    assert partner.email == f"erased-user-{partner.id}@anonymised.invalid"
    assert not partner.check_password("correct horse battery staple")
    application = db.session.get(PartnerApplication, ada["application"].id)
    assert (application.contact_name, application.contact_email) == ("", "")
    assert application.organisation_name == "Brücke e.V." and application.city == "Köln"
    assert db.session.scalar(select(func.count(Subscriber.id))) == 0
    assert db.session.scalar(select(func.count(DeliveryReport.id))) == 0


def test_one_audit_entry_records_the_erasure_with_counts_and_hash(ada, staff):
    summary = erasure.erase(ADA, by=staff)
    db.session.rollback()

    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "person.erased"))
    assert entry.id == summary.entry_id
    assert (entry.subject_type, entry.subject_id, entry.actor_id) == ("person", 0, staff.id)
    assert entry.changes["email_hash"] == hashed_address(ADA)
    assert entry.changes["counts"] == summary.counts()
    assert erasure.erasure_entry(entry.id) == entry
    # The entries that mentioned her stay, without her.
    declined = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "application.declined")
    ).one()
    assert declined.comment == f"Bitte melden Sie sich, {erasure.ERASED} ({erasure.ERASED})."


def test_an_unsubscribe_is_honoured_when_the_address_comes_back(
    app, ada, staff, make_event, make_registration
):
    erasure.erase(ADA, by=staff)
    [entry] = db.session.scalars(select(Suppression)).all()
    assert entry.email == hashed_address(ADA) and entry.scope is SuppressionScope.OUTREACH

    again = make_event(title="Herbstfest")
    make_registration(again, email=ADA, name="Ada")
    assert is_suppressed(ADA, MessageKind.CAMPAIGN)
    assert not is_suppressed(ADA, MessageKind.REGISTRATION_CONFIRMED)
    # Twice is harmless: the hashed entry counts as the address's own.
    assert suppress(ADA, SuppressionReason.UNSUBSCRIBED, scope=SuppressionScope.OUTREACH) is False
    campaign = campaigns.create_campaign(
        CampaignInput(
            kind=CampaignKind.OUTREACH,
            name="Herbst",
            texts={"de": {"subject": "Hallo", "body": "Hallo {{ first_name }}"}},
            fallback_language="de",
            segment={"type": "registrants", "events": [again.id]},
        ),
        by=staff,
    )
    campaigns.send_now(campaign, by=staff)
    campaigns.enqueue_due()
    Worker(app).run_once()
    db.session.rollback()

    [row] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == MessageKind.CAMPAIGN)
    ).all()
    assert row.status is MessageStatus.SKIPPED and "outreach" in row.last_error
    confirmation = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.kind == MessageKind.REGISTRATION_CONFIRMED,
            OutboxMessage.event_id == again.id,
        )
    ).one()
    assert confirmation.status is MessageStatus.SENT


def test_a_late_bounce_about_a_purged_message_leaves_no_report(ada, staff):
    sent = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == MessageStatus.SENT).limit(1)
    ).one()
    message_id = f"<outreach.{sent.id}.{'0' * 16}@outreach.test>"
    erasure.erase(ADA, by=staff)

    outcome = delivery_feedback.record(
        [
            Feedback(
                email=ADA,
                problem=DeliveryProblem.HARD_BOUNCE,
                detail="5.1.1 user unknown",
                message_id=message_id,
                source="webhook",
            )
        ]
    )

    assert outcome.recorded == 0
    assert everywhere(ADA) == []


def test_the_acting_staff_member_cannot_erase_themself(app, staff, make_user, counts):
    make_user("staff")
    before = counts()

    with pytest.raises(erasure.CannotEraseSelf):
        erasure.erase(staff.email, by=staff)

    assert counts() == before
    db.session.rollback()
    assert db.session.get(User, staff.id).is_active


def test_the_last_active_staff_account_is_never_erased(app, staff, make_user):
    other = make_user("staff", email="other@example.org")
    db.session.execute(update(User).where(User.id == staff.id).values(is_active=False))
    db.session.commit()

    with pytest.raises(erasure.CannotEraseLastStaff):
        erasure.erase(other.email, by=None)

    db.session.rollback()
    assert db.session.get(User, other.id).email == "other@example.org"
    assert (
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "person.erased")
        )
        == 0
    )


def test_another_staff_account_may_be_erased_and_its_sessions_end(app, staff, make_user):
    other = make_user("staff", email="other@example.org", name="Otto Other")

    erasure.erase("other@example.org", by=staff)

    db.session.rollback()
    erased = db.session.get(User, other.id)
    assert not erased.is_active and erased.role is Role.STAFF
    assert everywhere("other@example.org") == []


def test_erasing_an_address_nobody_knows_changes_nothing_but_the_log(app, staff, counts):
    before = counts()

    summary = erasure.erase("nobody@example.org", by=staff)

    assert counts() == before
    assert set(summary.counts().values()) == {0}
    assert erasure.erasure_entry(summary.entry_id) is not None


def test_an_erasure_by_request_keeps_only_the_hash_on_the_request(app, staff, mailbox):
    privacy_requests.ask(ADA, "erasure", language="en")
    request = db.session.scalars(select(PrivacyRequest)).one()

    summary = erasure.erase(ADA, by=None, request=request)

    db.session.rollback()
    request = db.session.get(PrivacyRequest, request.id)
    assert request.email is None and request.email_hash == hashed_address(ADA)
    assert request.status is PrivacyRequestStatus.COMPLETED
    entry = erasure.erasure_entry(summary.entry_id)
    assert (entry.subject_type, entry.subject_id) == ("privacy_requests", request.id)
    # The link mail was still queued: it is dropped, and its token with it.
    [mail] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == MessageKind.PRIVACY_REQUEST)
    ).all()
    assert mail.status is MessageStatus.SKIPPED and mail.payload == {}


def test_queued_mail_to_the_address_without_a_registration_is_dropped(app, staff, outbox):
    enqueue(
        MessageKind.PASSWORD_RESET,
        recipient=ADA,
        language="de",
        dedupe_key="reset:ada",
        payload={"token": "secret"},
    )
    db.session.commit()

    erasure.erase(ADA, by=staff)

    [row] = outbox()
    assert row.status is MessageStatus.SKIPPED
    assert (row.recipient, row.payload) == ("purged@anonymised.invalid", {})


def test_nothing_is_held_about_a_person_with_only_a_request(app, mailbox):
    privacy_requests.ask(ADA, "export", language="de")

    person = privacy.find_person(ADA)

    assert not person.holds_data
    assert person.counts()["privacy_requests"] == 1


def test_the_audit_scan_needs_the_address_not_a_part_of_it(app, staff):
    directory.create_organisation(
        OrganisationInput(name="Nachbarn", contact_email="mada@example.org"), by=staff
    )

    assert privacy.find_person(ADA).audit_entries == []
    assert len(privacy.find_person("mada@example.org").audit_entries) == 1
