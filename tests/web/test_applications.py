"""The "become a partner" form, and the staff pages that accept or decline applications."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from config import TestingConfig
from outreach import create_app
from outreach.extensions import db
from outreach.models import (
    ApplicationStatus,
    AuditEntry,
    MessageKind,
    Organisation,
    OutboxMessage,
    PartnerApplication,
    Role,
    User,
)
from outreach.services.applications import ApplicationInput, apply
from tests.web.html import page

FORM = "/become-a-partner"
THANKS = "/become-a-partner/thanks"
LIST = "/staff/applications"


def form_data(**values) -> dict:
    data = {
        "organisation_name": "Sahel Forum e.V.",
        "website": "sahel-forum.example",
        "city": "Leipzig",
        "contact_name": "Amina Diallo",
        "contact_email": "amina@sahel-forum.example",
        "languages": ["fr", "de"],
        "description": "Elternabende auf Französisch und Wolof.",
        "consent": "y",
    }
    data.update(values)
    return {key: value for key, value in data.items() if value is not None}


def stored() -> list[PartnerApplication]:
    db.session.rollback()
    return list(db.session.scalars(select(PartnerApplication).order_by(PartnerApplication.id)))


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def application(app) -> PartnerApplication:
    """A pending application, in English, made through the service."""
    data = ApplicationInput(
        organisation_name="Sahel Forum e.V.",
        contact_name="Amina Diallo",
        contact_email="amina@sahel-forum.example",
        description="Parents' evenings in French and Wolof.\n\nAnd a reading club.",
        city="Leipzig",
        website="https://sahel-forum.example",
        languages=["fr", "de"],
        consent=True,
    )
    return apply(data, language="en").application


@pytest.fixture
def staff(make_user, login):
    user = make_user("staff", name="Lena Kraus")
    login(user)
    return user


# -- the public form ------------------------------------------------------------------


def test_the_form_is_in_german_by_default(client):
    response = client.get(FORM)

    assert response.status_code == 200
    html = page(response)
    assert html.one("html").attrs["lang"] == "de"
    assert html.one("label", for_="contact_email").text.startswith("E-Mail-Adresse")
    assert "Pflichtfeld" in html.one("label", for_="organisation_name").text
    # Language names come in the reader's language.
    assert html.one("label", for_="languages-0").text  # the list is not empty
    assert "Französisch" in html.one("fieldset", id="languages").text
    assert html.duplicate_ids() == []
    assert html.unlabelled_controls() == []


def test_the_form_is_in_english_on_request(client):
    html = page(client.get(f"{FORM}?lang=en"))

    assert html.one("h1").text == "Become a partner organisation"
    assert html.one("label", for_="organisation_name").text.startswith("Name of your organisation")
    assert "French" in html.one("fieldset", id="languages").text
    consent = html.one("label", for_="consent").text
    assert "stored so that the team can review this application" in consent


def test_the_trap_field_is_hidden_from_people_and_screen_readers(client):
    html = page(client.get(FORM))

    trap = html.one("input", name="homepage")
    wrapper = trap.parent
    assert wrapper.attrs["aria-hidden"] == "true"
    assert "visually-hidden" in wrapper.attrs["class"].split()
    assert trap.attrs["tabindex"] == "-1" and trap.attrs["autocomplete"] == "off"


def test_applying_stores_the_application_and_thanks(client, outbox):
    response = client.post(f"{FORM}?lang=en", data=form_data())

    assert response.status_code == 303
    assert response.headers["Location"].endswith(THANKS)
    [application] = stored()
    assert application.organisation_name == "Sahel Forum e.V."
    assert application.website == "https://sahel-forum.example"
    assert application.languages == ["fr", "de"]
    assert application.language == "en"
    assert application.status is ApplicationStatus.PENDING
    [message] = outbox()
    assert message.kind is MessageKind.APPLICATION_RECEIVED
    assert message.recipient == "amina@sahel-forum.example" and message.language == "en"

    thanks = page(client.get(f"{THANKS}?lang=en"))
    assert thanks.one("h1").text == "Thank you for your application"
    assert "What happens next" in thanks.text


def test_the_application_language_is_the_page_language(client):
    client.post(FORM, data=form_data())

    assert stored()[0].language == "de"


def test_missing_entries_are_named_and_nothing_is_written(client, outbox):
    response = client.post(
        f"{FORM}?lang=en",
        data=form_data(
            organisation_name="",
            city="",
            contact_name="",
            contact_email="",
            languages=None,
            description="",
            consent=None,
        ),
    )

    assert response.status_code == 422
    html = page(response)
    summary = html.one(class_="error-summary").text
    for message in (
        "Please enter the name of your organisation.",
        "Please enter your city.",
        "Please enter your name.",
        "Please enter your email address.",
        "Please choose at least one language.",
        "Please tell us briefly what your organisation does.",
        "Please agree to how we use your data",
    ):
        assert message in summary
    assert html.one("input", id="organisation_name").attrs["aria-invalid"] == "true"
    assert stored() == [] and outbox() == []


def test_the_service_checks_are_shown_at_their_fields(client, outbox):
    response = client.post(
        f"{FORM}?lang=en",
        data=form_data(
            contact_email="not an address",
            website="ftp://sahel.example",
            description="x" * 3001,
        ),
    )

    assert response.status_code == 422
    html = page(response)
    assert "valid email address" in html.by_id("contact_email-error").text
    assert "https://example.org" in html.by_id("website-error").text
    assert "at most 3000 characters" in html.by_id("description-error").text
    # What was typed stays in the form.
    assert html.one("input", id="organisation_name").attrs["value"] == "Sahel Forum e.V."
    assert stored() == [] and outbox() == []


def test_every_problem_is_named_at_once(client):
    response = client.post(
        f"{FORM}?lang=en",
        data=form_data(organisation_name="", contact_email="not an address", website="ftp://x"),
    )

    assert response.status_code == 422
    html = page(response)
    assert (
        "Please enter the name of your organisation." in html.by_id("organisation_name-error").text
    )
    assert "valid email address" in html.by_id("contact_email-error").text
    assert "https://example.org" in html.by_id("website-error").text
    assert len(html.one(class_="error-summary").all("li")) == 3


def test_a_language_outside_the_list_is_refused(client):
    response = client.post(f"{FORM}?lang=en", data=form_data(languages=["de", "klingon"]))

    assert response.status_code == 422
    assert "Please choose languages from the list." in page(response).text
    assert stored() == []


def test_applying_needs_consent(client, outbox):
    response = client.post(f"{FORM}?lang=en", data=form_data(consent=None))

    assert response.status_code == 422
    assert "Please agree to how we use your data" in page(response).by_id("consent-error").text
    assert stored() == [] and outbox() == []


def test_a_filled_trap_field_is_dropped_with_the_same_thanks(client, outbox):
    response = client.post(FORM, data=form_data(homepage="http://spam.example"))

    assert response.status_code == 303
    assert response.headers["Location"].endswith(THANKS)
    assert stored() == [] and outbox() == []


def test_a_second_identical_application_is_not_duplicated(client, outbox):
    first = client.post(FORM, data=form_data())
    second = client.post(
        FORM,
        data=form_data(
            organisation_name="SAHEL FORUM e.V.", contact_email="Amina@Sahel-Forum.example"
        ),
    )

    assert first.status_code == second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    assert len(stored()) == 1
    assert len(outbox()) == 1


def test_the_form_needs_the_csrf_token(app, database_url):
    protected = create_app(
        TestingConfig, SQLALCHEMY_DATABASE_URI=database_url, WTF_CSRF_ENABLED=True
    )
    try:
        response = protected.test_client().post(FORM, data=form_data())
        assert response.status_code == 400
        with protected.app_context():
            assert db.session.scalar(select(func.count(PartnerApplication.id))) == 0
    finally:
        with protected.app_context():
            db.engine.dispose()


def test_too_many_applications_get_a_friendly_429(app, database_url):
    limited = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=database_url,
        RATELIMIT_ENABLED=True,
        RATELIMIT_APPLY="2 per minute",
    )
    try:
        client = limited.test_client()
        statuses = [
            client.post(
                f"{FORM}?lang=en", data=form_data(organisation_name=f"Verein {n}")
            ).status_code
            for n in range(3)
        ]
        assert statuses == [303, 303, 429]
        assert "Too many requests" in page(client.post(f"{FORM}?lang=en", data=form_data())).text
        assert client.get(FORM).status_code == 200  # only submissions are counted
        with limited.app_context():
            assert db.session.scalar(select(func.count(PartnerApplication.id))) == 2
    finally:
        with limited.app_context():
            db.engine.dispose()


# Any text at all: control characters, odd scripts, now and then something huge.
anything = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=50),
    st.builds(
        lambda piece, times: (piece or "x") * times, st.text(max_size=4), st.integers(1, 5000)
    ),
    st.sampled_from(["\x00", "\r\n", "\u202e", "\ufeff", "🙂" * 300, "-1", "https://", "de"]),
)
FIELDS = [*form_data(), "homepage"]
_numbers = itertools.count()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    garbled=st.dictionaries(
        st.sampled_from(FIELDS), st.one_of(anything, st.lists(anything, max_size=3))
    ),
    missing=st.sets(st.sampled_from(FIELDS), max_size=2),
)
def test_arbitrary_input_never_fails_and_never_half_stores(client, garbled, missing):
    data = form_data(organisation_name=f"Verein {next(_numbers)}")
    data.update(garbled)
    for name in missing:
        data.pop(name, None)
    before = (_count(PartnerApplication), _count(OutboxMessage))

    response = client.post(FORM, data=data)

    after = (_count(PartnerApplication), _count(OutboxMessage))
    assert response.status_code < 500
    event(f"status {response.status_code}")
    if response.status_code == 303:
        assert after in (before, (before[0] + 1, before[1] + 1))
    else:
        assert response.status_code in {400, 413, 422}
        assert after == before


# -- who may see the staff pages ------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", LIST),
        ("get", "/staff/applications/{id}"),
        ("post", "/staff/applications/{id}/accept"),
        ("get", "/staff/applications/{id}/decline"),
        ("post", "/staff/applications/{id}/decline"),
    ],
)
def test_staff_pages_are_for_staff_only(
    client, make_user, login, application, outbox, method, path
):
    url = path.format(id=application.id)
    data = {"slug": "sahel-forum", "note": "no"} if method == "post" else None

    anonymous = getattr(client, method)(url, data=data)
    login(make_user("partner"))
    partner = getattr(client, method)(url, data=data)

    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert partner.status_code == 403
    assert stored()[0].is_pending
    assert [message.kind for message in outbox()] == [MessageKind.APPLICATION_RECEIVED]


@pytest.mark.parametrize("number", [999, 2**31, 2**63, 10**30])
def test_an_unknown_application_is_not_found(client, staff, number):
    assert client.get(f"/staff/applications/{number}").status_code == 404
    assert client.get(f"/staff/applications/{number}/decline").status_code == 404
    assert client.post("/staff/applications/999/accept", data={"slug": "x"}).status_code == 404


# -- the list and the detail page -----------------------------------------------------


def test_the_list_says_when_there_are_no_applications(client, staff):
    html = page(client.get(f"{LIST}?lang=en"))

    assert "No organisation has applied yet." in html.one(class_="empty-state").text


def test_the_list_shows_pending_before_decided(client, staff, application):
    other = apply(
        ApplicationInput(
            organisation_name="Elternnetzwerk Ost",
            contact_name="Oleksandr Bondarenko",
            contact_email="ob@example.org",
            description="Beratung",
            city="Dresden",
            languages=["uk"],
            consent=True,
        ),
        language="de",
    ).application
    client.post(f"/staff/applications/{other.id}/decline", data={"note": ""})

    html = page(client.get(f"{LIST}?lang=en"))

    pending = html.one("section", aria_labelledby="pending-heading").text
    decided = html.one("section", aria_labelledby="decided-heading").text
    assert "Sahel Forum e.V." in pending and "Elternnetzwerk Ost" not in pending
    assert "Elternnetzwerk Ost" in decided and "Declined" in decided


def test_the_detail_page_shows_the_application_and_a_suggested_slug(client, staff, application):
    response = client.get(f"/staff/applications/{application.id}?lang=en")

    assert response.status_code == 200
    html = page(response)
    assert html.one("h1").text == "Sahel Forum e.V."
    assert "amina@sahel-forum.example" in html.text
    assert "French" in html.text and "Leipzig" in html.text
    assert len(html.one(class_="description").all("p")) == 2
    assert html.one("input", id="slug").attrs["value"] == "sahel-forum-e-v"
    assert html.all("a", href=f"/staff/applications/{application.id}/decline")
    assert html.duplicate_ids() == [] and html.unlabelled_controls() == []


# -- accepting ------------------------------------------------------------------------


def test_accepting_creates_the_organisation_and_invites_the_contact(
    client, staff, application, outbox
):
    response = client.post(
        f"/staff/applications/{application.id}/accept?lang=en", data={"slug": "sahel-forum"}
    )

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/staff/applications/{application.id}")
    db.session.rollback()
    organisation = db.session.scalar(select(Organisation).where(Organisation.slug == "sahel-forum"))
    user = db.session.scalar(select(User).where(User.email == "amina@sahel-forum.example"))
    assert organisation is not None and organisation.name == "Sahel Forum e.V."
    assert user.role is Role.PARTNER and user.organisation_id == organisation.id
    [invitation] = outbox(kind=MessageKind.USER_INVITATION)
    assert invitation.recipient == user.email and invitation.language == "en"
    assert stored()[0].status is ApplicationStatus.ACCEPTED
    assert db.session.scalar(select(AuditEntry.action)) == "application.accepted"

    shown = page(client.get(f"/staff/applications/{application.id}?lang=en"))
    assert "is now a partner organisation" in shown.one(class_="flashes").text
    assert shown.all("a", href="/organisations/sahel-forum")
    assert not shown.all("form", action=f"/staff/applications/{application.id}/accept")


def test_a_taken_slug_is_refused_at_its_field(client, staff, application, make_org, outbox):
    make_org(slug="sahel-forum")

    response = client.post(
        f"/staff/applications/{application.id}/accept?lang=en", data={"slug": "sahel-forum"}
    )

    assert response.status_code == 422
    assert "exists already" in page(response).by_id("slug-error").text
    assert _count(Organisation) == 1
    assert stored()[0].is_pending
    assert outbox(kind=MessageKind.USER_INVITATION) == []


def test_an_empty_or_malformed_slug_is_refused(client, staff, application):
    empty = client.post(f"/staff/applications/{application.id}/accept?lang=en", data={"slug": ""})
    bad = client.post(
        f"/staff/applications/{application.id}/accept?lang=en", data={"slug": "Sahel Forum"}
    )

    assert empty.status_code == bad.status_code == 422
    assert "lower-case letters" in page(bad).by_id("slug-error").text
    assert _count(Organisation) == 0


def test_a_contact_who_has_an_account_already_is_refused(
    client, staff, application, make_user, outbox
):
    make_user("staff", email="amina@sahel-forum.example")

    response = client.post(
        f"/staff/applications/{application.id}/accept?lang=en", data={"slug": "sahel-forum"}
    )

    assert response.status_code == 422
    assert "A user with this email address exists already." in page(response).text
    assert _count(Organisation) == 0
    assert _count(AuditEntry) == 0
    assert stored()[0].is_pending
    assert outbox(kind=MessageKind.USER_INVITATION) == []


def test_accepting_twice_is_a_conflict_without_a_second_invitation(
    client, staff, application, outbox
):
    url = f"/staff/applications/{application.id}/accept?lang=en"
    client.post(url, data={"slug": "sahel-forum"})

    again = client.post(url, data={"slug": "sahel-forum-2"})

    assert again.status_code == 409
    assert "already been decided" in page(again).one(class_="notice").text
    assert _count(Organisation) == 1
    assert len(outbox(kind=MessageKind.USER_INVITATION)) == 1


# -- declining ------------------------------------------------------------------------


def test_declining_asks_for_confirmation_first(client, staff, application, outbox):
    response = client.get(f"/staff/applications/{application.id}/decline?lang=en")

    assert response.status_code == 200
    html = page(response)
    assert "Sahel Forum e.V." in html.one("h1").text
    assert "You cannot undo this." in html.text
    assert html.one("textarea", id="note")
    assert stored()[0].is_pending
    assert outbox(kind=MessageKind.APPLICATION_DECLINED) == []


def test_declining_sends_one_mail_with_the_note(client, staff, application, outbox):
    url = f"/staff/applications/{application.id}/decline?lang=en"

    response = client.post(url, data={"note": "We only work in Saxony."})
    shown = page(client.get(f"/staff/applications/{application.id}?lang=en"))
    again = client.post(url, data={"note": "Again"})

    assert response.status_code == 303
    assert "We have sent the applicant an email." in shown.one(class_="flashes").text
    assert "We only work in Saxony." in shown.text
    assert again.status_code == 409
    assert "already been decided" in page(again).text
    [mail] = outbox(kind=MessageKind.APPLICATION_DECLINED)
    assert mail.recipient == "amina@sahel-forum.example" and mail.language == "en"
    [decided] = stored()
    assert decided.status is ApplicationStatus.DECLINED
    assert decided.decision_note == "We only work in Saxony."
    assert db.session.scalar(select(AuditEntry.action)) == "application.declined"


def test_too_long_a_note_is_refused_at_its_field(client, staff, application, outbox):
    response = client.post(
        f"/staff/applications/{application.id}/decline?lang=en", data={"note": "x" * 2001}
    )

    assert response.status_code == 422
    assert "at most 2000 characters" in page(response).by_id("note-error").text
    assert stored()[0].is_pending
    assert outbox(kind=MessageKind.APPLICATION_DECLINED) == []
