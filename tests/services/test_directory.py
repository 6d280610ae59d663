"""Organisations and accounts as staff administer them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.models import AuditEntry, MessageKind, Organisation, Role, User
from outreach.services import audit, directory
from outreach.services.directory import CannotDeactivateSelf, OrganisationInput
from outreach.services.errors import InvalidInput


@pytest.fixture
def staff(make_user):
    return make_user("staff", name="Selin Kaya")


def _organisations() -> int:
    return db.session.scalar(select(func.count(Organisation.id)))


# -- reading ----------------------------------------------------------------------------------


def test_organisations_come_by_name_with_user_and_event_counts(make_org, make_user, make_event):
    sahel, anadolu = make_org(name="sahel Forum"), make_org(name="Anadolu Verein")
    make_user("partner", org=sahel)
    make_event(hosts=[sahel, anadolu])
    make_event(hosts=[sahel])

    rows = directory.organisations_overview()

    assert [(row.organisation.id, row.users, row.events) for row in rows] == [
        (anadolu.id, 0, 1),
        (sahel.id, 1, 2),
    ]


def test_all_users_lists_staff_first(make_org, make_user):
    partner = make_user("partner", org=make_org(name="Sahel Forum"))
    staff = make_user("staff")

    assert [user.id for user in directory.all_users()] == [staff.id, partner.id]


def test_members_and_hosted_events_belong_to_the_organisation(make_org, make_user, make_event):
    org, other = make_org(), make_org()
    member = make_user("partner", org=org)
    make_user("partner", org=other)
    event = make_event(hosts=[other, org])
    make_event(hosts=[other])

    assert directory.members(org) == [member]
    assert directory.hosted_events(org) == [event]


# -- short names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Café Ümit e.V.", "cafe-umit-e-v"),
        ("  Sahel -- Forum!  ", "sahel-forum"),
        ("أمسية", ""),
    ],
)
def test_slugify_keeps_plain_letters_and_digits(name, slug):
    assert directory.slugify(name) == slug


def test_a_suggested_slug_is_free_and_short_enough(make_org):
    make_org(slug="sahel-forum")
    make_org(slug="sahel-forum-2")
    long_name = "Verein " * 30

    assert directory.suggest_slug("Sahel Forum") == "sahel-forum-3"
    assert directory.suggest_slug("أمسية") == "organisation"
    assert len(directory.suggest_slug(long_name)) <= directory.MAX_SLUG_LENGTH


# -- creating an organisation -------------------------------------------------------------------


def test_an_organisation_is_created_and_audited(staff):
    org = directory.create_organisation(
        OrganisationInput(
            name="  Sahel Forum ",
            slug="Sahel-Forum",
            website="https://sahel.example",
            contact_email="Info@Sahel.example",
            description={"de": " Ein Netzwerk. ", "en": ""},
        ),
        by=staff,
    )

    assert (org.name, org.slug) == ("Sahel Forum", "sahel-forum")
    assert org.contact_email == "info@sahel.example"
    assert org.description == {"de": "Ein Netzwerk."}
    assert org.is_host is False
    [entry] = audit.entries_for(org)
    assert entry.action == "organisation.created" and entry.actor_id == staff.id
    assert entry.changes["name"] == [None, "Sahel Forum"]


def test_an_empty_slug_is_made_from_the_name(staff, make_org):
    make_org(slug="sahel-forum")

    org = directory.create_organisation(OrganisationInput(name="Sahel Forum"), by=staff)

    assert org.slug == "sahel-forum-2"


def test_every_bad_field_is_named_and_nothing_is_written(staff, make_org):
    make_org(slug="taken", name="Anadolu Verein")
    before = _organisations()

    with pytest.raises(InvalidInput) as refused:
        directory.create_organisation(
            OrganisationInput(
                name="x" * 201,
                slug="Not a slug!",
                website="javascript:alert(1)",
                contact_email="nobody",
                description={"de": "x" * 2001, "fr": "Bonjour"},
            ),
            by=staff,
        )

    assert set(refused.value.errors) == {
        "name",
        "slug",
        "website",
        "contact_email",
        "description.de",
        "description.fr",
    }
    assert _organisations() == before
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (OrganisationInput(name=""), "name"),
        (OrganisationInput(name="Sahel\u202eForum"), "name"),
        (OrganisationInput(name="ANADOLU verein"), "name"),
        (OrganisationInput(name="Neu", slug="taken"), "slug"),
    ],
    ids=["empty", "invisible-characters", "same-name", "slug-taken"],
)
def test_names_and_short_names_must_be_usable_and_free(staff, make_org, data, field):
    make_org(slug="taken", name="Anadolu Verein")

    with pytest.raises(InvalidInput) as refused:
        directory.create_organisation(data, by=staff)

    assert list(refused.value.errors) == [field]


# -- accounts -----------------------------------------------------------------------------


def test_invite_partner_creates_the_user_and_owes_an_invitation(staff, make_org, outbox):
    org = make_org()

    user = directory.invite_partner(org, email="Awa@Sahel.example", name=" Awa  Ndiaye ", by=staff)

    assert (user.email, user.name, user.role) == ("awa@sahel.example", "Awa Ndiaye", Role.PARTNER)
    assert user.organisation_id == org.id
    [message] = outbox(kind=MessageKind.USER_INVITATION)
    assert message.payload["invited_by"] == "Selin Kaya"


def test_an_invitation_refuses_names_that_cannot_go_into_a_mail(staff, make_org, outbox):
    org = make_org()

    with pytest.raises(InvalidInput) as refused:
        directory.invite_partner(org, email="a@example.org", name="Awa\r\nBcc: x", by=staff)

    assert "name" in refused.value.errors
    assert db.session.scalar(select(User).where(User.email == "a@example.org")) is None
    assert outbox() == []


def test_deactivating_is_audited_once_and_can_be_undone(staff, make_user):
    partner = make_user("partner")

    directory.deactivate_user(partner, by=staff)
    directory.deactivate_user(partner, by=staff)
    directory.activate_user(partner, by=staff)

    db.session.refresh(partner)
    assert partner.is_active is True
    entries = audit.entries_for(partner)
    assert [(e.action, e.changes) for e in entries] == [
        ("user.activated", {"is_active": [False, True]}),
        ("user.deactivated", {"is_active": [True, False]}),
    ]
    assert all(e.actor_id == staff.id for e in entries)


def test_nobody_deactivates_their_own_account(staff):
    with pytest.raises(CannotDeactivateSelf):
        directory.deactivate_user(staff, by=staff)

    db.session.refresh(staff)
    assert staff.is_active is True
