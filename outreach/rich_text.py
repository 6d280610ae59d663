"""Rich text: Markdown that people write, shown as sanitised HTML or as plain text.

Event descriptions, organisation profiles, newsletter contributions and the
newsletter's introduction are Markdown. Rendering goes:

1. markdown-it (CommonMark) turns the Markdown into HTML. Raw HTML is *not*
   passed through: ``<b>`` or ``<script>`` someone typed is shown as text,
   so nothing they wrote is lost and nothing of it runs. A single newline is
   a line break, so plain text with blank-line paragraphs looks as it did.
   Links with a dangerous scheme are left as text by markdown-it already;
   images become links to the picture (no tracking pixels, no layout tricks);
   headings start at ``h2`` (the page has its own ``h1``).
2. nh3 keeps a small allow-list of tags and attributes (see ``ALLOWED_TAGS``),
   only absolute http, https and mailto links, and sets ``rel="nofollow noopener ugc"``
   on every link. No images, no style, no class, no id survive.

:func:`html_to_text` writes such HTML as readable plain text for the text
part of an email. Campaigns (``services.campaign_text``) have their own
Markdown settings but clean their HTML with :func:`sanitise` from here, so
there is one allow-list.
"""

from __future__ import annotations

from functools import lru_cache
from html.parser import HTMLParser
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup, escape

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "strong",
        "em",
        "ul",
        "ol",
        "li",
        "a",
        "blockquote",
        "code",
        "pre",
        "h2",
        "h3",
        "h4",
        "hr",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# What every link in text from people outside the team gets: no ranking for
# spammers, no window.opener for the page it opens.
LINK_REL = "nofollow noopener ugc"
_CACHE_SIZE = 512


# -- Markdown -> HTML -------------------------------------------------------------------


def _shift_headings(state: Any) -> None:
    """Make ``#`` an ``h2``, ``##`` an ``h3`` and anything smaller an ``h4``."""
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            level = int(token.tag[1])
            token.tag = f"h{min(level + 1, 4)}"


def _image_as_link(renderer: Any, tokens: list[Token], index: int, options: Any, env: Any) -> str:
    """Write ``![alt](src)`` as a link to the picture, its text the alt text (or the address)."""
    token = tokens[index]
    source = str(token.attrGet("src") or "")
    text = renderer.renderInlineAsText(token.children or [], options, env) or source
    return f'<a href="{escape(source)}">{escape(text)}</a>'


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True})
    md.core.ruler.push("outreach_rich_text_headings", _shift_headings)
    md.add_render_rule("image", _image_as_link)
    return md


_MARKDOWN = _markdown()


# -- the one sanitiser ------------------------------------------------------------------


@lru_cache(maxsize=2)
def _cleaner(link_rel: str | None) -> nh3.Cleaner:
    # Built once per rel value: making a cleaner costs more than cleaning a text with it.
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        # A relative address has no scheme to check, and in an email it leads nowhere.
        url_relative="deny",
        link_rel=link_rel,
        strip_comments=True,
    )


def sanitise(html: str, *, link_rel: str | None = LINK_REL) -> str:
    """Keep only the allowed tags, attributes and link schemes of ``html``.

    ``link_rel`` is set on every link; the team's own campaign mails pass None.
    """
    return _cleaner(link_rel).clean(html)


@lru_cache(maxsize=_CACHE_SIZE)
def _rendered(text: str) -> str:
    return sanitise(_MARKDOWN.render(text))


def render_markdown(text: str | None) -> Markup:
    """Render the Markdown ``text`` as sanitised HTML, safe to put into any page or email."""
    if not text or not text.strip():
        return Markup("")
    return Markup(_rendered(str(text)))  # noqa: S704  (sanitised by nh3)  # nosec B704


def render_text(text: str | None) -> str:
    """Render the Markdown ``text`` as plain text for an email's text part."""
    if not text or not text.strip():
        return ""
    return html_to_text(render_markdown(text))


# -- HTML -> plain text -----------------------------------------------------------------


class _TextWriter(HTMLParser):
    """Sanitised HTML as readable plain text."""

    BLOCKS = frozenset({"p", "h2", "h3", "h4", "blockquote", "ul", "ol", "li", "pre"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, bool, bool]] = []  # (text, list item, after a list)
        self.list_closed = False
        self.line: list[str] = []
        self.lists: list[list[Any]] = []  # [tag, next number]
        self.marker = ""  # the open list item's "- " or "1. ", until its first text
        self.item = False  # whether the open block began with a marker
        self.quote = 0
        self.pre = 0
        self.links: list[str | None] = []
        self.link_text: list[str] = []

    def _prefix(self) -> str:
        indent = "  " * max(len(self.lists) - 1, 0) if self.item else "  " * len(self.lists)
        return "> " * self.quote + indent

    def _add_block(self, text: str) -> None:
        self.blocks.append((text, self.item, self.list_closed))
        self.list_closed = False

    def _end_block(self) -> None:
        if self.pre:
            # Code keeps its lines and their indentation, set off by four spaces.
            code = "".join(self.line).strip("\n")
            if code.strip():
                prefix = self._prefix() + "    "
                self._add_block("\n".join(prefix + line for line in code.split("\n")))
        else:
            text = "".join(self.line).strip()
            if text:
                prefix = self._prefix()
                self._add_block("\n".join(prefix + line.strip() for line in text.split("\n")))
        self.line = []
        self.item = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS or tag == "hr":
            self._end_block()
        if tag == "blockquote":
            self.quote += 1
        elif tag == "pre":
            self.pre += 1
        elif tag == "hr":
            self._add_block(self._prefix() + "* * *")
        elif tag in ("ul", "ol"):
            start = dict(attrs).get("start") or "1"
            self.lists.append([tag, int(start) if start.isdigit() else 1])
        elif tag == "li":
            self.marker = "- "
            if self.lists and self.lists[-1][0] == "ol":
                self.marker = f"{self.lists[-1][1]}. "
                self.lists[-1][1] += 1
        elif tag == "br":
            self.line.append("\n")
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))
            self.link_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.links:
            href = self.links.pop()
            text = "".join(self.link_text).strip()
            if href and href.removeprefix("mailto:") != text:
                self.line.append(f" ({href.removeprefix('mailto:')})" if text else href)
        elif tag in self.BLOCKS:
            self._end_block()
            if tag == "blockquote":
                self.quote = max(self.quote - 1, 0)
            elif tag == "pre":
                self.pre = max(self.pre - 1, 0)
            elif tag in ("ul", "ol") and self.lists:
                self.lists.pop()
                self.list_closed = not self.lists

    def handle_data(self, data: str) -> None:
        if not self.pre:
            data = data.replace("\n", " ")
        if not data.strip() and not "".join(self.line).strip():
            return  # the line breaks between tags
        if self.marker:
            self.line.append(self.marker)
            self.marker = ""
            self.item = True
        if self.links:
            self.link_text.append(data)
        self.line.append(data)

    def result(self) -> str:
        self._end_block()
        parts: list[str] = []
        previous_item = False
        for text, item, after_list in self.blocks:
            if parts:
                # The items of a list belong together: no blank line between them.
                together = item and previous_item and not after_list
                parts.append("\n" if together else "\n\n")
            parts.append(text)
            previous_item = item
        return "".join(parts) + "\n"


def html_to_text(html: str) -> str:
    """Write the plain-text part: paragraphs, lists with markers, links as "text (url)"."""
    writer = _TextWriter()
    writer.feed(html)
    writer.close()
    return writer.result()
