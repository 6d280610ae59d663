"""Staff pages for data-subject requests: look up, download, print, erase, and the audit log."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.mail.suppression import hashed_address
from outreach.models import AuditEntry, Registration, RegistrationStatus, User
from tests.privacy_helpers import everywhere
from tests.web.html import page

HOME = "/staff/privacy"
ADA = "ada@example.org"


@pytest.fixture
def staff(make_user, login):
    user = make_user("staff", email="lead@example.org")
    login(user)
    return user


@pytest.fixture
def ada(make_event, make_registration):
    event = make_event(title="Erzählcafé")
    return make_registration(event, email=ADA, name="Ada Lovelace").registration


def audit(action: str) -> list[AuditEntry]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def test_the_page_is_in_the_staff_menu_and_asks_for_an_address(client, staff):
    response = client.get(f"{HOME}?lang=en")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = page(response)
    assert html.one("a", href=HOME).attrs["aria-current"] == "page"
    form = html.one("form", action=HOME)
    assert form.attrs["method"] == "post"
    assert html.one("input", name="email", type="email")
    assert "Nobody has asked on the website yet." in html.text
    assert html.unlabelled_controls() == []


def test_a_look_up_shows_everything_grouped_with_empty_states_and_is_audited(client, staff, ada):
    response = client.post(f"{HOME}?lang=en", data={"email": " Ada@Example.org "})

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = page(response)
    assert html.one("h1").text == f"Data held about {ADA}"
    assert "Erzählcafé" in html.text and "Ada Lovelace" in html.text
    assert "No newsletter subscription." in html.text
    assert "No applications." in html.text
    assert "No user accounts." in html.text
    assert html.duplicate_ids() == []
    [entry] = audit("person.looked_up")
    assert entry.actor_id == staff.id
    assert entry.changes["email_hash"] == hashed_address(ADA)
    assert ADA not in json.dumps(entry.changes)


def test_a_wrong_address_is_named_at_its_field(client, staff):
    response = client.post(f"{HOME}?lang=en", data={"email": "not an address"})

    assert response.status_code == 422
    assert "Please enter a valid email address." in page(response).text
    assert audit("person.looked_up") == []


def test_the_json_download_is_an_attachment_never_cached_and_audited(client, staff, ada):
    response = client.post(f"{HOME}/export.json", data={"email": ADA})

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert ADA not in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["email"] == ADA
    assert data["registrations"][0]["name"] == "Ada Lovelace"
    [entry] = audit("person.exported")
    assert (entry.comment, entry.actor_id) == ("json", staff.id)
    assert entry.changes == {"email_hash": hashed_address(ADA)}


def test_the_printable_export_is_a_page_of_its_own_and_audited(client, staff, ada):
    response = client.post(f"{HOME}/export?lang=en", data={"email": ADA})

    assert response.status_code == 200
    html = page(response)
    assert html.one("h1").text == f"Personal data of {ADA}"
    assert "Erzählcafé" in html.text
    assert html.all("nav", class_="staff-nav") == []
    assert [entry.comment for entry in audit("person.exported")] == ["html"]


def test_erasing_asks_first_listing_what_goes_and_what_stays(client, staff, ada):
    response = client.post(f"{HOME}/erase?lang=en", data={"email": ADA})

    assert response.status_code == 200
    html = page(response)
    assert "1 registration for an event" in html.text
    assert "What stays" in html.text
    assert html.one("form", action=f"{HOME}/erase/confirm")
    db.session.rollback()
    assert db.session.get(Registration, ada.id).name == "Ada Lovelace"
    assert audit("person.erased") == []


def test_erasing_removes_the_person_and_shows_the_counts(client, staff, ada):
    response = client.post(f"{HOME}/erase/confirm?lang=en", data={"email": ADA})

    [entry] = audit("person.erased")
    assert response.status_code == 303
    assert response.location == f"{HOME}/erasures/{entry.id}"
    assert entry.actor_id == staff.id and entry.changes["email_hash"] == hashed_address(ADA)
    result = client.get(f"{response.location}?lang=en")
    assert result.status_code == 200
    html = page(result)
    assert html.one("h1").text == "The data is erased"
    rows = {row.all("th")[0].text: row.all("td")[0].text for row in html.all("tr")[1:]}
    assert rows["Registrations anonymised"] == "1"
    assert rows["Registrations cancelled (events not yet begun)"] == "1"
    assert everywhere(ADA) == []
    assert db.session.get(Registration, ada.id).status is RegistrationStatus.CANCELLED


def test_a_staff_member_cannot_erase_their_own_account(client, staff, make_user):
    make_user("staff")

    response = client.post(f"{HOME}/erase/confirm?lang=en", data={"email": staff.email})

    assert response.status_code == 409
    assert "This is the address of your own account." in page(response).text
    db.session.rollback()
    assert db.session.get(User, staff.id).is_active
    assert audit("person.erased") == []


def test_an_action_without_an_address_is_a_bad_request(client, staff):
    for path in ("/export.json", "/export", "/erase", "/erase/confirm"):
        assert client.post(f"{HOME}{path}", data={}).status_code == 400
        assert client.post(f"{HOME}{path}", data={"email": "x"}).status_code == 400
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 0


def test_only_erasures_have_a_result_page(client, staff, ada):
    client.post(f"{HOME}/export.json", data={"email": ADA})
    [exported] = audit("person.exported")

    assert client.get(f"{HOME}/erasures/{exported.id}").status_code == 404
    assert client.get(f"{HOME}/erasures/999999").status_code == 404


def test_partners_and_strangers_see_nothing(client, login, make_user, ada):
    login(make_user("partner"))
    assert client.get(HOME).status_code == 403
    assert client.post(HOME, data={"email": ADA}).status_code == 403
    assert client.post(f"{HOME}/export.json", data={"email": ADA}).status_code == 403

    login(None)
    assert client.get(HOME).status_code == 302
    assert client.post(f"{HOME}/erase/confirm", data={"email": ADA}).status_code == 302
    assert audit("person.exported") == [] and audit("person.erased") == []
