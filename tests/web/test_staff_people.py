"""Staff pages about organisations and accounts: adding, inviting, deactivating."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import MessageKind, Organisation, Role, User
from outreach.services import audit
from tests.conftest import PASSWORD
from tests.web.html import page


@pytest.fixture
def staff(make_user, login):
    user = make_user("staff", name="Selin Kaya")
    login(user)
    return user


def test_organisations_are_listed_with_their_users_and_events(
    client, staff, make_org, make_user, make_event
):
    sahel = make_org(name="Sahel Forum")
    make_org(name="Anadolu Kulturverein")
    make_user("partner", org=sahel)
    make_user("partner", org=sahel)
    make_event(hosts=[sahel])

    html = page(client.get("/staff/organisations?lang=en"))

    rows = [[cell.text for cell in row.all("td")] for row in html.one("tbody").all("tr")]
    assert [row[0] for row in rows] == ["Anadolu Kulturverein", "Sahel Forum"]
    assert rows[1][2:4] == ["2", "1"]
    assert rows[0][2:4] == ["0", "0"]


def test_organisation_list_has_an_empty_state(client, staff):
    html = page(client.get("/staff/organisations?lang=en"))

    assert "There are no organisations yet." in html.text


def test_staff_add_an_organisation_with_a_short_name_made_from_its_name(client, staff):
    form = page(client.get("/staff/organisations/new?lang=en"))
    response = client.post(
        "/staff/organisations/new",
        data={
            "name": "Café Ümit e.V.",
            "slug": "",
            "website": "https://cafe-umit.example",
            "contact_email": "Info@Cafe-Umit.example",
            "description_de": "Ein Treffpunkt in Neukölln.",
            "description_en": "",
        },
    )

    assert form.one("textarea", id="description_de").attrs["lang"] == "de"
    assert form.all("script", src="/static/js/staff-slug.js")
    assert response.status_code == 303
    org = db.session.scalar(select(Organisation).where(Organisation.slug == "cafe-umit-e-v"))
    assert response.headers["Location"] == f"/staff/organisations/{org.id}"
    assert org.name == "Café Ümit e.V."
    assert org.contact_email == "info@cafe-umit.example"
    assert org.description == {"de": "Ein Treffpunkt in Neukölln."}
    [entry] = audit.entries_for(org)
    assert entry.action == "organisation.created" and entry.actor_id == staff.id


def test_a_bad_organisation_form_names_each_problem_and_saves_nothing(client, staff, make_org):
    make_org(slug="sahel-forum")

    response = client.post(
        "/staff/organisations/new?lang=en",
        data={"name": "Sahel", "slug": "sahel-forum", "website": "ftp://x", "contact_email": "no"},
    )

    assert response.status_code == 422
    html = page(response)
    summary = html.one(class_="error-summary").text
    assert "This short name is taken." in summary
    assert "Please enter a web address such as https://example.org." in summary
    assert html.one("input", id="contact_email").attrs["aria-invalid"] == "true"
    assert db.session.scalar(select(Organisation).where(Organisation.name == "Sahel")) is None


def test_an_organisation_without_a_name_is_refused(client, staff):
    response = client.post("/staff/organisations/new?lang=en", data={"name": "  "})

    assert response.status_code == 422
    assert "Please enter the organisation's name." in page(response).text


def test_organisation_page_lists_users_events_and_the_invite_form(
    client, staff, make_org, make_user, make_event
):
    org = make_org(name="Sahel Forum", website="https://sahel.example")
    make_user("partner", org=org, name="Awa Ndiaye")
    event = make_event(title="Elternabend", hosts=[org])

    html = page(client.get(f"/staff/organisations/{org.id}?lang=en"))

    assert html.one("h1").text == "Sahel Forum"
    assert "Awa Ndiaye" in html.by_id("members-heading").parent.text
    assert html.all("a", href=f"/staff/events/{event.id}")
    assert html.one("form", action=f"/staff/organisations/{org.id}/invite")


def test_a_new_organisation_page_has_empty_states(client, staff, make_org):
    org = make_org()

    text = page(client.get(f"/staff/organisations/{org.id}?lang=en")).text

    assert "Nobody from this organisation has an account yet." in text
    assert "This organisation hosts no events yet." in text


def test_staff_invite_a_partner_user(client, staff, make_org, outbox):
    org = make_org(slug="sahel-forum")

    response = client.post(
        f"/staff/organisations/{org.id}/invite",
        data={"email": "Awa@Sahel.example", "name": "Awa Ndiaye"},
    )

    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.email == "awa@sahel.example"))
    assert user.role is Role.PARTNER and user.organisation_id == org.id
    [message] = outbox(kind=MessageKind.USER_INVITATION)
    assert message.recipient == "awa@sahel.example"
    assert message.payload["invited_by"] == "Selin Kaya"


def test_inviting_a_taken_address_is_refused(client, staff, make_org, make_user, outbox):
    org = make_org()
    make_user("partner", org=org, email="awa@sahel.example")

    response = client.post(
        f"/staff/organisations/{org.id}/invite?lang=en", data={"email": "awa@sahel.example"}
    )

    assert response.status_code == 422
    assert "A user with this email address exists already." in page(response).text
    assert outbox(kind=MessageKind.USER_INVITATION) == []


def test_inviting_without_an_address_is_refused(client, staff, make_org, counts):
    org = make_org()
    before = counts()

    response = client.post(f"/staff/organisations/{org.id}/invite?lang=en", data={"email": ""})

    assert response.status_code == 422
    assert "Please enter an email address." in page(response).text
    assert counts() == before


def test_users_page_lists_every_account(client, staff, make_org, make_user):
    org = make_org(name="Sahel Forum")
    partner = make_user("partner", org=org, name="Awa Ndiaye")

    html = page(client.get("/staff/users?lang=en"))

    rows = html.one("tbody").all("tr")
    assert [row.all("td")[1].text for row in rows] == [staff.email, partner.email]
    assert "(you)" in rows[0].text
    # Nobody is offered to deactivate themselves.
    assert not rows[0].all("a", href=f"/staff/users/{staff.id}/deactivate")
    assert rows[1].all("a", href=f"/staff/users/{partner.id}/deactivate")
    assert "Sahel Forum" in rows[1].text


def test_deactivating_asks_first_then_blocks_login(client, staff, make_user, login):
    partner = make_user("partner", name="Awa Ndiaye")

    confirmation = page(client.get(f"/staff/users/{partner.id}/deactivate?lang=en"))
    response = client.post(f"/staff/users/{partner.id}/deactivate")

    assert "Deactivate the account of Awa Ndiaye?" in confirmation.one("h1").text
    assert response.status_code == 303
    db.session.refresh(partner)
    assert partner.is_active is False
    [entry] = audit.entries_for(partner)
    assert entry.action == "user.deactivated" and entry.changes == {"is_active": [True, False]}
    login(None)
    refused = client.post("/login", data={"email": partner.email, "password": PASSWORD})
    assert refused.status_code == 401


def test_a_deactivated_users_session_ends(app, make_user, login):
    partner = make_user("partner")
    partner_client = app.test_client()
    assert (
        partner_client.post(
            "/login", data={"email": partner.email, "password": PASSWORD}
        ).status_code
        == 303
    )
    assert partner_client.get("/account").status_code == 200

    login(make_user("staff")).post(f"/staff/users/{partner.id}/deactivate")

    assert partner_client.get("/account").status_code == 302


def test_staff_cannot_deactivate_themselves(client, staff):
    confirmation = page(client.get(f"/staff/users/{staff.id}/deactivate?lang=en"))
    response = client.post(f"/staff/users/{staff.id}/deactivate?lang=en")

    assert "You cannot deactivate your own account." in confirmation.text
    assert not confirmation.all("button", type="submit", class_="button--danger")
    assert response.status_code == 409
    assert "You cannot deactivate your own account." in page(response).one(role="alert").text
    db.session.refresh(staff)
    assert staff.is_active is True
    assert audit.entries_for(staff) == []


def test_a_deactivated_account_can_be_activated_again(client, staff, make_user):
    partner = make_user("partner")
    client.post(f"/staff/users/{partner.id}/deactivate")

    users = page(client.get("/staff/users?lang=en"))
    response = client.post(f"/staff/users/{partner.id}/activate")

    assert users.one("form", action=f"/staff/users/{partner.id}/activate")
    assert response.status_code == 303
    db.session.refresh(partner)
    assert partner.is_active is True
    assert [e.action for e in audit.entries_for(partner)] == ["user.activated", "user.deactivated"]
    client.post("/logout")
    login = client.post("/login", data={"email": partner.email, "password": PASSWORD})
    assert login.status_code == 303
