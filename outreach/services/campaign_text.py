"""A campaign's text: placeholders, Markdown, and what may be sent as HTML.

Authors write a subject and a Markdown body per language, with placeholders
such as ``{{ first_name }}`` or ``{{ event.title }}``. Rendering goes:

1. a sandboxed Jinja environment fills in the placeholders; every value is
   escaped for Markdown on the way in (and URLs are our own, checked to be
   plain), so a name can neither format text nor add HTML;
2. markdown-it turns the Markdown into HTML; raw HTML the author wrote passes;
3. nh3 keeps the allow-list of ``outreach.rich_text`` (p, br, strong, em,
   a[href], ul, ol, li, headings, blockquote, code) and drops everything else;
4. a plain-text part is made from that HTML, links as "text (url)".

:func:`check_texts` runs at save time: an unknown placeholder, a template
that does not parse, or raw HTML that step 3 would change (a script, an
``onclick``, a ``javascript:`` link, an image) is a field error, so nothing
is silently altered at send time.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any

from babel.dates import format_date, format_time
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jinja2 import Template, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from markdown_it import MarkdownIt
from markupsafe import Markup

from outreach.calendar.components import CalendarSettings, event_page_url
from outreach.extensions import db
from outreach.models import Campaign, Event, Registration
from outreach.rich_text import html_to_text as html_to_text  # the text part, re-exported
from outreach.rich_text import render_markdown
from outreach.rich_text import sanitise as _shared_sanitise
from outreach.services.errors import DomainError
from outreach.services.segments import Recipient

# Placeholder → what it stands for, for help texts next to the editor.
PLACEHOLDERS: dict[str, Any] = {
    "first_name": _l("the recipient's first name"),
    "name": _l("the recipient's full name"),
    "event.title": _l("the event's title (registrants of events only)"),
    "event.date": _l("the event's date and time (registrants of events only)"),
    "event.url": _l("the event's public page (registrants of events only)"),
    "manage_url": _l("the registrant's private link to their registration (registrants only)"),
    "unsubscribe_url": _l("the link to unsubscribe from this kind of mail"),
    "preferences_url": _l("the link to the recipient's mail preferences"),
}
EVENT_ATTRIBUTES = ("title", "date", "url")
TOP_LEVEL = frozenset(name.split(".")[0] for name in PLACEHOLDERS)
URL_PLACEHOLDERS = frozenset({"manage_url", "unsubscribe_url", "preferences_url"})

MAX_SUBJECT_LENGTH = 200
MAX_BODY_LENGTH = 50_000


class CampaignTextError(DomainError):
    """A text could not be rendered (a placeholder failed at send time)."""

    default_message = _l("The campaign's text could not be written for this person.")


@dataclass(frozen=True)
class RenderedText:
    """A campaign's version for one person: the subject, the HTML body and its text part."""

    subject: str
    html: Markup
    text: str


@dataclass(frozen=True)
class EventPlaceholder:
    """What ``{{ event.… }}`` gives: the event in the words of one language."""

    title: str = ""
    date: str = ""
    url: str = ""

    def __str__(self) -> str:
        return self.title


class PlainUrl(str):
    """A URL we built ourselves; placed into Markdown as it is, so links and autolinks work."""

    __slots__ = ()


# -- the sandbox ------------------------------------------------------------------

_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9._~:/?#@!$&'*+,;=%-]+")
_MARKDOWN_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")


def _markdown_escape(value: Any) -> Markup:
    """Escape a value for Markdown: each ASCII punctuation mark gets a backslash."""
    if value is None:
        return Markup("")
    if isinstance(value, PlainUrl) and _PLAIN_URL.fullmatch(value):
        return Markup(str(value))  # noqa: S704  (checked: a plain http(s) URL)  # nosec B704
    text = " ".join(str(value).split())
    return Markup(_MARKDOWN_SPECIAL.sub(r"\\\1", text))  # noqa: S704  (escaped)  # nosec B704


def _plain(value: Any) -> str:
    return "" if value is None else str(value)


class _Sandbox(SandboxedEnvironment):
    """A sandbox where only the event placeholder has attributes."""

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return isinstance(obj, EventPlaceholder) and attr in EVENT_ATTRIBUTES

    def is_safe_callable(self, obj: Any) -> bool:
        return False

    # Multiplying strings could make a message of gigabytes; a text needs no arithmetic.
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        raise SecurityError(f"the operator {operator} is not available in campaign texts")


# Markdown body (autoescaping, with Markdown escaping as what it escapes with)
# and the subject (plain text: it never becomes HTML or Markdown).
_BODY_ENV = _Sandbox(autoescape=True, finalize=_markdown_escape)
_SUBJECT_ENV = _Sandbox(autoescape=False, finalize=_plain)


@lru_cache(maxsize=256)
def _compiled(part: str, source: str) -> Template:
    """Compile a subject or body once, not once per recipient."""
    return (_SUBJECT_ENV if part == "subject" else _BODY_ENV).from_string(source)


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "breaks": True})
    # No code (indented or fenced), no horizontal rules; backticks stay as typed.
    md.disable(["code", "fence", "hr", "backticks"])
    # Let every link through to nh3, which refuses javascript: and the like visibly.
    md.validateLink = lambda url: True

    def headings(state: Any) -> None:
        for token in state.tokens:
            if token.type in ("heading_open", "heading_close"):
                token.tag = "h2" if token.tag in ("h1", "h2") else "h3"

    md.core.ruler.push("outreach_headings", headings)
    return md


_MARKDOWN = _markdown()


def _sanitise(html: str) -> str:
    # The one allow-list (outreach.rich_text); the team's own mail needs no rel on links.
    return _shared_sanitise(html, link_rel=None)


# -- checking at save time -----------------------------------------------------------


def check_texts(
    texts: Mapping[str, Mapping[str, str]], *, available: Collection[str] | None = None
) -> dict[str, str]:
    """Return field errors (``"<locale>.subject"``, ``"<locale>.body"``) for the versions.

    ``available`` are the top-level placeholder names the audience allows
    (``Segment.placeholders``); by default all of them.
    """
    allowed = frozenset(available) if available is not None else TOP_LEVEL
    errors: dict[str, str] = {}
    for locale, version in texts.items():
        for part in ("subject", "body"):
            source = version.get(part) or ""
            problem = _template_problem(source, part, allowed)
            if problem is None and part == "body":
                problem = _html_problem(source)
            if problem is not None:
                errors[f"{locale}.{part}"] = problem
    return errors


def _template_problem(source: str, part: str, allowed: frozenset[str]) -> str | None:
    environment = _SUBJECT_ENV if part == "subject" else _BODY_ENV
    try:
        tree = environment.parse(source)
    except TemplateSyntaxError as error:
        return _(
            "A placeholder is not written correctly (line %(line)d: %(detail)s). "
            "Write placeholders like {{ first_name }}.",
            line=error.lineno,
            detail=error.message or "",
        )
    unknown = sorted(meta.find_undeclared_variables(tree) - allowed)
    unknown += sorted(_unknown_attributes(tree, allowed))
    if unknown:
        return _(
            "Unknown placeholder: %(names)s. You can use: %(known)s.",
            names=", ".join(unknown),
            known=", ".join(name for name in PLACEHOLDERS if name.split(".")[0] in allowed),
        )
    try:
        _compiled(part, source).render(_sample_context())
    except TemplateError as error:
        return _("This text cannot be written out: %(detail)s", detail=str(error))
    return None


def _unknown_attributes(tree: nodes.Template, allowed: frozenset[str]) -> set[str]:
    """Attribute uses other than event.title/date/url, e.g. ``name.upper`` or ``event.id``."""
    unknown: set[str] = set()
    used_properly: set[int] = set()
    for node in (*tree.find_all(nodes.Getattr), *tree.find_all(nodes.Getitem)):
        target = node.node
        attribute = node.attr if isinstance(node, nodes.Getattr) else _constant(node.arg)
        name = target.name if isinstance(target, nodes.Name) else None
        if name == "event" and attribute in EVENT_ATTRIBUTES:
            used_properly.add(id(target))
        elif name in allowed or name is None:
            unknown.add(f"{name or '…'}.{attribute or '…'}")
    for node in tree.find_all(nodes.Name):
        if node.name == "event" and "event" in allowed and id(node) not in used_properly:
            unknown.add("event")
    return unknown


def _constant(node: nodes.Node) -> str | None:
    return node.value if isinstance(node, nodes.Const) and isinstance(node.value, str) else None


def _sample_context() -> dict[str, Any]:
    base = CalendarSettings.from_config(current_app.config).base_url
    return {
        "first_name": "Erika",
        "name": "Erika Mustermann",
        "event": EventPlaceholder(
            "Beispiel", "1. Januar 2030, 18:00", PlainUrl(f"{base}/events/x")
        ),
        "manage_url": PlainUrl(f"{base}/r/example"),
        "unsubscribe_url": PlainUrl(f"{base}/unsubscribe/example"),
        "preferences_url": PlainUrl(f"{base}/preferences/example"),
    }


def _html_problem(source: str) -> str | None:
    """Say what the sanitiser would take out of the body, if anything."""
    try:
        markdown = _compiled("body", source).render(_sample_context())
    except TemplateError:
        return None  # reported by _template_problem
    html = _MARKDOWN.render(markdown)
    cleaned = _sanitise(html)
    before, after = _Structure.of(html), _Structure.of(cleaned)
    if before.items == after.items:
        return None
    removed = before.describe_removed(after)
    return _(
        "This text contains HTML that cannot be sent: %(what)s. "
        "Please use Markdown for formatting (links as [text](https://…)).",
        what=removed,
    )


class _Structure(HTMLParser):
    """Tags, attributes and text of an HTML fragment, for comparing before and after cleaning."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[tuple] = []
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []
        self._text: list[str] = []

    @classmethod
    def of(cls, html: str) -> _Structure:
        parser = cls()
        parser.feed(html)
        parser.close()
        parser._flush()
        return parser

    def _flush(self) -> None:
        text = " ".join("".join(self._text).split())
        if text:
            self.items.append(("text", text))
        self._text = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._flush()
        self.items.append(("start", tag, tuple(sorted((k, v or "") for k, v in attrs))))
        self.tags.append(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs]

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self._flush()
        self.items.append(("end", tag))

    def handle_data(self, data: str) -> None:
        self._text.append(data)

    def describe_removed(self, after: _Structure) -> str:
        gone_tags = [tag for tag in dict.fromkeys(self.tags) if tag not in after.tags]
        words = [f"<{tag}>" for tag in gone_tags]
        for tag, name, value in dict.fromkeys(self.attributes):
            if tag in gone_tags or (tag, name, value) in after.attributes:
                continue
            if name == "href" and ":" in value:
                words.append(f'href="{value.split(":", 1)[0]}:…"')
            else:
                words.append(name)
        return ", ".join(dict.fromkeys(words[:5])) or _("changed markup")


# -- rendering -----------------------------------------------------------------------


def render(subject: str, body: str, context: Mapping[str, Any]) -> RenderedText:
    """Fill in the placeholders and make the HTML and the text part of one version."""
    context = {
        **context,
        **{
            name: PlainUrl(context[name])
            for name in URL_PLACEHOLDERS
            if isinstance(context.get(name), str)
        },
    }
    try:
        subject_text = _compiled("subject", subject).render(context)
        markdown = _compiled("body", body).render(context)
    except TemplateError as error:
        raise CampaignTextError(str(error)) from error
    html = _sanitise(_MARKDOWN.render(markdown))
    return RenderedText(
        subject=" ".join(subject_text.split()),
        html=Markup(html),  # noqa: S704  (sanitised by nh3 just above)  # nosec B704
        text=html_to_text(html),
    )


def version_language(campaign: Campaign, language: str) -> str:
    """Pick the version a person in ``language`` gets: their own, else the fallback."""
    return language if language in (campaign.texts or {}) else campaign.fallback_language


def context_for(
    recipient: Recipient,
    *,
    campaign: Campaign,
    unsubscribe_url: str,
    preferences_url: str,
    manage_url: str | None = None,
    event: Event | None = None,
) -> dict[str, Any]:
    """Give the placeholder values for ``recipient``, in the language of their version.

    ``event`` defaults to the event of the recipient's registration (or of
    the outbox row, ``recipient.event_id``); other audiences have none.
    """
    language = version_language(campaign, recipient.language)
    event = event or _event_of(recipient)
    return {
        "first_name": recipient.first_name,
        "name": " ".join(recipient.name.split()),
        "event": event_placeholder(event, language) if event is not None else EventPlaceholder(),
        "manage_url": PlainUrl(manage_url) if manage_url else None,
        "unsubscribe_url": PlainUrl(unsubscribe_url),
        "preferences_url": PlainUrl(preferences_url),
    }


def _event_of(recipient: Recipient) -> Event | None:
    if recipient.event_id is not None:
        return db.session.get(Event, recipient.event_id)
    if recipient.registration_id is not None:
        registration = db.session.get(Registration, recipient.registration_id)
        return registration.event if registration is not None else None
    return None


def event_placeholder(event: Event, language: str) -> EventPlaceholder:
    """Put the event's title, date (in its own zone) and public page in ``language``."""
    settings = CalendarSettings.from_config(current_app.config)
    return EventPlaceholder(
        title=" ".join(event.text(language).title.split()),
        date=_date_in_words(event.local_start, language),
        url=PlainUrl(event_page_url(event, settings)),
    )


@lru_cache(maxsize=256)
def _date_in_words(start: datetime, language: str) -> str:
    """Say when, e.g. "Montag, 1. Juli 2030, 18:00" (the same for every recipient)."""
    return f"{format_date(start.date(), 'full', locale=language)}, " + format_time(
        start, "short", locale=language
    )


def markdown_html(markdown: str) -> Markup:
    """Turn Markdown that is no template into sanitised HTML (``rich_text.render_markdown``).

    For text that must not have placeholders filled in, such as partners'
    newsletter contributions: ``{{ … }}`` in it stays as typed. Raw HTML in it
    is shown as text.
    """
    return render_markdown(markdown)
