"""Read what comes back after sending: bounces (RFC 3464) and complaints (ARF, RFC 5965).

Pure functions on the raw bytes of one message, with the standard library's
``email`` package; services.delivery_feedback records what they find. Our
own Message-ID (see ``letter.message_id_for``) in the returned headers tells
which outbox row a report is about.
"""

from __future__ import annotations

import email
import email.message
import re
from dataclasses import dataclass
from email.parser import HeaderParser
from email.utils import collapse_rfc2231_value, getaddresses

from outreach.models import DeliveryProblem

# ARF feedback types that mean "I did not want this"; not-spam, virus, auth-failure do not.
COMPLAINT_TYPES = frozenset({"abuse", "fraud", "other"})
MAX_DETAIL = 1000
MAX_EMAIL = 254
# What letter.message_id_for writes: <outreach.{outbox id}.{16 hex of the dedupe key}@host>.
OUR_MESSAGE_ID = re.compile(r"<outreach\.(\d{1,18})\.([0-9a-f]{16})@[^<>\s]+>")
_PLAUSIBLE_EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")


@dataclass(frozen=True)
class Feedback:
    """One recipient's problem, as a bounce, a complaint or a provider told it."""

    email: str  # lower-cased; "" when only the outbox row can say who it was
    problem: DeliveryProblem
    detail: str
    message_id: str | None = None  # the Message-ID of the message it is about
    source: str = "dsn"  # "dsn" (a message we read) or "webhook"


def parse_report(raw: bytes) -> list[Feedback]:
    """Read a delivery status notification or a complaint report; [] for anything else.

    A bounce that returns the headers of a message we did not send
    (backscatter from spam that forged our address) is ignored too.
    """
    message = email.message_from_bytes(raw)
    report = next((part for part in message.walk() if _is_report(part)), None)
    if report is None or not isinstance(report.get_payload(), list):
        return []
    report_type = _param(report, "report-type")
    returned_id = _returned_message_id(report)
    if returned_id is not None and not OUR_MESSAGE_ID.fullmatch(returned_id):
        return []
    if report_type == "delivery-status":
        return _delivery_status(report, returned_id)
    return _complaints(report, returned_id)


def _is_report(part: email.message.Message) -> bool:
    return part.get_content_type() == "multipart/report" and _param(part, "report-type") in {
        "delivery-status",
        "feedback-report",
    }


def _param(part: email.message.Message, name: str) -> str:
    value = part.get_param(name)
    return collapse_rfc2231_value(value).strip().lower() if value else ""


def _field(fields: email.message.Message, name: str) -> str:
    return printable_line(fields.get(name) or "")


def printable_line(value: object) -> str:
    """Make one line of printable text: bounces carry raw 8-bit bytes, and databases refuse NULs."""
    return " ".join("".join(c for c in str(value) if c.isprintable() or c.isspace()).split())


def _parts(report: email.message.Message, content_type: str) -> list[email.message.Message]:
    return [part for part in report.get_payload() if part.get_content_type() == content_type]


def _returned_message_id(report: email.message.Message) -> str | None:
    """Return the Message-ID in the returned message or headers (the report's last part)."""
    for part in report.get_payload():
        kind = part.get_content_type()
        if kind == "message/rfc822" and isinstance(part.get_payload(), list):
            headers = part.get_payload()[0]
        elif kind == "text/rfc822-headers":
            body = part.get_payload(decode=True) or b""
            headers = HeaderParser().parsestr(body.decode("utf-8", "replace"))
        else:
            continue
        found = _field(headers, "Message-ID")
        return found or None
    return None


def _delivery_status(report: email.message.Message, message_id: str | None) -> list[Feedback]:
    found = []
    for part in _parts(report, "message/delivery-status"):
        blocks = part.get_payload()
        # The first block is about the message, each later one about one recipient.
        for fields in blocks[1:] if isinstance(blocks, list) else []:
            problem = _classify(_field(fields, "Action").lower(), _field(fields, "Status"))
            address = _recipient(fields)
            if problem is None or not address:
                continue
            detail = " ".join(
                filter(None, (_field(fields, "Status"), _field(fields, "Diagnostic-Code")))
            )
            found.append(Feedback(address, problem, detail[:MAX_DETAIL], message_id))
    return found


def _classify(action: str, status: str) -> DeliveryProblem | None:
    if action == "delayed":
        return DeliveryProblem.SOFT_BOUNCE
    if action != "failed":
        return None  # delivered, relayed, expanded: nothing went wrong
    # A failure without a readable status is not proof the address is dead.
    return DeliveryProblem.HARD_BOUNCE if status.startswith("5.") else DeliveryProblem.SOFT_BOUNCE


def _recipient(fields: email.message.Message) -> str:
    """Return the address we sent to: Original-Recipient when given, else Final-Recipient."""
    for name in ("Original-Recipient", "Final-Recipient"):
        kind, _, address = _field(fields, name).partition(";")
        address = address.strip().strip("<>").lower()
        if kind.strip().lower() == "rfc822" and plausible_address(address):
            return address
    return ""


def _complaints(report: email.message.Message, message_id: str | None) -> list[Feedback]:
    found = []
    for part in _parts(report, "message/feedback-report"):
        payload = part.get_payload()
        if not isinstance(payload, list) or not payload:
            continue
        fields = payload[0]
        kind = _field(fields, "Feedback-Type").lower()
        if kind not in COMPLAINT_TYPES:
            continue
        by = _field(fields, "Reporting-MTA") or _field(fields, "User-Agent") or "?"
        detail = f"{kind} report from {by}"[:MAX_DETAIL]
        # Providers often redact the address; then the outbox row says who it was.
        addresses = [
            address.lower()
            for _, address in getaddresses(fields.get_all("Original-Rcpt-To") or [])
            if plausible_address(address.lower())
        ] or [""]
        found.extend(
            Feedback(address, DeliveryProblem.COMPLAINT, detail, message_id)
            for address in addresses
        )
    return found


def plausible_address(address: str) -> bool:
    return (
        len(address) <= MAX_EMAIL
        and address.isprintable()
        and _PLAUSIBLE_EMAIL.fullmatch(address) is not None
    )
