"""Campaign texts: placeholders checked when saved, Markdown made safe HTML and readable text."""

from __future__ import annotations

import pytest

from outreach.models import Campaign, CampaignKind
from outreach.services.campaign_text import (
    PLACEHOLDERS,
    CampaignTextError,
    check_texts,
    context_for,
    html_to_text,
    render,
    version_language,
)
from outreach.services.segments import Recipient

BASE = "http://outreach.test"


def body_errors(body: str, **kwargs) -> dict[str, str]:
    return check_texts({"de": {"subject": "Hallo", "body": body}}, **kwargs)


def context(**values) -> dict:
    return {
        "first_name": "Erika",
        "name": "Erika Mustermann",
        "event": None,
        "manage_url": None,
        "unsubscribe_url": f"{BASE}/unsubscribe/abc",
        "preferences_url": f"{BASE}/preferences/abc",
        **values,
    }


def test_every_documented_placeholder_is_accepted(app):
    body = " ".join(f"{{{{ {name} }}}}" for name in PLACEHOLDERS)
    assert check_texts({"de": {"subject": "{{ first_name }}", "body": body}}) == {}


def test_an_unknown_placeholder_is_an_error_naming_it_and_the_known_ones(app):
    errors = check_texts({"en": {"subject": "Hi {{ frist_name }}", "body": "{{ event.venue }}"}})
    assert "frist_name" in errors["en.subject"]
    assert "first_name" in errors["en.subject"]
    assert "event.venue" in errors["en.body"]


@pytest.mark.parametrize(
    "body",
    [
        "{{ name.upper() }}",
        "{{ name.__class__ }}",
        "{{ event }}",
        "{{ event['__init__'] }}",
        "{% for x in range(3) %}{{ x }}{% endfor %}",
        "{{ lipsum() }}",
        "{{ name * 100000000 }}",
    ],
)
def test_only_the_event_has_attributes_and_nothing_can_be_called(app, body):
    assert "de.body" in body_errors(body)


def test_a_template_that_does_not_parse_says_where(app):
    errors = body_errors("Hallo\n{{ first_name ")
    assert "Zeile 2" in errors["de.body"]  # German: the default language
    assert "{{ first_name }}" in errors["de.body"]


def test_the_event_and_manage_link_are_for_registrants_only(app):
    available = {"first_name", "name", "unsubscribe_url", "preferences_url"}
    errors = body_errors("{{ event.title }} {{ manage_url }}", available=available)
    assert "event" in errors["de.body"] and "manage_url" in errors["de.body"]
    assert body_errors("{{ first_name }} {{ preferences_url }}", available=available) == {}


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("Hallo <script>alert(1)</script>", "<script>"),
        ('<p onclick="steal()">Hallo</p>', "onclick"),
        ("[Gewinn](javascript:alert(1))", "javascript:"),
        ('<a href="javascript:alert(1)">x</a>', "javascript:"),
        ("![Bild](https://example.org/x.png)", "<img>"),
        ('<iframe src="https://example.org"></iframe>', "<iframe>"),
        ("<div>Kasten</div>", "<div>"),
    ],
)
def test_raw_html_the_sanitiser_would_change_is_refused_clearly(app, body, named):
    message = body_errors(body)["de.body"]
    assert named in message
    assert "Markdown" in message


@pytest.mark.parametrize(
    "body",
    [
        "**fett** und *kursiv*\n\n- eins\n- zwei\n\n3. drei\n\n> Zitat",
        '# Überschrift\n\n### Klein\n\n[Seite](https://example.org "Titel")',
        'Zeile<br>Zeile <strong>fett</strong> <em>x</em> <a href="mailto:a@b.org">Mail</a>',
        "Anführungszeichen \"so\" & 'so' < > und `Code` und ---",
    ],
)
def test_markdown_and_allowed_html_pass_unchanged(app, body):
    assert body_errors(body) == {}


def test_values_are_text_never_markdown_or_html(app):
    sneaky = 'Eve <script>x</script> **fett** [link](javascript:alert(1)) "q" & co'
    rendered = render(
        "Hallo {{ name }}", "Hallo {{ name }}\n\n{{ first_name }}", context(name=sneaky)
    )
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "<strong>" not in rendered.html and "<a " not in rendered.html
    assert "**fett** [link](javascript:alert(1))" in rendered.text
    # The subject is plain text: nothing escaped, no line breaks.
    assert rendered.subject == f"Hallo {sneaky}"


def test_links_work_in_markdown_links_autolinks_and_the_text_part(app):
    rendered = render(
        "Betreff",
        "[Abmelden]({{ unsubscribe_url }}) oder <{{ preferences_url }}>",
        context(),
    )
    assert f'<a href="{BASE}/unsubscribe/abc">Abmelden</a>' in rendered.html
    assert f'<a href="{BASE}/preferences/abc">{BASE}/preferences/abc</a>' in rendered.html
    assert f"Abmelden ({BASE}/unsubscribe/abc)" in rendered.text
    assert f"oder {BASE}/preferences/abc" in rendered.text


def test_html_is_only_the_allowed_tags(app):
    rendered = render(
        "S",
        "# Groß\n\n## Mittel\n\n#### Klein\n\n**a** *b*\nneue Zeile\n\n1. x\n2. y\n\n> z",
        context(),
    )
    html = str(rendered.html)
    assert "<h1>" not in html and html.count("<h2>") == 2 and "<h3>Klein</h3>" in html
    assert "<strong>a</strong> <em>b</em><br>" in html
    assert "<ol>" in html and "<blockquote>" in html


def test_the_text_part_reads_well(app):
    text = html_to_text(
        "<h2>Titel</h2><p>Erster <strong>Absatz</strong><br>\nzweite Zeile</p>"
        "<ul><li>eins</li><li>zwei<ul><li>drei</li></ul></li></ul>"
        '<ol start="3"><li>drei</li><li>vier</li></ol>'
        '<blockquote><p>Zitat</p></blockquote><p><a href="https://example.org">Seite</a> '
        '<a href="https://example.org/x">https://example.org/x</a></p>'
    )
    assert text == (
        "Titel\n\nErster Absatz\nzweite Zeile\n\n- eins\n- zwei\n  - drei\n\n3. drei\n4. vier"
        "\n\n> Zitat\n\nSeite (https://example.org) https://example.org/x\n"
    )


def test_a_failure_at_render_time_is_a_campaign_text_error(app):
    with pytest.raises(CampaignTextError):
        render("S", "{{ name.upper() }}", context())


def test_context_gives_the_event_in_the_version_language_and_its_own_zone(app, make_event):
    from datetime import UTC, datetime

    event = make_event(
        title="Sommerfest",
        starts_at=datetime(2030, 7, 1, 16, 0, tzinfo=UTC),
        timezone="Europe/Berlin",
    )
    campaign = Campaign(kind=CampaignKind.OUTREACH, texts={"de": {}, "en": {}})
    campaign.fallback_language = "de"
    person = Recipient("ana@example.org", "Ana Lima", "en", event_id=event.id)
    values = context_for(
        person,
        campaign=campaign,
        unsubscribe_url=f"{BASE}/u",
        preferences_url=f"{BASE}/p",
        manage_url=f"{BASE}/r/token",
    )
    assert values["first_name"] == "Ana"
    assert values["event"].title == "Sommerfest"
    assert values["event"].date == "Monday, July 1, 2030, 6:00\u202fPM"
    assert values["event"].url == f"{BASE}/events/{event.slug}"
    rendered = render("{{ event.title }}", "[Ihre Anmeldung]({{ manage_url }})", values)
    assert f'href="{BASE}/r/token"' in rendered.html

    german = context_for(
        Recipient("tom@example.org", "Tom", "fr", event_id=event.id),
        campaign=campaign,
        unsubscribe_url=f"{BASE}/u",
        preferences_url=f"{BASE}/p",
    )
    assert german["event"].date == "Montag, 1. Juli 2030, 18:00"


def test_a_person_gets_their_language_else_the_fallback(app):
    campaign = Campaign(texts={"de": {}, "en": {}}, fallback_language="de")
    assert version_language(campaign, "en") == "en"
    assert version_language(campaign, "ar") == "de"
