"""Applications to become a partner: applying, accepting and declining, each once and whole."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.models import (
    ApplicationStatus,
    AuditEntry,
    MessageKind,
    Organisation,
    PartnerApplication,
    Role,
    User,
    utcnow,
)
from outreach.services import account_links, audit
from outreach.services.applications import (
    CONSENT_VERSION,
    ApplicationDecided,
    ApplicationInput,
    NotAllowed,
    accept,
    applications_for_review,
    apply,
    decline,
    pending_count,
    suggested_slug,
)
from outreach.services.errors import InvalidInput
from tests.concurrency import run_together


def application_input(**values) -> ApplicationInput:
    values.setdefault("organisation_name", "Sahel Forum e.V.")
    values.setdefault("contact_name", "Amina Diallo")
    values.setdefault("contact_email", "amina@sahel-forum.example")
    values.setdefault("description", "Wir organisieren Elternabende auf Französisch und Wolof.")
    values.setdefault("city", "Leipzig")
    values.setdefault("website", "https://sahel-forum.example")
    values.setdefault("languages", ["fr", "de"])
    values.setdefault("consent", True)
    return ApplicationInput(**values)


@pytest.fixture
def submitted(app):
    """Apply through the real service; return the application."""

    def make(language: str = "de", **values) -> PartnerApplication:
        return apply(application_input(**values), language=language).application

    return make


@pytest.fixture
def staff(make_user):
    return make_user("staff", name="Lena Kraus")


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


# -- applying -------------------------------------------------------------------------


def test_an_application_is_stored_with_the_mail_that_confirms_it(app, outbox):
    outcome = apply(
        application_input(
            organisation_name="  Sahel   Forum e.V. ",
            contact_email="Amina@Sahel-Forum.example",
            website="sahel-forum.example",
        ),
        language="en",
    )

    application = outcome.application
    assert not outcome.is_duplicate
    assert application.status is ApplicationStatus.PENDING
    assert application.organisation_name == "Sahel Forum e.V."
    assert application.contact_email == "amina@sahel-forum.example"
    assert application.website == "https://sahel-forum.example"
    assert application.languages == ["fr", "de"]
    assert application.language == "en"
    assert application.consent_version == CONSENT_VERSION
    assert application.consented_at is not None
    [message] = outbox()
    assert message.kind is MessageKind.APPLICATION_RECEIVED
    assert message.recipient == "amina@sahel-forum.example"
    assert message.recipient_name == "Amina Diallo"
    assert message.language == "en"
    assert message.dedupe_key == f"application_received:{application.id}"
    assert message.payload == {"application": application.id}
    assert message.event_id is None and message.registration_id is None


def test_bad_input_names_each_field_and_writes_nothing(app, outbox):
    data = application_input(
        organisation_name=" ",
        contact_name="",
        contact_email="not an address",
        description="",
        city="",
        website="javascript:alert(1)",
        languages=["xx"],
        consent=False,
    )

    with pytest.raises(InvalidInput) as refused:
        apply(data, language="de")

    assert set(refused.value.errors) == {
        "organisation_name",
        "contact_name",
        "contact_email",
        "description",
        "city",
        "website",
        "languages",
        "consent",
    }
    assert _count(PartnerApplication) == 0
    assert outbox() == []


@pytest.mark.parametrize(
    "website",
    ["http://localhost", "https://exa mple.org", "ftp://example.org", "https://", "x" * 501],
)
def test_a_website_must_be_a_web_address(app, website):
    with pytest.raises(InvalidInput) as refused:
        apply(application_input(website=website), language="de")

    assert set(refused.value.errors) == {"website"}


def test_the_website_is_optional(submitted):
    assert submitted(website="").website is None


def test_too_long_a_description_is_refused(app):
    with pytest.raises(InvalidInput) as refused:
        apply(application_input(description="x" * 3001), language="de")

    assert set(refused.value.errors) == {"description"}


def test_unusable_characters_are_refused_but_joiners_are_kept(app):
    with pytest.raises(InvalidInput) as refused:
        apply(
            application_input(
                city="Köln\x00", description="Text\x00", organisation_name="A\u202eB"
            ),
            language="de",
        )

    assert set(refused.value.errors) == {"city", "description", "organisation_name"}
    persian = apply(
        application_input(
            organisation_name="انجمن می\u200cخواهیم", description="Zeile 1\r\nZeile 2\rZeile 3"
        ),
        language="de",
    ).application
    assert persian.organisation_name == "انجمن می\u200cخواهیم"
    assert persian.description == "Zeile 1\nZeile 2\nZeile 3"


def test_at_least_one_language_is_needed(app):
    with pytest.raises(InvalidInput) as refused:
        apply(application_input(languages=[]), language="de")

    assert set(refused.value.errors) == {"languages"}


def test_the_same_pending_application_is_not_made_twice(app, outbox):
    first = apply(application_input(), language="de")
    again = apply(
        application_input(
            organisation_name="sahel  FORUM e.v.", contact_email="AMINA@sahel-forum.example"
        ),
        language="de",
    )

    assert again.is_duplicate
    assert again.application.id == first.application.id
    assert _count(PartnerApplication) == 1
    assert len(outbox()) == 1


def test_another_organisation_from_the_same_person_is_a_new_application(submitted, outbox):
    submitted()
    submitted(organisation_name="Elternnetzwerk Ost")

    assert _count(PartnerApplication) == 2
    assert len(outbox(kind=MessageKind.APPLICATION_RECEIVED)) == 2


def test_after_a_decision_the_same_organisation_may_apply_again(submitted, staff):
    decline(submitted(), by=staff)

    again = apply(application_input(), language="de")

    assert not again.is_duplicate
    assert _count(PartnerApplication) == 2


# -- accepting ------------------------------------------------------------------------


def test_accepting_creates_the_organisation_and_invites_the_contact(submitted, staff, outbox):
    application = submitted(language="en")

    accept(application, by=staff, slug="sahel-forum")

    organisation = db.session.scalar(select(Organisation).where(Organisation.slug == "sahel-forum"))
    assert organisation.name == "Sahel Forum e.V."
    assert organisation.website == "https://sahel-forum.example"
    assert organisation.contact_email == "amina@sahel-forum.example"
    assert organisation.description == {"en": application.description}
    assert not organisation.is_host
    user = db.session.scalar(select(User).where(User.email == "amina@sahel-forum.example"))
    assert user.role is Role.PARTNER and user.organisation_id == organisation.id
    assert user.name == "Amina Diallo"
    assert application.status is ApplicationStatus.ACCEPTED
    assert application.organisation_id == organisation.id
    assert application.decided_by_id == staff.id and application.decided_at is not None
    [invitation] = outbox(kind=MessageKind.USER_INVITATION)
    assert invitation.recipient == user.email and invitation.language == "en"
    assert invitation.payload["invited_by"] == "Lena Kraus"
    [entry] = audit.entries_for(application)
    assert entry.action == "application.accepted" and entry.actor_id == staff.id
    assert entry.changes["status"] == ["pending", "accepted"]
    assert entry.changes["organisation"] == [None, "sahel-forum"]


def _nothing_was_written(application_id: int, outbox, *, organisations: int = 0) -> None:
    db.session.rollback()
    application = db.session.get(PartnerApplication, application_id)
    assert application.status is ApplicationStatus.PENDING
    assert application.organisation_id is None and application.decided_at is None
    assert _count(Organisation) == organisations
    assert db.session.scalar(select(User.id).where(User.role == Role.PARTNER)) is None
    assert _count(AuditEntry) == 0
    assert [message.kind for message in outbox()] == [MessageKind.APPLICATION_RECEIVED]


def test_a_taken_slug_is_refused_and_nothing_is_written(submitted, staff, make_org, outbox):
    application = submitted()
    make_org(slug="sahel-forum")

    with pytest.raises(InvalidInput) as refused:
        accept(application, by=staff, slug="sahel-forum")

    assert set(refused.value.errors) == {"slug"}
    _nothing_was_written(application.id, outbox, organisations=1)


def test_an_existing_user_is_not_invited_again_and_nothing_is_written(
    submitted, staff, make_user, outbox
):
    application = submitted()
    make_user("staff", email="amina@sahel-forum.example")

    with pytest.raises(InvalidInput) as refused:
        accept(application, by=staff, slug="sahel-forum")

    assert set(refused.value.errors) == {"email"}
    _nothing_was_written(application.id, outbox)


def test_a_failing_invitation_leaves_nothing_half_written(submitted, staff, outbox, monkeypatch):
    application = submitted()

    def refuse(**values):
        raise InvalidInput({"email": "refused at the last moment"})

    monkeypatch.setattr(account_links, "create_user", refuse)
    with pytest.raises(InvalidInput):
        accept(application, by=staff, slug="sahel-forum")

    _nothing_was_written(application.id, outbox)


@pytest.mark.parametrize(
    "slug", ["", "   ", "Sahel Forum", "-sahel", "sahel--forum", "ä", "x" * 81]
)
def test_a_malformed_slug_is_refused(submitted, staff, slug):
    application = submitted()

    with pytest.raises(InvalidInput) as refused:
        accept(application, by=staff, slug=slug)

    assert set(refused.value.errors) == {"slug"}
    assert _count(Organisation) == 0


def test_slugs_are_lower_cased(submitted, staff):
    application = accept(submitted(), by=staff, slug="  Sahel-Forum ")

    assert application.organisation.slug == "sahel-forum"


def test_the_suggested_slug_is_readable_and_free(app, make_org):
    assert suggested_slug("Brücke – Köln e.V.") == "brucke-koln-e-v"
    make_org(slug="brucke-koln-e-v")
    assert suggested_slug("Brücke – Köln e.V.") == "brucke-koln-e-v-2"
    assert suggested_slug("جمعية") == "partner"


# -- declining ------------------------------------------------------------------------


def test_declining_owes_the_applicant_one_mail_and_is_audited(submitted, staff, outbox):
    application = submitted(language="en")

    decline(application, by=staff, note="  We only work with organisations in Saxony.  ")

    assert application.status is ApplicationStatus.DECLINED
    assert application.decision_note == "We only work with organisations in Saxony."
    assert application.decided_by_id == staff.id
    [message] = outbox(kind=MessageKind.APPLICATION_DECLINED)
    assert message.recipient == "amina@sahel-forum.example" and message.language == "en"
    assert message.dedupe_key == f"application_declined:{application.id}"
    assert message.payload == {"application": application.id}
    [entry] = audit.entries_for(application)
    assert entry.action == "application.declined"
    assert entry.comment == "We only work with organisations in Saxony."
    assert _count(Organisation) == 0


def test_a_note_may_be_left_out(submitted, staff):
    application = decline(submitted(), by=staff, note="   ")

    assert application.decision_note is None


def test_too_long_a_note_is_refused(submitted, staff, outbox):
    application = submitted()

    with pytest.raises(InvalidInput) as refused:
        decline(application, by=staff, note="x" * 2001)

    assert set(refused.value.errors) == {"note"}
    assert outbox(kind=MessageKind.APPLICATION_DECLINED) == []


def test_a_note_with_unusable_characters_is_refused(submitted, staff):
    with pytest.raises(InvalidInput) as refused:
        decline(submitted(), by=staff, note="Leider\x00 nicht")

    assert set(refused.value.errors) == {"note"}


def test_an_application_is_decided_only_once(submitted, staff, outbox):
    declined = submitted()
    decline(declined, by=staff)
    accepted = submitted(organisation_name="Elternnetzwerk Ost")
    accept(accepted, by=staff, slug="elternnetzwerk-ost")

    with pytest.raises(ApplicationDecided):
        decline(declined, by=staff)
    with pytest.raises(ApplicationDecided):
        accept(declined, by=staff, slug="sahel-forum")
    with pytest.raises(ApplicationDecided):
        decline(accepted, by=staff)

    assert len(outbox(kind=MessageKind.APPLICATION_DECLINED)) == 1
    assert len(outbox(kind=MessageKind.USER_INVITATION)) == 1
    assert _count(Organisation) == 1
    assert _count(AuditEntry) == 2


def test_only_staff_decide(submitted, make_user):
    application = submitted()
    partner = make_user("partner")

    with pytest.raises(NotAllowed):
        accept(application, by=partner, slug="sahel-forum")
    with pytest.raises(NotAllowed):
        decline(application, by=partner)

    assert application.is_pending


# -- at the same moment --------------------------------------------------------------


def test_identical_applications_sent_at_once_make_one(app, outbox):
    def job():
        return apply(application_input(), language="de").is_duplicate

    results = run_together(app, [job] * 4)

    assert sorted(value for _state, value in results) == [False, True, True, True]
    assert _count(PartnerApplication) == 1
    assert len(outbox()) == 1


def test_two_staff_deciding_at_once_decide_once(app, submitted, staff, make_user, outbox):
    application_id = submitted().id
    other = make_user("staff")
    staff_id, other_id = staff.id, other.id

    def accepting():
        application = db.session.get(PartnerApplication, application_id)
        return accept(application, by=db.session.get(User, staff_id), slug="sahel-forum").id

    def declining():
        application = db.session.get(PartnerApplication, application_id)
        return decline(application, by=db.session.get(User, other_id)).id

    results = run_together(app, [accepting, declining])

    outcomes = sorted(state for state, _value in results)
    errors = [value for state, value in results if state == "error"]
    assert outcomes == ["error", "ok"]
    assert isinstance(errors[0], ApplicationDecided)
    db.session.rollback()
    decided = db.session.get(PartnerApplication, application_id)
    sent = [m.kind for m in outbox()]
    if decided.status is ApplicationStatus.ACCEPTED:
        assert MessageKind.APPLICATION_DECLINED not in sent and _count(Organisation) == 1
    else:
        assert MessageKind.USER_INVITATION not in sent and _count(Organisation) == 0
    assert _count(AuditEntry) == 1


# -- reading --------------------------------------------------------------------------


def test_pending_applications_come_first_oldest_first(submitted, staff):
    now = utcnow()
    old = submitted(organisation_name="Alt")
    new = submitted(organisation_name="Neu")
    done = submitted(organisation_name="Erledigt")
    old.created_at = now - timedelta(days=3)
    new.created_at = now - timedelta(days=1)
    done.created_at = now - timedelta(days=5)
    db.session.commit()
    decline(done, by=staff)

    assert [a.organisation_name for a in applications_for_review()] == ["Alt", "Neu", "Erledigt"]
    assert pending_count() == 2
