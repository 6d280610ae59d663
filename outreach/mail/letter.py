"""What every notify_* works with: a Letter, one outbox message being written.

It holds the message's rows and language, renders the templates and wraps
them in headers. Everything that recipients of the same kind of message about
the same event share (the facts, the invitation, the rendered parts with
marks where names and links go) comes from the cache in ``mail.shared``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from babel import Locale
from flask import current_app
from flask_babel import get_translations
from jinja2 import pass_context
from markupsafe import Markup, escape

from outreach.calendar.components import CalendarSettings
from outreach.mail.mime import (
    ComposedMessage,
    HeaderRefused,
    InlineImage,
    address_header,
    ascii_address,
    assemble,
    display_name,
    refuse_line_breaks,
    transactional_headers,
)
from outreach.mail.shared import (
    BUILDERS,
    PARTSTAT,
    SHARED,
    EventFacts,
    StandIn,
    build_skeleton,
    event_facts,
    event_fingerprint,
)
from outreach.models import EventStatus, OutboxMessage, RegistrationStatus
from outreach.services.checkin import check_in_url, qr_png

log = logging.getLogger(__name__)


# What differs between people who get the same message; filled in after rendering.
PERSONAL = ("name", "manage_url", "cancel_url", "check_in_cid")
CHECK_IN_IMAGE = "check-in.png"
_MARK = f"\x00{secrets.token_hex(8)}:"


@dataclass(frozen=True)
class MailSettings:
    """What composing needs from the configuration."""

    calendar: CalendarSettings
    site_name: str
    languages: tuple[str, ...]
    default_language: str

    @classmethod
    def from_config(cls, config: Mapping) -> MailSettings:
        return _settings(
            config["BASE_URL"],
            config["MAIL_DEFAULT_SENDER"],
            config["SITE_NAME"],
            tuple(config["LANGUAGES"]),
            config["BABEL_DEFAULT_LOCALE"],
        )

    @property
    def sender(self) -> str:
        """The bare address of MAIL_DEFAULT_SENDER (the calendar's ORGANIZER too)."""
        return self.calendar.organizer_email

    def language_for(self, requested: str) -> str:
        return requested if requested in self.languages else self.default_language


@lru_cache(maxsize=16)
def _settings(
    base_url: str, sender: str, site_name: str, languages: tuple[str, ...], default: str
) -> MailSettings:
    calendar = CalendarSettings.from_config({"BASE_URL": base_url, "MAIL_DEFAULT_SENDER": sender})
    return MailSettings(calendar, site_name, languages, default)


@lru_cache(maxsize=64)
def text_direction(language: str) -> str:
    """'rtl' for right-to-left languages, else 'ltr' (for the HTML part)."""
    return "rtl" if Locale.parse(language).character_order == "right-to-left" else "ltr"


_BLANK_LINES = re.compile(r"\n{3,}")
_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")


def tidy_text(text: str) -> str:
    """At most one blank line in a row, no trailing spaces (but keep the "-- " signature line)."""
    text = _TRAILING_SPACE.sub("", text).replace("\n--\n", "\n-- \n")
    return _BLANK_LINES.sub("\n\n", text).strip() + "\n"


def paragraphs(text: str | None) -> tuple[tuple[str, ...], ...]:
    """Plain ``text`` as paragraphs of lines, for templates to escape and join with ``<br>``.

    Text people typed is never trusted as HTML: templates print each line
    (autoescaped) instead of marking anything safe. The tuples are hashable,
    so a shared rendering can be keyed by them.
    """
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return ()
    return tuple(
        tuple(line.rstrip() for line in block.strip("\n").split("\n"))
        for block in _PARAGRAPH_BREAK.split(text)
    )


def template_translations(translations: Any) -> dict[str, Callable[..., str]]:
    """gettext and ngettext for templates, bound to one catalogue.

    They do what Jinja's newstyle gettext does with Flask-Babel's callables,
    without Flask-Babel looking up the locale and catalogue on every call,
    which costs more than the rest of rendering a mail.
    """

    @pass_context
    def gettext(context: Any, string: str, **variables: Any) -> str:
        translated = translations.gettext(string)
        if context.eval_ctx.autoescape:
            # Our own catalogue; the variables are escaped by Markup's %.
            translated = Markup(translated)  # noqa: S704  (own catalogue)  # nosec B704
        return translated % variables

    @pass_context
    def ngettext(context: Any, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        translated = translations.ngettext(singular, plural, num)
        if context.eval_ctx.autoescape:
            translated = Markup(translated)  # noqa: S704  (own catalogue)  # nosec B704
        return translated % variables

    # "_" too: Jinja's own "_" would look "gettext" up again on every call.
    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}


def message_id_for(message: OutboxMessage, host: str) -> str:
    """The Message-ID of an outbox row: the same each time it is composed, so a resend reuses it."""
    digest = hashlib.sha256(message.dedupe_key.encode("utf-8")).hexdigest()[:16]
    domain = f"[{host}]" if ":" in host else host
    return f"<outreach.{message.id}.{digest}@{domain}>"


def _safe_url(url: str | None) -> str | None:
    return url if url and url.startswith(("https://", "http://")) else None


class Letter:
    """One outbox message being written in its language; compose() checked its rows exist."""

    def __init__(
        self, message: OutboxMessage, *, settings: MailSettings, language: str, now: datetime
    ) -> None:
        assert message.registration is not None and message.event is not None
        self.message = message
        self.registration = message.registration
        self.event = message.event
        self.settings = settings
        self.language = language
        self.now = now
        self._key = (settings, language, event_fingerprint(self.event, language))
        self.facts: EventFacts = SHARED.get(
            ("facts", *self._key),
            lambda: event_facts(self.event, language, settings.calendar, settings.site_name),
        )

    # -- what the person is to the event ------------------------------------

    @property
    def title(self) -> str:
        return self.facts.title

    @property
    def holds_seat(self) -> bool:
        return self.registration.status is RegistrationStatus.CONFIRMED

    @property
    def is_attending(self) -> bool:
        """Holds a seat at an event that is still on: gets the invitation and the online link."""
        return self.holds_seat and self.event.status is not EventStatus.CANCELLED

    @property
    def online_link(self) -> str | None:
        return _safe_url(self.event.online_url) if self.is_attending else None

    @property
    def token(self) -> str | None:
        return (self.message.payload or {}).get("token")

    @property
    def manage_url(self) -> str | None:
        if not self.token:
            return None
        return f"{self.settings.calendar.base_url}/r/{quote(self.token, safe='')}"

    @property
    def cancel_url(self) -> str | None:
        """The page that asks 'Do you really want to cancel?' for this registration."""
        return f"{self.manage_url}/cancel" if self.manage_url else None

    def check_in_code(self) -> dict[str, Any]:
        """The QR code to show at the door (as keywords for write()), for a seat on site.

        An event with no place has no door: online-only events get none.
        """
        if not self.is_attending or self.facts.place is None:
            return {}
        return {"check_in": qr_png(check_in_url(self.registration))}

    # -- calendar ------------------------------------------------------------

    def invite(self) -> dict[str, Any]:
        """The REQUEST to attach (as keywords for write()), if the person is attending."""
        if not self.is_attending:
            return {}
        return {"calendar": self._calendar("REQUEST"), "method": "REQUEST"}

    def cancellation(self) -> dict[str, Any]:
        """The CANCEL to attach (as keywords for write()): removes the entry from calendars."""
        return {"calendar": self._calendar("CANCEL"), "method": "CANCEL"}

    def _calendar(self, method: str) -> bytes:
        status = self.registration.status
        calendar_settings = self.settings.calendar
        skeleton = SHARED.get(
            ("invite", method, status, *self._key),
            lambda: build_skeleton(
                method, StandIn(self.event, self.language, status), calendar_settings
            ),
        )
        # The invitation speaks the message's language, which the row fixed.
        person = StandIn(
            self.event, self.language, status, self.registration.name, self.registration.email
        )
        if skeleton is None:
            return BUILDERS[method](person, settings=calendar_settings, now=self.now)  # type: ignore[arg-type]
        return skeleton.for_person(person, PARTSTAT[method], self.now)

    # -- the message -----------------------------------------------------------

    def write(
        self,
        template: str,
        *,
        subject: str,
        calendar: bytes | None = None,
        method: str | None = None,
        check_in: bytes | None = None,
        **context: Any,
    ) -> ComposedMessage:
        """Render ``mail/<template>.txt`` and ``.html`` and wrap them with the headers.

        ``context`` values must be hashable: together with the event and the
        language they pick the rendering that recipients share. ``check_in``
        is a PNG (the person's QR code) shown inline by the HTML part.
        """
        subject = " ".join(subject.split())
        message_id = message_id_for(self.message, self.settings.calendar.host)
        images: tuple[InlineImage, ...] = ()
        if check_in is not None:
            # Unique per message, like its Message-ID, so clients never mix two codes up.
            images = (InlineImage(f"check-in.{message_id[1:-1]}", check_in, CHECK_IN_IMAGE),)
        text, html = self.render(
            template,
            subject=subject,
            method=method,
            online_link=self.online_link,
            name=" ".join((self.message.recipient_name or self.registration.name).split()),
            manage_url=self.manage_url,
            check_in_cid=images[0].content_id if images else None,
            **context,
        )
        raw = assemble(
            self._headers(subject, message_id),
            text=text,
            html=html,
            calendar=calendar,
            method=method,
            images=images,
        )
        return ComposedMessage(
            envelope_from=ascii_address(self.settings.sender),
            recipient=ascii_address(self.message.recipient),
            message_id=message_id,
            raw=raw,
        )

    def render(self, template: str, **context: Any) -> tuple[str, str]:
        """The text and HTML parts; what only this person sees is filled into a shared copy.

        Everyone who gets the same kind of message about the same event in the
        same language shares one rendering, with marks where their name and
        links go; the marks are unguessable, and escaped like the values for HTML.
        """
        personal = {key: context.pop(key) for key in PERSONAL if key in context}
        marks = {key: f"{_MARK}{key}\x00" if value else value for key, value in personal.items()}
        cache_key = ("render", template, *self._key, tuple(context.items()), tuple(marks.items()))
        if current_app.jinja_env.auto_reload:
            # Templates may change under a development server; render afresh.
            text, html = self._render(template, {**context, **marks})
        else:
            text, html = SHARED.get(cache_key, lambda: self._render(template, {**context, **marks}))
        for key, value in personal.items():
            if value:
                text = text.replace(marks[key], value)
                html = html.replace(marks[key], str(escape(value)))
        return text, html

    def _render(self, template: str, context: dict[str, Any]) -> tuple[str, str]:
        values = {
            "language": self.language,
            "direction": text_direction(self.language),
            "title": self.title,
            "facts": self.facts,
            **template_translations(get_translations()),
            **context,
        }
        environment = current_app.jinja_env
        text = environment.get_template(f"mail/{template}.txt").render(values)
        html = environment.get_template(f"mail/{template}.html").render(values)
        return tidy_text(text), html

    def _headers(self, subject: str, message_id: str) -> list[str]:
        recipient_name = display_name(self.message.recipient_name or self.registration.name)
        return transactional_headers(
            sender=(self.facts.from_name, self.settings.sender),
            recipient=(recipient_name, self.message.recipient),
            subject=subject,
            date=format_datetime(self.now),
            message_id=message_id,
            language=self.language,
            reply_to=self._reply_to(),
        )

    def _reply_to(self) -> str | None:
        address = self.facts.reply_to
        if not address:
            return None
        refuse_line_breaks("Reply-To", address)
        try:
            return address_header("Reply-To", "", address)
        except HeaderRefused as problem:
            # A contact address we cannot write should not hold back the message itself.
            log.warning("Reply-To left out for event %s: %s", self.event.id, problem)
            return None
