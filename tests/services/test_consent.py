"""Consent texts: released wordings never change, and every record names the one it saw."""

from __future__ import annotations

from sqlalchemy import select

from outreach.extensions import db
from outreach.models import PartnerApplication, Registration, Subscriber
from outreach.services import consent, newsletter
from outreach.services.applications import ApplicationInput, apply
from outreach.services.consent import Purpose

# SHA-256 of every released wording, per (purpose, version, language). A released text is
# what people agreed to: it must never change. To change a wording or its translation, add
# files for a NEW version (outreach/consent/wording/<purpose>/<version>.<language>.txt),
# point CURRENT_VERSIONS at it and add its fingerprints here; keep the old files and lines.
RELEASED = {
    ("api-registration", "api-2026-11", "de"): (
        "0aca306f6b54618a933750ffd487e5c8fcaa28e8f61df2156e9c7590ab341188"
    ),
    ("api-registration", "api-2026-11", "en"): (
        "7a0fa4c9d857c728e7be826ed593f5bcaae44740948affc49619796e84cae205"
    ),
    ("newsletter", "newsletter-2026-11", "de"): (
        "47f74c824c2e111f0c412265c911f212307ad47a851548c104255341b9141906"
    ),
    ("newsletter", "newsletter-2026-11", "en"): (
        "59b17fb6e3dc53a49b562525a8679acb0bbb17c59d9c926753b32ecd0ba189e6"
    ),
    ("partner-application", "partner-2026-11", "de"): (
        "14358962160525376d14c3339b4594072cbb880cbce4640abb6b03d046e66731"
    ),
    ("partner-application", "partner-2026-11", "en"): (
        "7f151439bde377b14f34a08ccc3cb67fa2751fcf090bb29030af83754b584e3e"
    ),
    ("registration", "2026-11", "de"): (
        "6abd66350aeb797fb044bb8d5e418c3da6739d03ee33de8427662faed720a182"
    ),
    ("registration", "2026-11", "en"): (
        "d4118da8b51034a5f432eb98ae65578602ad34f10cb458aa479571b314309c55"
    ),
}
ADD_A_VERSION = (
    "A released consent text changed. People agreed to the old words: keep that file as it "
    "was and add the new wording under a new version (and new fingerprints in RELEASED)."
)


# -- the texts ----------------------------------------------------------------------------


def test_released_wordings_are_never_changed():
    found = {
        (purpose.value, version, language): consent.fingerprint(wording)
        for (purpose, version, language), wording in consent.released().items()
    }

    changed = sorted(key for key in RELEASED if found.get(key) != RELEASED[key])
    assert not changed, f"{ADD_A_VERSION}\nChanged or missing: {changed}"
    unpinned = sorted(set(found) - set(RELEASED))
    assert not unpinned, f"New wordings need their fingerprint in RELEASED: {unpinned}"


def test_every_current_version_is_written_in_every_interface_language(app):
    for purpose in Purpose:
        version = consent.CURRENT_VERSIONS[purpose]
        assert set(consent.languages(purpose)) >= set(app.config["LANGUAGES"]), (
            f"{purpose.value} {version} lacks a language"
        )
        for language in app.config["LANGUAGES"]:
            assert (purpose.value, version, language) in RELEASED


def test_a_text_fills_its_placeholders_and_leaves_the_rest(app):
    text = consent.current(Purpose.REGISTRATION, "en")

    shown = text.text(hosts="Brückenwerk, Sahel Forum")

    assert "(Brückenwerk, Sahel Forum)" in shown
    assert "%(" not in shown
    assert consent.fill("%(a)s and %(b)s", a="1") == "1 and %(b)s"


def test_a_language_without_a_text_is_shown_and_recorded_in_the_default(app):
    assert consent.shown_language(Purpose.NEWSLETTER, "en") == "en"
    assert consent.shown_language(Purpose.NEWSLETTER, "ar") == "de"
    assert consent.given(Purpose.NEWSLETTER, None) == consent.Consent("newsletter-2026-11", "de")


def test_the_form_labels_are_the_versioned_texts(app, make_event, make_org):
    from outreach.applications.forms import application_form
    from outreach.newsletter.forms import SubscribeForm
    from outreach.public.forms import registration_form

    event = make_event(hosts=[make_org(name="Brückenwerk"), make_org(name="Sahel Forum")])
    with app.test_request_context("/"):
        registration = registration_form(event, "en")
        subscribe = SubscribeForm.for_locale("de", [])
        application = application_form("en")

    assert registration.consent.label.text == consent.current(Purpose.REGISTRATION, "en").text(
        hosts="Brückenwerk, Sahel Forum"
    )
    assert subscribe.consent.label.text == consent.current(Purpose.NEWSLETTER, "de").wording
    assert (
        application.consent.label.text == consent.current(Purpose.PARTNER_APPLICATION, "en").wording
    )
    for form in (registration, subscribe, application):
        assert 'href="/privacy"' in str(form.consent.description)


# -- the records --------------------------------------------------------------------------


def only(model):
    db.session.rollback()
    return db.session.scalars(select(model)).one()


def test_a_web_registration_records_the_version_and_the_page_language(client, make_event):
    make_event(slug="dialog")

    # The page is in English; the person wants German emails.
    response = client.post(
        "/events/dialog?lang=en",
        data={"name": "Amina", "email": "amina@example.org", "language": "de", "consent": "y"},
    )

    assert response.status_code == 303
    registration = only(Registration)
    assert registration.consent_version == "2026-11"
    assert (registration.consent_language, registration.language) == ("en", "de")
    assert registration.consented_at is not None


def test_an_api_registration_records_the_api_text_in_the_request_language(client, make_event):
    event = make_event()

    response = client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={"name": "Amina", "email": "amina@example.org", "language": "de", "consent": True},
        headers={"Accept-Language": "en"},
    )

    assert response.status_code == 201
    registration = only(Registration)
    assert registration.consent_version == consent.CURRENT_VERSIONS[Purpose.API_REGISTRATION]
    assert registration.consent_version == "api-2026-11"
    assert (registration.consent_language, registration.language) == ("en", "de")


def test_the_api_documents_its_consent_text_and_version(client):
    document = client.get("/api/v1/openapi.json").get_json()

    described = document["components"]["schemas"]["RegistrationRequest"]["properties"]["consent"]
    assert "api-2026-11" in described["description"]
    assert "shown to its hosts" in described["description"]


def test_the_service_records_the_person_language_when_no_page_language_is_given(
    app, make_event, make_registration
):
    make_registration(make_event(), language="en")

    registration = only(Registration)
    assert (registration.consent_version, registration.consent_language) == ("2026-11", "en")


def test_a_subscription_records_the_version_and_language_it_was_shown_in(client):
    response = client.post(
        "/newsletter/subscribe?lang=en",
        data={"email": "leyla@example.org", "language": "de", "consent": "y"},
    )

    assert response.status_code == 303
    subscriber = only(Subscriber)
    assert subscriber.consent_version == newsletter.NEWSLETTER_CONSENT_VERSION
    assert subscriber.consent_version == "newsletter-2026-11"
    assert (subscriber.consent_language, subscriber.language) == ("en", "de")


def test_an_application_records_the_version_and_language_it_was_shown_in(app):
    apply(
        ApplicationInput(
            organisation_name="Neue Brücke e.V.",
            contact_name="Lina",
            contact_email="lina@example.org",
            description="Nachbarschaftsarbeit in Köln-Kalk.",
            city="Köln",
            languages=["de", "tr"],
            consent=True,
        ),
        language="en",
    )

    application = only(PartnerApplication)
    assert (application.consent_version, application.consent_language) == (
        "partner-2026-11",
        "en",
    )


def test_an_application_form_in_english_records_english(client):
    response = client.post(
        "/become-a-partner?lang=en",
        data={
            "organisation_name": "Neue Brücke e.V.",
            "city": "Köln",
            "contact_name": "Lina",
            "contact_email": "lina@example.org",
            "languages": ["de", "tr"],
            "description": "Nachbarschaftsarbeit in Köln-Kalk.",
            "consent": "y",
        },
    )

    assert response.status_code == 303
    application = only(PartnerApplication)
    assert (application.consent_version, application.consent_language) == (
        "partner-2026-11",
        "en",
    )
