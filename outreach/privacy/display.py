"""How an export reads: times in the site's zone, codes in words, in the reader's language.

The public export page, the staff person page and the printable export all
render the same export dict (services/privacy.describe) with these helpers.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Response
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l

from outreach.staff.labels import MESSAGE_KIND
from outreach.workspace.choices import language_name

EMPTY = "—"

WORDS: dict[str, dict[str, Any]] = {
    "registration_status": {
        "pending": _l("Waiting for confirmation"),
        "confirmed": _l("Confirmed"),
        "waitlisted": _l("On the waitlist"),
        "cancelled": _l("Cancelled"),
    },
    "event_status": {
        "draft": _l("Draft"),
        "submitted": _l("Waiting for review"),
        "published": _l("Published"),
        "cancelled": _l("Cancelled"),
    },
    "subscriber_status": {
        "pending": _l("Not confirmed yet"),
        "active": _l("Active"),
        "unsubscribed": _l("Unsubscribed"),
    },
    "application_status": {
        "pending": _l("Waiting for a decision"),
        "accepted": _l("Accepted"),
        "declined": _l("Declined"),
    },
    "role": {"staff": _l("Staff"), "partner": _l("Partner organisation")},
    "message_kind": MESSAGE_KIND,
    "message_status": {
        "queued": _l("Queued"),
        "sending": _l("Being sent"),
        "sent": _l("Sent"),
        "failed": _l("Failed"),
        "skipped": _l("Skipped"),
    },
    "scope": {
        "all": _l("All email"),
        "outreach": _l("Information about events"),
        "newsletter": _l("Newsletter"),
    },
    "reason": {
        "hard_bounce": _l("The address could not be reached"),
        "complaint": _l("Marked as spam"),
        "unsubscribed": _l("Unsubscribed"),
    },
    "problem": {
        "hard_bounce": _l("Not deliverable"),
        "soft_bounce": _l("Temporarily not deliverable"),
        "complaint": _l("Marked as spam"),
    },
    "request_kind": {"export": _l("A copy of the data"), "erasure": _l("Erasure")},
    "request_status": {
        "pending": _l("Link sent"),
        "confirmed": _l("Confirmed"),
        "completed": _l("Done"),
    },
}


def word(group: str, code: Any) -> str:
    """Put ``code`` of ``group`` in words (the code itself if there are none)."""
    if code is None:
        return EMPTY
    return str(WORDS.get(group, {}).get(code, code))


def when(value: str | None) -> str:
    """Write an ISO time from the export in the site's zone and the reader's language."""
    if not value:
        return EMPTY
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return format_datetime(moment, "medium")


def language(code: str | None) -> str:
    return language_name(code) if code else EMPTY


def answer(value: Any) -> str:
    """Write an answer to a registration question as a person reads it."""
    if value is True:
        return str(_l("Yes"))
    if value is False:
        return str(_l("No"))
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or EMPTY
    return str(value) if value not in (None, "") else EMPTY


def helpers() -> dict[str, Any]:
    """Return the template helpers export pages use (for a blueprint's context processor)."""
    return {"word": word, "when": when, "language_of": language, "answer_text": answer}


def json_attachment(data: dict[str, Any], filename: str) -> Response:
    """Return an export as a JSON file to download (readable, UTF-8 as it is)."""
    response = Response(
        json.dumps(data, ensure_ascii=False, indent=2) + "\n", mimetype="application/json"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
