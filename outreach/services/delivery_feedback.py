"""Bounces and complaints: read what comes back, record it, and feed the suppression list.

Reports arrive three ways: delivery status notifications (RFC 3464) and
complaint reports (ARF, RFC 5965) fetched from the bounce mailbox over IMAP,
the same read from a mailbox file (``flask outreach bounces import``), and a
provider's signed webhook (``POST /hooks/delivery``). Each becomes one
``DeliveryReport``, linked to the outbox row it is about when the returned
headers carry our Message-ID, and then:

- a hard bounce (failed, status 5.x.x) suppresses all mail to the address;
- a soft bounce (failed with 4.x.x, or delayed) does so only once
  SOFT_BOUNCE_LIMIT of them came back within 30 days;
- a complaint stops campaigns and newsletters; mail about the person's own
  registration still goes.

Recording is idempotent: a report about an outbox row is kept once per
problem, and an unlinked one once per address, problem, source and detail.
"""

from __future__ import annotations

import hashlib
import imaplib
import mailbox
import ssl
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, text
from sqlalchemy.orm import joinedload

from outreach.database import begin_write, is_postgresql
from outreach.extensions import db
from outreach.mail.delivery_reports import (
    MAX_DETAIL,
    OUR_MESSAGE_ID,
    Feedback,
    parse_report,
    plausible_address,
    printable_line,
)
from outreach.mail.suppression import suppress
from outreach.models import (
    DeliveryProblem,
    DeliveryReport,
    OutboxMessage,
    SuppressionReason,
    SuppressionScope,
    utcnow,
)
from outreach.services.errors import DomainError, InvalidInput

SOFT_BOUNCE_WINDOW = timedelta(days=30)
COMPLAINT_SCOPES = (SuppressionScope.OUTREACH, SuppressionScope.NEWSLETTER)
MAX_WEBHOOK_EVENTS = 1000
WEBHOOK_TYPES = {problem.value: problem for problem in DeliveryProblem}
_LOCK_KEY = int.from_bytes(hashlib.sha256(b"delivery-feedback").digest()[:8], "big", signed=True)


class BounceMailboxProblem(DomainError):
    """The bounce mailbox is not configured or cannot be read."""

    default_message = _l("The bounce mailbox cannot be read.")


@dataclass
class Outcome:
    """What reading some reports did, summed up."""

    messages: int = 0  # messages read (mailbox and IMAP)
    unrecognised: int = 0  # messages that were no bounce or complaint about our mail
    recorded: int = 0
    duplicates: int = 0
    suppressed: int = 0  # suppression entries added

    def add(self, other: Outcome) -> None:
        """Add another outcome's counts to these."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


# -- the provider's webhook ---------------------------------------------------------------


def webhook_feedback(data: Any) -> list[Feedback]:
    """Check a webhook body ``{"events": [...]}``; raise InvalidInput with field messages."""
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise InvalidInput({"events": str(_l("Send a list of events."))})
    events = data["events"]
    if not 1 <= len(events) <= MAX_WEBHOOK_EVENTS:
        raise InvalidInput(
            {"events": str(_l("Send 1 to %(n)d events at a time.", n=MAX_WEBHOOK_EVENTS))}
        )
    errors: dict[str, str] = {}
    found = []
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            errors[f"events.{index}"] = str(_l("Each event must be an object."))
            continue
        problems = _event_problems(event)
        errors.update({f"events.{index}.{name}": text for name, text in problems.items()})
        if not problems:
            found.append(
                Feedback(
                    email=event["email"].strip().lower(),
                    problem=WEBHOOK_TYPES[event["type"]],
                    detail=event.get("detail") or "",
                    message_id=event.get("message_id") or None,
                    source="webhook",
                )
            )
    if errors:
        raise InvalidInput(errors)
    return found


def _event_problems(event: dict[str, Any]) -> dict[str, str]:
    problems = {}
    if not isinstance(event.get("type"), str) or event["type"] not in WEBHOOK_TYPES:
        problems["type"] = str(_l("Use one of: %(types)s.", types=", ".join(WEBHOOK_TYPES)))
    address = event.get("email")
    if not isinstance(address, str) or not plausible_address(address.strip().lower()):
        problems["email"] = str(_l("Give the recipient's email address."))
    message_id = event.get("message_id")
    if message_id is not None and (not isinstance(message_id, str) or len(message_id) > 250):
        problems["message_id"] = str(_l("Give the Message-ID as text, if at all."))
    if not isinstance(event.get("detail") or "", str):
        problems["detail"] = str(_l("Give the detail as text, if at all."))
    return problems


def record_webhook(data: Any, *, now: datetime | None = None) -> Outcome:
    """Check a webhook body and record its events (nothing at all if one is invalid)."""
    return record(webhook_feedback(data), now=now)


# -- recording ----------------------------------------------------------------------------


def record(feedback: Iterable[Feedback], *, now: datetime | None = None) -> Outcome:
    """Store each report once and suppress its address as the problem deserves."""
    feedback = list(feedback)
    outcome = Outcome()
    if not feedback:
        return outcome
    now = now or utcnow()
    limit = int(current_app.config.get("SOFT_BOUNCE_LIMIT", 3))
    try:
        _lock()
        for item in feedback:
            _record_one(item, now, limit, outcome)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return outcome


def _lock() -> None:
    """Record one batch at a time, so a duplicate check and a soft-bounce count see the last."""
    begin_write()  # SQLite: BEGIN IMMEDIATE already lets one writer in
    if is_postgresql():
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def _record_one(item: Feedback, now: datetime, limit: int, outcome: Outcome) -> None:
    message_id = printable_line(item.message_id or "")
    if _about_a_purged_row(message_id):
        return  # its person was erased or is past retention: nothing to hold about them
    row = our_message(message_id)
    address = row.recipient.lower() if row is not None else item.email
    if not plausible_address(address):
        return
    detail = printable_line(item.detail)
    if row is None and message_id:
        detail = f"{detail} (message {message_id})".strip()
    detail = detail[:MAX_DETAIL]
    if _already_recorded(address, item, row, detail):
        outcome.duplicates += 1
        return
    db.session.add(
        DeliveryReport(
            outbox_id=row.id if row is not None else None,
            email=address,
            problem=item.problem,
            source=item.source,
            detail=detail,
            received_at=now,
        )
    )
    db.session.flush()
    outcome.recorded += 1
    if item.problem is DeliveryProblem.HARD_BOUNCE:
        outcome.suppressed += _suppress(address, SuppressionReason.HARD_BOUNCE, detail)
    elif item.problem is DeliveryProblem.COMPLAINT:
        for scope in COMPLAINT_SCOPES:
            outcome.suppressed += _suppress(address, SuppressionReason.COMPLAINT, detail, scope)
    else:
        soft = _soft_bounces_since(address, now - SOFT_BOUNCE_WINDOW)
        if soft >= limit:
            why = f"{soft} soft bounces within 30 days, the last: {detail}"
            outcome.suppressed += _suppress(address, SuppressionReason.HARD_BOUNCE, why)


def our_message(message_id: str | None) -> OutboxMessage | None:
    """Return the outbox row a Message-ID of ours names (whatever host it was written with)."""
    match = OUR_MESSAGE_ID.fullmatch(message_id.strip()) if message_id else None
    if match is None:
        return None
    row = db.session.get(OutboxMessage, int(match[1]))
    if row is None:
        return None
    digest = hashlib.sha256(row.dedupe_key.encode("utf-8")).hexdigest()[:16]
    return row if digest == match[2] else None


def _about_a_purged_row(message_id: str) -> bool:
    """Whether ``message_id`` names one of our rows whose address was purged.

    Checked by the row's id alone: purging may have rewritten the dedupe key
    the Message-ID's digest was made from.
    """
    match = OUR_MESSAGE_ID.fullmatch(message_id.strip()) if message_id else None
    if match is None:
        return False
    row = db.session.get(OutboxMessage, int(match[1]))
    return row is not None and row.purged_at is not None


def _already_recorded(address: str, item: Feedback, row: OutboxMessage | None, detail: str) -> bool:
    query = select(DeliveryReport.id).where(
        DeliveryReport.email == address, DeliveryReport.problem == item.problem
    )
    if row is not None:
        query = query.where(DeliveryReport.outbox_id == row.id)
    else:
        query = query.where(
            DeliveryReport.outbox_id.is_(None),
            DeliveryReport.source == item.source,
            DeliveryReport.detail == detail,
        )
    return db.session.scalar(query.limit(1)) is not None


def _soft_bounces_since(address: str, since: datetime) -> int:
    return db.session.scalar(
        select(func.count()).where(
            DeliveryReport.email == address,
            DeliveryReport.problem == DeliveryProblem.SOFT_BOUNCE,
            DeliveryReport.received_at >= since,
        )
    )


def _suppress(
    address: str,
    reason: SuppressionReason,
    detail: str,
    scope: SuppressionScope = SuppressionScope.ALL,
) -> int:
    """Suppress the address in ``scope``; return 1 if that is new, else 0."""
    return int(suppress(address, reason, detail, scope=scope))


# -- mailboxes ----------------------------------------------------------------------------


def process_message(raw: bytes, *, now: datetime | None = None) -> Outcome:
    """Read one message from the bounce mailbox and record what it reports."""
    feedback = parse_report(raw)
    outcome = record(feedback, now=now)
    outcome.messages = 1
    outcome.unrecognised = 0 if feedback else 1
    return outcome


def import_mailbox(path: Path, *, now: datetime | None = None) -> Outcome:
    """Process every message in an mbox file, a Maildir, or a single .eml file."""
    outcome = Outcome()
    for raw in _messages_in(path):
        outcome.add(process_message(raw, now=now))
    return outcome


def _messages_in(path: Path) -> Iterator[bytes]:
    if path.is_dir():
        box: mailbox.Mailbox = mailbox.Maildir(path, create=False)
    else:
        with path.open("rb") as file:
            is_mbox = file.read(5) == b"From "
        if not is_mbox:
            yield path.read_bytes()
            return
        box = mailbox.mbox(path, create=False)
    try:
        for key in box.iterkeys():
            yield box.get_bytes(key)
    finally:
        box.close()


@dataclass(frozen=True)
class MailboxSettings:
    """Where the bounce mailbox is: IMAP over TLS."""

    host: str
    port: int
    user: str
    password: str
    folder: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailboxSettings:
        """Read BOUNCE_IMAP_*; the host may carry a port ("imap.example.org:993")."""
        host = config.get("BOUNCE_IMAP_HOST") or ""
        if not host or not config.get("BOUNCE_IMAP_USER"):
            raise BounceMailboxProblem(
                str(_l("Set BOUNCE_IMAP_HOST, BOUNCE_IMAP_USER and BOUNCE_IMAP_PASSWORD first."))
            )
        port = imaplib.IMAP4_SSL_PORT
        name, colon, number = host.rpartition(":")
        if colon and number.isdigit() and (not name.count(":") or name.endswith("]")):
            host, port = name, int(number)
        return cls(
            host=host.strip("[]"),
            port=port,
            user=config["BOUNCE_IMAP_USER"],
            password=config.get("BOUNCE_IMAP_PASSWORD") or "",
            folder=config.get("BOUNCE_IMAP_FOLDER") or "INBOX",
        )


def fetch_from_imap(
    settings: MailboxSettings,
    *,
    ssl_context: ssl.SSLContext | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Process every unseen message in the bounce mailbox, marking each seen once recorded.

    A message is fetched without marking it (BODY.PEEK) and flagged only after
    its reports are committed: if anything fails on the way it stays unseen
    and the next run reads it again, which recording twice makes harmless.
    """
    outcome = Outcome()
    context = ssl_context or ssl.create_default_context()
    try:
        with imaplib.IMAP4_SSL(
            settings.host, settings.port, ssl_context=context, timeout=60
        ) as imap:
            imap.login(settings.user, settings.password)
            _ok(imap.select(_quoted(settings.folder)), settings.folder)
            found = _ok(imap.uid("SEARCH", "UNSEEN"), settings.folder)
            for uid in (found[0] or b"").split():
                fetched = _ok(imap.uid("FETCH", uid, "(BODY.PEEK[])"), settings.folder)
                raw = next((item[1] for item in fetched if isinstance(item, tuple)), None)
                if raw is not None:
                    outcome.add(process_message(raw, now=now))
                _ok(imap.uid("STORE", uid, "+FLAGS", "(\\Seen)"), settings.folder)
    except (imaplib.IMAP4.error, OSError) as error:
        raise BounceMailboxProblem(
            str(_l("The bounce mailbox cannot be read: %(error)s", error=str(error)))
        ) from error
    return outcome


def _ok(answer: tuple[str, list[Any]], folder: str) -> list[Any]:
    status, data = answer
    if status != "OK":
        raise imaplib.IMAP4.error(f"{folder}: {status} {data!r}")
    return data


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- for staff ----------------------------------------------------------------------------


def latest_reports(limit: int = 20) -> list[DeliveryReport]:
    """Return the newest delivery reports first, with the outbox row each is about."""
    return list(
        db.session.scalars(
            select(DeliveryReport)
            .options(joinedload(DeliveryReport.message))
            .order_by(DeliveryReport.received_at.desc(), DeliveryReport.id.desc())
            .limit(limit)
        )
    )
