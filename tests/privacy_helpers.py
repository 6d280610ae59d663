"""Helpers for the data-protection tests: search the whole database, read the dev mailbox."""

from __future__ import annotations

import email.policy
import re
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from sqlalchemy import JSON, String, Text, cast, func, select

from outreach.extensions import db

LINK = re.compile(r"https?://[^/\s]+(/privacy/request/[A-Za-z0-9_-]+)")


def everywhere(needle: str) -> list[str]:
    """Every ``table.column`` (text, string or JSON) whose value contains ``needle``, any case.

    Walks ``db.metadata``: a column added later is searched too.
    """
    db.session.rollback()
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, String | Text | JSON):
                continue
            text = func.lower(cast(column, Text))
            hits = db.session.scalar(
                select(func.count())
                .select_from(table)
                .where(text.contains(needle.lower(), autoescape=True))
            )
            if hits:
                found.append(f"{table.name}.{column.name}")
    return found


def mails_to(mailbox: Path, address: str) -> list[EmailMessage]:
    """The messages the development mailbox holds for ``address``, oldest first."""
    parser = BytesParser(policy=email.policy.default)
    messages = [parser.parsebytes(path.read_bytes()) for path in sorted(mailbox.glob("*.eml"))]
    return [message for message in messages if address in str(message["To"]).lower()]


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def link_in(message: EmailMessage) -> str:
    """The path of the data-protection link in a message's text."""
    match = LINK.search(text_of(message))
    assert match, text_of(message)
    return match.group(1)
