"""Rich text: Markdown people write renders as inert, sanitised HTML, and ordinary text survives.

Every payload of the corpus goes through ``render_markdown``; the output is
parsed back and must hold only allowed tags and attributes, no event
handler, and no link whose scheme is not http, https or mailto.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest
from flask import render_template_string

from outreach.rich_text import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    LINK_REL,
    URL_SCHEMES,
    html_to_text,
    render_markdown,
    render_text,
    sanitise,
)
from outreach.services.campaign_text import markdown_html

XSS_CORPUS = [
    # Raw HTML: script, images with handlers, SVG, frames, objects, styles.
    "<script>window.__xss = 1</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src=x onerror="window.__xss=1"/>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="data:text/html,<script>alert(1)</script>">',
    "<style>body { background: url(javascript:alert(1)) }</style>",
    '<p style="background:url(javascript:alert(1))" class="x" id="y">styled</p>',
    '<a href="javascript:alert(1)">html link</a>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph>",
    "<details open ontoggle=alert(1)>",
    '<form action="javascript:alert(1)"><button>go</button></form>',
    "<input autofocus onfocus=alert(1)>",
    "<body onload=alert(1)>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    # Markdown links with dangerous schemes, in every spelling.
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x]( javascript:alert(1) )",
    "[x](<javascript:alert(1)>)",
    "[x](javascript&#58;alert(1))",
    "[x](javascript&#x3A;alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](java%0ascript:alert(1))",
    "[x](java\u0000script:alert(1))",
    "[x](\tjavascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](DATA:text/html,<script>alert(1)</script>)",
    "[x](vbscript:msgbox(1))",
    "[x](VBScript:msgbox(1))",
    "[x](file:///etc/passwd)",
    # Autolinks.
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,alert(1)>",
    # Reference-style links and images.
    "[x][evil]\n\n[evil]: javascript:alert(1)",
    '[x][evil]\n\n[evil]: <javascript:alert(1)> "title"',
    "[evil]\n\n[evil]: data:text/html,<script>alert(1)</script>",
    "![x][pixel]\n\n[pixel]: https://tracker.example/p.gif",
    # HTML comments and quote tricks.
    "<!-- <script>alert(1)</script> -->",
    "<!--><img src=x onerror=alert(1)>-->",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    '<a href="https://ok.example" onclick="alert(1)">ok</a>',
    '<a href="https://ok.example"" onmouseover="alert(1)">ok</a>',
    '[x](https://ok.example "\\"><script>alert(1)</script>")',
    "[x](https://ok.example '\\'><img src=x onerror=alert(1)>')",
    '[x](https://ok.example "a" onmouseover="alert(1)")',
    "> <script>alert(1)</script>\n> > <img src=x onerror=alert(1)>",
    "- <svg onload=alert(1)>\n  - [x](javascript:alert(1))",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    # Markdown images: tracking pixels and handlers.
    "![pixel](https://tracker.example/p.gif)",
    "![x](javascript:alert(1))",
    '![x](https://ok.example/a.png "\\" onerror=\\"alert(1)")',
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "[![x](https://ok.example/a.png)](javascript:alert(1))",
]

_SAFE_SCHEME = re.compile(r"^(?:https?|mailto):", re.IGNORECASE)


class _Elements(HTMLParser):
    """The elements and attributes of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.comments: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def elements_of(fragment: str) -> _Elements:
    parser = _Elements()
    parser.feed(fragment)
    parser.close()
    return parser


def assert_inert(fragment: str) -> None:
    """Fail unless ``fragment`` holds only allowed, harmless elements and attributes."""
    parsed = elements_of(fragment)
    assert not parsed.comments, fragment
    for tag, attributes in parsed.elements:
        assert tag in ALLOWED_TAGS, f"<{tag}> in {fragment!r}"
        allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set())
        assert set(attributes) <= allowed, f"{tag} {attributes} in {fragment!r}"
        href = attributes.get("href")
        if href is not None:
            # What a browser would follow: entities decoded, controls and blanks dropped.
            followed = re.sub(r"[\x00-\x20]", "", html.unescape(href))
            assert _SAFE_SCHEME.match(followed), href
        if tag == "a":
            assert attributes.get("rel") == LINK_REL
    lowered = fragment.lower()
    for needle in ("<script", "<img", "<svg", "<iframe", "<object", "<style", "<embed"):
        assert needle not in lowered, fragment


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_every_payload_renders_inert(payload):
    rendered = render_markdown(payload)
    assert_inert(str(rendered))
    assert_inert(str(markdown_html(payload)))


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_the_sanitiser_alone_makes_raw_html_inert(payload):
    assert_inert(sanitise(payload))


def test_raw_html_is_shown_as_text_not_lost():
    rendered = render_markdown('Bitte <b>mitbringen</b>: <script>alert("x")</script> & Laptop')
    assert str(rendered) == (
        '<p>Bitte &lt;b&gt;mitbringen&lt;/b&gt;: &lt;script&gt;alert("x")&lt;/script&gt; '
        "&amp; Laptop</p>\n"
    )
    assert "".join(elements_of(rendered).text).strip() == (
        'Bitte <b>mitbringen</b>: <script>alert("x")</script> & Laptop'
    )


def test_a_refused_link_stays_visible_as_text():
    rendered = str(render_markdown("Klick [hier](javascript:alert(1)) bitte"))
    assert "<a" not in rendered
    assert "[hier](javascript:alert(1))" in rendered


def test_a_markdown_image_becomes_a_link_to_the_picture():
    rendered = str(render_markdown('![Unser Plakat](https://example.org/plakat.png "Titel")'))
    assert rendered == (
        f'<p><a href="https://example.org/plakat.png" rel="{LINK_REL}">Unser Plakat</a></p>\n'
    )


def test_link_titles_are_escaped_attribute_values():
    rendered = str(render_markdown('[x](https://ok.example "\\"><script>alert(1)</script>")'))
    assert rendered == (
        '<p><a href="https://ok.example" title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"'
        f' rel="{LINK_REL}">x</a></p>\n'
    )


def test_ordinary_markdown_renders_as_expected():
    source = (
        "# Programm\n\n"
        "Wir **feiern** im *Park*.\nBitte pünktlich.\n\n"
        "- Musik\n- Essen\n\n"
        "1. Begrüßung\n2. Vortrag\n\n"
        "> Ein Zitat\n\n"
        "Mehr auf [unserer Seite](https://example.org/fest), "
        "Fragen an <info@example.org> oder <https://example.org>.\n\n"
        "---\n\n"
        "`Code`"
    )
    assert str(render_markdown(source)) == (
        "<h2>Programm</h2>\n"
        "<p>Wir <strong>feiern</strong> im <em>Park</em>.<br>\nBitte pünktlich.</p>\n"
        "<ul>\n<li>Musik</li>\n<li>Essen</li>\n</ul>\n"
        "<ol>\n<li>Begrüßung</li>\n<li>Vortrag</li>\n</ol>\n"
        "<blockquote>\n<p>Ein Zitat</p>\n</blockquote>\n"
        f'<p>Mehr auf <a href="https://example.org/fest" rel="{LINK_REL}">unserer Seite</a>, '
        f'Fragen an <a href="mailto:info@example.org" rel="{LINK_REL}">info@example.org</a> '
        f'oder <a href="https://example.org" rel="{LINK_REL}">https://example.org</a>.</p>\n'
        "<hr>\n"
        "<p><code>Code</code></p>\n"
    )


def test_headings_start_below_the_page_title():
    rendered = str(render_markdown("# Eins\n\n## Zwei\n\n### Drei\n\n###### Sechs"))
    assert rendered == "<h2>Eins</h2>\n<h3>Zwei</h3>\n<h4>Drei</h4>\n<h4>Sechs</h4>\n"


def test_plain_text_with_blank_lines_looks_as_before():
    text = "Erster Absatz,\nzweite Zeile.\r\n\r\nZweiter Absatz."
    assert str(render_markdown(text)) == (
        "<p>Erster Absatz,<br>\nzweite Zeile.</p>\n<p>Zweiter Absatz.</p>\n"
    )


def test_umlauts_and_right_to_left_text_pass_unharmed():
    text = "Grüße aus Köln – ÄÖÜ äöü ß\n\nمرحبا بكم في **الحفل**\n\nשלום עולם"
    rendered = str(render_markdown(text))
    assert rendered == (
        "<p>Grüße aus Köln – ÄÖÜ äöü ß</p>\n"
        "<p>مرحبا بكم في <strong>الحفل</strong></p>\n"
        "<p>שלום עולם</p>\n"
    )
    assert render_text(text) == "Grüße aus Köln – ÄÖÜ äöü ß\n\nمرحبا بكم في الحفل\n\nשלום עולם\n"


@pytest.mark.parametrize("empty", [None, "", "   \n\n "])
def test_empty_text_renders_nothing(empty):
    assert render_markdown(empty) == ""
    assert render_text(empty) == ""


def test_the_text_part_keeps_links_lists_and_code():
    text = render_text(
        "## Ablauf\n\n- [Anmeldung](https://example.org/a)\n- Essen\n\n"
        "```\n  eingerückt\n```\n\n---\n\nEnde <b>fett</b>"
    )
    assert text == (
        "Ablauf\n\n- Anmeldung (https://example.org/a)\n- Essen\n\n"
        "      eingerückt\n\n* * *\n\nEnde <b>fett</b>\n"
    )


def test_html_to_text_is_the_same_for_campaigns():
    from outreach.services import campaign_text

    assert campaign_text.html_to_text is html_to_text


def test_the_markdown_filter_renders_in_templates(app):
    with app.test_request_context():
        page = render_template_string(
            "<div>{{ text | markdown }}</div>",
            text="**fett** <script>alert(1)</script>",
        )
    assert page == (
        "<div><p><strong>fett</strong> &lt;script&gt;alert(1)&lt;/script&gt;</p>\n</div>"
    )


def test_allowed_link_schemes_are_only_the_web_and_mail():
    assert {"http", "https", "mailto"} == URL_SCHEMES
    assert {"img", "style", "script", "iframe"}.isdisjoint(ALLOWED_TAGS)


def test_relative_links_keep_their_text_but_lose_the_address():
    rendered = str(render_markdown("[Programm](/events/fest) und [oben](#top)"))
    assert rendered == f'<p><a rel="{LINK_REL}">Programm</a> und <a rel="{LINK_REL}">oben</a></p>\n'
