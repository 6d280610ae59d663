"""Names that end up in mail headers refuse line breaks and control characters.

A registrant's, subscriber's, applicant's or user's name becomes the display
name of a To header, an organisation's name the words of a subject: a line
break in it could start a header of its own ("Bcc: …"). Every form that takes
such a name answers with a field error a person understands, and stores
nothing. (tests/mail/test_header_injection.py shows the worker stays safe
even with such a name in the database.)
"""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.models import Organisation, PartnerApplication, Registration, Role, Subscriber, User
from outreach.services.errors import InvalidInput
from outreach.services.users import create_user
from tests.conftest import PASSWORD
from tests.web.html import page

BAD_NAMES = [
    "Ada\r\nBcc: everyone@example.org",
    "Ada\nLovelace",
    "Ada\rLovelace",
    "Ada\tLovelace",
    "Ada\x00Lovelace",
    "Ada\x1b[31mLovelace",
    "Ada\x85Lovelace",
    "Ada\u2028Lovelace",
    "Ada\u202eecalevol",
]
CANNOT_USE = "contains characters we cannot use"


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def _field_error(response, field: str) -> str:
    assert response.status_code == 422
    return page(response).by_id(f"{field}-error").text


@pytest.mark.parametrize("name", BAD_NAMES)
def test_registration_refuses_the_name(client, make_event, name):
    event = make_event()

    response = client.post(
        f"/events/{event.slug}?lang=en",
        data={"name": name, "email": "ada@example.org", "language": "en", "consent": "y"},
    )

    assert CANNOT_USE in _field_error(response, "name")
    assert _count(Registration) == 0


@pytest.mark.parametrize("name", BAD_NAMES)
def test_newsletter_subscription_refuses_the_name(client, name):
    response = client.post(
        "/newsletter/subscribe?lang=en",
        data={"email": "ada@example.org", "name": name, "language": "en", "consent": "y"},
    )

    assert CANNOT_USE in _field_error(response, "name")
    assert _count(Subscriber) == 0


@pytest.mark.parametrize("name", BAD_NAMES[:3])
def test_an_application_refuses_the_contact_name_and_the_organisation_name(client, name):
    data = {
        "organisation_name": "Neue Brücke e.V.",
        "city": "Köln",
        "contact_name": name,
        "contact_email": "lina@example.org",
        "languages": ["de"],
        "description": "Nachbarschaftsarbeit.",
        "consent": "y",
    }

    contact = client.post("/become-a-partner?lang=en", data=data)
    organisation = client.post(
        "/become-a-partner?lang=en",
        data={**data, "contact_name": "Lina", "organisation_name": f"Brücke{name}"},
    )

    assert CANNOT_USE in _field_error(contact, "contact_name")
    assert "characters we cannot use" in _field_error(organisation, "organisation_name")
    assert _count(PartnerApplication) == 0


@pytest.mark.parametrize("name", BAD_NAMES[:3])
def test_staff_cannot_invite_a_user_with_such_a_name(client, login, make_user, make_org, name):
    org = make_org()
    login(make_user("staff"))
    users_before = _count(User)

    response = client.post(
        f"/staff/organisations/{org.id}/invite?lang=en",
        data={"email": "awa@example.org", "name": name},
    )

    assert response.status_code == 422
    assert CANNOT_USE in page(response).one(class_="error-summary").text
    assert _count(User) == users_before


@pytest.mark.parametrize("name", BAD_NAMES[:3])
def test_organisation_names_refuse_them_too(client, login, make_user, make_org, name):
    org = make_org(name="Sahel Forum")
    staff = make_user("staff")
    partner = make_user("partner", org=org)
    orgs_before = _count(Organisation)

    login(staff)
    created = client.post("/staff/organisations/new?lang=en", data={"name": f"Neu{name}"})
    login(partner)
    renamed = client.post(
        "/partner/profile?lang=en", data={"name": f"Sahel{name}", "contact_email": ""}
    )

    assert CANNOT_USE in _field_error(created, "name")
    assert CANNOT_USE in _field_error(renamed, "name")
    assert _count(Organisation) == orgs_before
    db.session.refresh(org)
    assert org.name == "Sahel Forum"


@pytest.mark.parametrize("name", BAD_NAMES)
def test_creating_a_user_refuses_the_name(app, name):
    with force_locale("en"), pytest.raises(InvalidInput) as refusal:
        create_user(email="ada@example.org", role=Role.STAFF, password=PASSWORD, name=name)

    assert CANNOT_USE in refusal.value.errors["name"]
    assert _count(User) == 0


def test_the_cli_says_which_field_is_wrong(runner):
    name = "Ada\r\nBcc: x@example.org"
    arguments = ["outreach", "create-user", "--email", "ada@example.org", "--role", "staff"]
    result = runner.invoke(
        args=[*arguments, "--name", name, "--password-stdin"], input=PASSWORD + "\n"
    )

    assert result.exit_code != 0
    # The CLI speaks the default language, German.
    assert "name: Der Name enthält Zeichen, die wir nicht verwenden können." in result.output
    assert _count(User) == 0


def test_names_in_other_scripts_and_with_joiners_are_welcome(client, make_event):
    event = make_event()
    names = ["مهدی\u200cزاده", "Nguyễn Thị Minh Khai", "Ṣọlá Àdìgún"]

    for number, name in enumerate(names):
        response = client.post(
            f"/events/{event.slug}",
            data={"name": name, "email": f"p{number}@example.org", "language": "de"}
            | {"consent": "y"},
        )
        assert response.status_code == 303, name

    stored = db.session.scalars(select(Registration.name).order_by(Registration.id)).all()
    assert stored == names
