"""Raw RFC 5322 messages from rendered parts: safe headers and the invitation layout.

With a calendar the layout is the one Outlook, Gmail and Apple Mail read as
an invitation (Google Calendar sends the same)::

    multipart/mixed
      multipart/alternative
        text/plain; charset=utf-8
        text/html; charset=utf-8
        text/calendar; charset=utf-8; method=REQUEST (or CANCEL)
      application/ics; name=invite.ics   (attachment)

and without one, multipart/alternative with the text and HTML parts alone.
A message with inline images (the check-in QR code) wraps the HTML part and
its images in multipart/related, wherever the HTML part stands::

    multipart/related; type="text/html"
      text/html; charset=utf-8              (refers to each image as cid:…)
      image/png; Content-ID: <…>            (inline)

The email package folds and encodes every header (policy.SMTP); bodies are
quoted-printable (text, HTML) and base64 (calendar, images). The fixed
layout around them is written here directly: EmailMessage's generator
re-parses each header of each part on output and costs about 3 ms a
message, more than the rest of composing.
"""

from __future__ import annotations

import binascii
import email.policy
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from email import base64mime
from email.errors import HeaderParseError, MessageDefect
from email.headerregistry import Address
from functools import lru_cache

POLICY = email.policy.SMTP
CRLF = "\r\n"
ATTACHMENT_NAME = "invite.ics"

# Everything str.splitlines() breaks at: any of them could end a header early.
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
# Some clients drop or misread a From whose display name holds these.
NAME_SPECIALS = frozenset('@:,"<>\\')
# Joiners are part of the spelling in Persian and Indic scripts; other format
# characters (bidi overrides among them) only disguise a name.
KEEP_FORMAT = frozenset("\u200c\u200d")
MAX_DISPLAY_NAME = 100


class HeaderRefused(ValueError):
    """A header would be unsafe or unreadable (a line break in it, an address we cannot send)."""


@dataclass(frozen=True)
class InlineImage:
    """An image the HTML part shows from the message itself: ``<img src="cid:{content_id}">``."""

    content_id: str  # without angle brackets, e.g. "check-in.42.ab12@outreach.test"
    data: bytes
    filename: str
    subtype: str = "png"


@dataclass(frozen=True)
class ComposedMessage:
    """A message ready for SMTP: envelope, Message-ID and the bytes to send."""

    envelope_from: str  # bare address (MAIL_DEFAULT_SENDER's address)
    recipient: str  # bare address
    message_id: str  # the Message-ID header value, with angle brackets
    raw: bytes  # the whole RFC 5322 message, CRLF line ends


def refuse_line_breaks(name: str, value: str) -> str:
    """Return ``value``, or raise HeaderRefused if it would break out of its header."""
    if not LINE_BREAKS.isdisjoint(value):
        raise HeaderRefused(f"the {name} header would contain a line break")
    return value


def _name_char(char: str) -> str:
    if char in NAME_SPECIALS or char in LINE_BREAKS:
        return " "
    if unicodedata.category(char)[0] == "C" and char not in KEEP_FORMAT:
        return " "
    return char


@lru_cache(maxsize=4096)
def display_name(raw: str | None) -> str:
    """A name safe for From/To: no line breaks, controls or ``@ : , " < > \\``, one line."""
    if not raw:
        return ""
    cleaned = " ".join("".join(map(_name_char, raw)).split())
    return cleaned[:MAX_DISPLAY_NAME].rstrip()


def ascii_address(address: str) -> str:
    """``address`` as plain SMTP can carry it: an internationalised domain in IDNA form.

    A non-ASCII local part needs SMTPUTF8, which we do not send: HeaderRefused.
    """
    refuse_line_breaks("address", address)
    if address.isascii():
        return address
    local, _at, domain = address.rpartition("@")
    if not local.isascii():
        raise HeaderRefused("the address has a non-ASCII local part (needs SMTPUTF8)")
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        raise HeaderRefused("the address has a domain we cannot encode") from None


@lru_cache(maxsize=4096)
def address_header(name: str, display: str, address: str) -> str:
    """The folded ``Name: Display <address>`` line, encoded where needed, ending in CRLF."""
    refuse_line_breaks(name, display)
    try:
        mailbox = Address(display_name=display, addr_spec=ascii_address(address))
        return POLICY.header_factory(name, mailbox).fold(policy=POLICY)
    except (HeaderParseError, MessageDefect) as problem:
        raise HeaderRefused(f"the {name} address is not usable: {problem}") from None


@lru_cache(maxsize=1024)
def text_header(name: str, value: str) -> str:
    """A folded free-text header line (e.g. Subject), RFC 2047-encoded where needed."""
    refuse_line_breaks(name, value)
    return POLICY.header_factory(name, value).fold(policy=POLICY)


def plain_header(name: str, value: str) -> str:
    """A short ASCII header line (Date, Message-ID, …) as it is."""
    refuse_line_breaks(name, value)
    if not value.isascii():
        raise HeaderRefused(f"the {name} header must be ASCII")
    return f"{name}: {value}{CRLF}"


def transactional_headers(
    *,
    sender: tuple[str, str],
    recipient: tuple[str, str],
    subject: str,
    date: str,
    message_id: str,
    language: str,
    reply_to: str | None = None,
) -> list[str]:
    """The header lines every automatic message carries, in order.

    ``sender`` and ``recipient`` are (display name, address); ``reply_to`` is a
    ready header line, if any. Auto-Submitted and X-Auto-Response-Suppress keep
    out-of-office replies and auto-responders from answering us.
    """
    headers = [address_header("From", *sender)]
    if reply_to:
        headers.append(reply_to)
    return [
        *headers,
        address_header("To", *recipient),
        text_header("Subject", subject),
        plain_header("Date", date),
        plain_header("Message-ID", message_id),
        plain_header("Auto-Submitted", "auto-generated"),
        plain_header("X-Auto-Response-Suppress", "All"),
        plain_header("Content-Language", language),
    ]


# What a List-Unsubscribe entry may hold: RFC 3986 URI characters, no "<", ">", "," or space.
_URI_CHARACTERS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+;=%"
)


def _bracketed_uri(uri: str) -> str:
    if not uri or not _URI_CHARACTERS.issuperset(uri):
        raise HeaderRefused("a List-Unsubscribe address holds characters a URI may not")
    return f"<{uri}>"


def list_unsubscribe_header(https_url: str, mailto: str | None = None) -> str:
    """``List-Unsubscribe`` (RFC 2369) with the link and, if given, a mailto address.

    One entry a line: a token for a long address makes each entry long, and
    a header line must stay within 998 characters.
    """
    if not https_url.startswith(("https://", "http://")):
        raise HeaderRefused("the List-Unsubscribe link must be an http(s) URL")
    entries = [_bracketed_uri(https_url)]
    if mailto:
        entries.append(_bracketed_uri(mailto))
    return f"List-Unsubscribe: {(',' + CRLF + ' ').join(entries)}{CRLF}"


def list_id_header(description: str, list_id: str) -> str:
    """``List-Id`` (RFC 2919): ``"description" <list-id>``; the description only if plain ASCII."""
    if not list_id.isascii() or not all(part.isalnum() or part in "-." for part in list_id):
        raise HeaderRefused("a List-Id is letters, digits, dots and hyphens")
    description = display_name(description)
    if description and description.isascii():
        return plain_header("List-Id", f'"{description}" <{list_id}>')
    return plain_header("List-Id", f"<{list_id}>")


def bulk_headers(
    *,
    sender: tuple[str, str],
    recipient: tuple[str, str],
    subject: str,
    date: str,
    message_id: str,
    language: str,
    list_id: str,
    list_unsubscribe: str,
) -> list[str]:
    """The header lines of a campaign or newsletter message, in order.

    ``list_id`` and ``list_unsubscribe`` are ready header lines
    (list_id_header, list_unsubscribe_header); List-Unsubscribe-Post makes the
    link a one-click unsubscribe (RFC 8058). Precedence: bulk and the
    out-of-office suppression keep auto-responders quiet, while delivery
    reports (bounces) still come back.
    """
    return [
        address_header("From", *sender),
        address_header("To", *recipient),
        text_header("Subject", subject),
        plain_header("Date", date),
        plain_header("Message-ID", message_id),
        list_id,
        list_unsubscribe,
        plain_header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        plain_header("Precedence", "bulk"),
        plain_header("Auto-Submitted", "auto-generated"),
        plain_header("X-Auto-Response-Suppress", "OOF, AutoReply"),
        plain_header("Content-Language", language),
    ]


def _part(headers: list[str], body: str) -> str:
    return "".join(header + CRLF for header in headers) + CRLF + body


def _quoted_printable(text: str) -> str:
    """``text`` as quoted-printable UTF-8 with CRLF line ends (binascii's, ten times quoprimime)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", CRLF)
    return binascii.b2a_qp(lines.encode("utf-8"), istext=True).decode("ascii")


def _text_part(subtype: str, text: str) -> str:
    body = _quoted_printable(text)
    return _part(
        [
            f'Content-Type: text/{subtype}; charset="utf-8"',
            "Content-Transfer-Encoding: quoted-printable",
        ],
        body if body.endswith(CRLF) else body + CRLF,
    )


def _calendar_part(encoded: str, method: str) -> str:
    return _part(
        [
            f'Content-Type: text/calendar; charset="utf-8"; method={method}',
            "Content-Transfer-Encoding: base64",
        ],
        encoded,
    )


def _attachment(encoded: str) -> str:
    return _part(
        [
            f'Content-Type: application/ics; name="{ATTACHMENT_NAME}"',
            f'Content-Disposition: attachment; filename="{ATTACHMENT_NAME}"',
            "Content-Transfer-Encoding: base64",
        ],
        encoded,
    )


def _image_part(image: InlineImage) -> str:
    content_id = refuse_line_breaks("Content-ID", image.content_id)
    names = (image.filename, image.subtype)
    if not all(value.isascii() and '"' not in value for value in (content_id, *names)):
        raise HeaderRefused("an inline image needs an ASCII Content-ID, name and type")
    return _part(
        [
            f'Content-Type: image/{image.subtype}; name="{image.filename}"',
            f'Content-Disposition: inline; filename="{image.filename}"',
            f"Content-ID: <{content_id}>",
            "Content-Transfer-Encoding: base64",
        ],
        base64mime.body_encode(image.data, 76, CRLF),
    )


def _multipart(subtype: str, parts: list[str], params: str = "") -> tuple[str, str]:
    """The Content-Type line and body of a multipart holding ``parts``.

    "=_" never occurs in quoted-printable or base64 output, so a boundary
    starting with it cannot collide with any body written here.
    """
    boundary = f"=_{secrets.token_hex(12)}"
    body = "".join(f"--{boundary}{CRLF}{part}{CRLF}" for part in parts)
    content_type = f"Content-Type: multipart/{subtype};"
    if params:
        # Folded before the boundary, so that the line stays within 78 characters.
        content_type += f" {params};{CRLF}"
    return f'{content_type} boundary="{boundary}"', f"{body}--{boundary}--{CRLF}"


def assemble(
    headers: list[str],
    *,
    text: str,
    html: str,
    calendar: bytes | None = None,
    method: str | None = None,
    images: Sequence[InlineImage] = (),
) -> bytes:
    """The whole message: ``headers`` (folded lines), then text, HTML and the calendar, if any.

    ``images`` go next to the HTML part in a multipart/related, so that the
    calendar alternative and the attached .ics stay where clients look for them.
    """
    html_part = _text_part("html", html)
    if images:
        related_type, related_body = _multipart(
            "related", [html_part, *map(_image_part, images)], 'type="text/html"'
        )
        html_part = _part([related_type], related_body)
    alternatives = [_text_part("plain", text), html_part]
    if calendar is None:
        content_type, body = _multipart("alternative", alternatives)
    else:
        if method not in ("REQUEST", "CANCEL"):
            raise ValueError(f"unexpected iTIP method {method!r}")
        encoded = base64mime.body_encode(calendar, 76, CRLF)
        alternatives.append(_calendar_part(encoded, method))
        inner_type, inner_body = _multipart("alternative", alternatives)
        content_type, body = _multipart(
            "mixed", [_part([inner_type], inner_body), _attachment(encoded)]
        )
    head = "".join(headers) + f"MIME-Version: 1.0{CRLF}{content_type}{CRLF}"
    return (head + CRLF + body).encode("ascii")
