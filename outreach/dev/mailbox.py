"""Reading the development mailbox: the ``.eml`` files the mailbox transport writes.

Only plain ``*.eml`` file names directly inside the mailbox folder are ever
opened; anything else (a path, a hidden file, a link leading out of the
folder) is treated as absent.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path, PurePosixPath

SHOWN_HEADERS = ("From", "To", "Subject", "Date")
CALENDAR_TYPES = {"text/calendar", "application/ics"}
_METHOD_LINE = re.compile(r"^METHOD:\s*([A-Za-z-]+)", re.MULTILINE)
_URL = re.compile(r"https?://[^\s<>\"'()\[\]]+")


@dataclass(frozen=True)
class MailboxEntry:
    """One stored email as the list shows it."""

    name: str
    size: int
    stored_at: datetime
    sender: str
    to: str
    subject: str
    sent_at: datetime | None
    invite_method: str | None
    has_invite: bool
    readable: bool = True


@dataclass(frozen=True)
class MimePart:
    # IMAP-style: "" for the message itself, "1", "2" for its parts, "1.2" inside the first.
    number: str
    content_type: str
    filename: str | None
    disposition: str | None
    size: int | None


@dataclass(frozen=True)
class MailboxMessage:
    """One stored email, opened: its headers, parts and invite."""

    entry: MailboxEntry
    headers: list[tuple[str, str]]
    text: str | None
    html: str | None
    calendar: bytes | None
    calendar_filename: str | None
    parts: list[MimePart] = field(default_factory=list)

    @property
    def links(self) -> list[str]:
        """The web addresses in the text part, in order, each once."""
        found = (url.rstrip(".,;:!?") for url in _URL.findall(self.text or ""))
        return list(dict.fromkeys(found))


def list_mailbox(directory: str | Path, *, limit: int = 200) -> tuple[list[MailboxEntry], int]:
    """Return the newest ``limit`` emails (by modification time) and how many there are."""
    paths = _eml_files(Path(directory))
    paths.sort(key=lambda item: (item[1], item[0].name), reverse=True)
    entries = []
    for path, _ in paths[:limit]:
        try:
            entries.append(_entry(path, _parse(path)))
        except OSError:  # removed meanwhile
            continue
    return entries, len(paths)


def mailbox_path(directory: str | Path, name: str) -> Path | None:
    """Return the file ``name`` names inside ``directory``, or None if it is no plain .eml."""
    if (
        not name.endswith(".eml")
        or name.startswith(".")
        or PurePosixPath(name).name != name
        or any(character in name for character in "\\\x00")
    ):
        return None
    folder = Path(directory)
    try:
        path = folder / name
        inside = path.resolve(strict=True).parent == folder.resolve(strict=True)
        plain_file = stat.S_ISREG(path.lstat().st_mode)
    except (OSError, RuntimeError):
        return None
    return path if inside and plain_file else None


def open_message(directory: str | Path, name: str) -> MailboxMessage | None:
    """Open the email stored as ``name``; None when there is no such plain .eml file."""
    path = mailbox_path(directory, name)
    if path is None:
        return None
    message = _parse(path)
    entry = _entry(path, message, name=name)
    if message is None:
        return MailboxMessage(entry, [], None, None, None, None)
    inline, attached = _calendar_parts(message)
    return MailboxMessage(
        entry=entry,
        headers=_headers(message),
        text=_body(message, "plain"),
        html=_body(message, "html"),
        calendar=_ics_file(inline, attached),
        calendar_filename=attached.get_filename() if attached is not None else None,
        parts=list(_parts(message)),
    )


def _eml_files(directory: Path) -> list[tuple[Path, int]]:
    if not directory.is_dir():
        return []
    found = []
    for path in directory.glob("*.eml"):
        if path.name.startswith("."):
            continue
        try:
            status = path.lstat()
        except OSError:  # removed meanwhile
            continue
        # Symbolic links are skipped: they could lead out of the folder.
        if stat.S_ISREG(status.st_mode):
            found.append((path, status.st_mtime_ns))
    return found


def _parse(path: Path) -> EmailMessage | None:
    try:
        with path.open("rb") as file:
            return BytesParser(policy=policy.default).parse(file)
    except Exception:  # a broken file must not take the whole page down
        return None


def _entry(path: Path, message: EmailMessage | None, *, name: str | None = None) -> MailboxEntry:
    stat = path.stat()
    stored_at = datetime.fromtimestamp(stat.st_mtime, UTC)
    name = name or path.name
    if message is None:
        return MailboxEntry(name, stat.st_size, stored_at, "", "", "", None, None, False, False)
    inline, attached = _calendar_parts(message)
    return MailboxEntry(
        name=name,
        size=stat.st_size,
        stored_at=stored_at,
        sender=_header(message, "From"),
        to=_header(message, "To"),
        subject=_header(message, "Subject"),
        sent_at=_date(message),
        invite_method=_invite_method(inline, attached),
        has_invite=inline is not None or attached is not None,
    )


def _text(read) -> str:
    """Decode a header value; a malformed one shows as a marker instead of failing."""
    try:
        return str(read())
    except Exception:
        return "(unreadable header)"


def _header(message: EmailMessage, name: str) -> str:
    return _text(lambda: message.get(name, ""))


def _headers(message: EmailMessage) -> list[tuple[str, str]]:
    try:
        return [(name, str(value)) for name, value in message.items()]
    except Exception:
        return [(name, "(unreadable header)") for name in message]


def _date(message: EmailMessage) -> datetime | None:
    try:
        header = message.get("Date")
        value = getattr(header, "datetime", None)
    except Exception:
        return None
    if value is None:
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _calendar_parts(message: EmailMessage) -> tuple[EmailMessage | None, EmailMessage | None]:
    """The invite as it comes: the text/calendar alternative, and an attached .ics file."""
    inline = attached = None
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = (part.get_filename() or "").lower()
        if part.get_content_type() == "text/calendar" and not part.is_attachment():
            inline = inline or part
        elif part.get_content_type() in CALENDAR_TYPES or filename.endswith(".ics"):
            attached = attached or part
    return inline, attached


def _invite_method(inline: EmailMessage | None, attached: EmailMessage | None) -> str | None:
    """METHOD from the alternative's Content-Type (what clients act on), else from the file."""
    for part in (inline, attached):
        if part is None:
            continue
        method = part.get_param("method")
        if isinstance(method, str) and method:
            return method.upper()
        match = _METHOD_LINE.search((_payload(part) or b"").decode("utf-8", "replace"))
        if match:
            return match.group(1).upper()
    return None


def _ics_file(inline: EmailMessage | None, attached: EmailMessage | None) -> bytes | None:
    """The .ics to download: the attached file as sent, else the alternative with CRLF lines."""
    if attached is not None:
        return _payload(attached)
    if inline is not None:
        payload = _payload(inline)
        return re.sub(rb"\r?\n", b"\r\n", payload) if payload is not None else None
    return None


def _payload(part: EmailMessage) -> bytes | None:
    try:
        return part.get_payload(decode=True)
    except Exception:
        return None


def _body(message: EmailMessage, subtype: str) -> str | None:
    try:
        part = message.get_body(preferencelist=(subtype,))
        return part.get_content() if part is not None else None
    except Exception:
        return None


def _parts(part: EmailMessage, number: str = ""):
    payload = None if part.is_multipart() else _payload(part)
    yield MimePart(
        number=number,
        content_type=part.get_content_type(),
        filename=part.get_filename(),
        disposition=part.get_content_disposition(),
        size=len(payload) if payload is not None else None,
    )
    if part.is_multipart():
        for position, child in enumerate(part.iter_parts(), start=1):
            yield from _parts(child, f"{number}.{position}" if number else str(position))
