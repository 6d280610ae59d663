"""The privacy notice at /privacy, and where the public forms point to it."""

from __future__ import annotations

import pytest

from outreach.services import consent
from outreach.services.consent import Purpose
from tests.web.html import page


def test_the_notice_is_in_german_by_default(client):
    response = client.get("/privacy")

    assert response.status_code == 200
    html = page(response)
    assert html.one("html").attrs["lang"] == "de"
    text = html.text
    for heading in (
        "Wer verantwortlich ist",
        "Was wir speichern und wozu",
        "Wer Ihre Daten sieht",
        "Wie lange wir Ihre Daten speichern",
        "Ihre Rechte",
    ):
        assert heading in {h.text for h in html.all("h2")}, heading
    assert "90 Tage nach ihrem Ende" in text
    assert "30 Tage lang" in text
    assert "sehen alle Veranstaltenden alle Anmeldungen" in text
    assert html.one("a", href="mailto:outreach@localhost").text == "outreach@localhost"
    assert html.all("a", href="/privacy/request")
    assert html.all("a", href="http://outreach.test/privacy/request")  # in the notice's text


def test_the_notice_is_in_english_for_english_readers(client):
    html = page(client.get("/privacy", headers={"Accept-Language": "en"}))

    assert html.one("html").attrs["lang"] == "en"
    assert html.one("h1").text == "Privacy notice"
    assert "Who is responsible" in {h.text for h in html.all("h2")}
    assert "registrations of an event 90 days after it has ended" in html.text
    assert "then every host sees all registrations of the event" in html.text
    assert "Version 2026-11" in html.text


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_notice_lists_every_current_consent_text_with_its_version(client, language):
    html = page(client.get(f"/privacy?lang={language}"))

    for purpose in Purpose:
        text = consent.current(purpose, language)
        section = html.one("h3", id=f"consent-{purpose.value}").parent
        assert section.one("blockquote").text.startswith(text.wording[:60])
        assert "%(" not in section.one("blockquote").text
        assert text.version in section.text


def test_the_notice_uses_the_configured_organisation_contact_and_periods(app, client):
    app.config.update(
        SITE_NAME="Brückenwerk *e.V.*",
        PRIVACY_CONTACT="Datenschutz <datenschutz@brueckenwerk.example>",
        RETENTION_DAYS=60,
        OUTBOX_RETENTION_DAYS=14,
    )

    html = page(client.get("/privacy?lang=en"))

    assert "Brückenwerk *e.V.* is responsible" in html.text
    link = html.one("a", href="mailto:datenschutz@brueckenwerk.example")
    assert link.text == "datenschutz@brueckenwerk.example"
    assert "60 days after it has ended" in html.text
    assert "for 14 days after it was sent" in html.text


def test_the_notice_links_the_request_page(client):
    html = page(client.get("/privacy?lang=en"))

    [link] = [a for a in html.all("a") if a.text.startswith("Ask for a copy of your data")]
    assert link.attrs["href"] == "/privacy/request"
    assert client.get(link.attrs["href"]).status_code == 200


def test_every_page_links_the_notice_in_its_footer(client, make_event):
    make_event(slug="dialog")

    for url in ("/", "/events/dialog", "/newsletter/subscribe", "/become-a-partner"):
        footer = page(client.get(url)).one("footer")
        assert footer.all("a", href="/privacy"), url


# -- the forms ----------------------------------------------------------------------------


def test_the_registration_form_says_that_all_hosts_of_a_joint_event_see_the_data(
    client, make_event, make_org
):
    hosts = [make_org(slug="brueckenwerk", name="Brückenwerk"), make_org(slug="sahel")]
    make_event(slug="dialog", hosts=hosts)

    html = page(client.get("/events/dialog?lang=en"))

    notice = html.one("p", class_="data-notice")
    assert "This is a joint event of Brückenwerk, " in notice.text
    assert "All of its hosts see the registrations" in notice.text
    assert notice.one("a", href="/organisations/brueckenwerk").text == "Brückenwerk"
    assert notice.one("a", href="/organisations/sahel")
    assert notice.one("a", href="/privacy")
    consent_label = html.one("label", for_="consent").text
    assert "shown to its hosts (Brückenwerk, " in consent_label
    assert html.one("p", id="consent-hint").one("a", href="/privacy")
    assert html.one("input", id="consent").attrs["aria-describedby"] == "consent-hint"


def test_a_single_host_is_named_as_the_one_who_sees_the_data(client, make_event, make_org):
    make_event(slug="dialog", hosts=[make_org(slug="sahel", name="Sahel Forum")])

    notice = page(client.get("/events/dialog?lang=en")).one("p", class_="data-notice")

    assert "This event is hosted by Sahel Forum. The host sees the registrations" in notice.text
    assert "joint" not in notice.text


def test_the_consent_label_is_the_versioned_german_text_on_german_pages(client, make_event):
    make_event(slug="dialog")

    label = page(client.get("/events/dialog")).one("label", for_="consent").text

    assert label.startswith("Ich bin einverstanden, dass mein Name")


@pytest.mark.parametrize("url", ["/newsletter/subscribe", "/become-a-partner"])
def test_the_other_consent_checkboxes_link_the_notice(client, url):
    html = page(client.get(url))

    assert html.one("p", id="consent-hint").one("a", href="/privacy")
