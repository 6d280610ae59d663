"""An issue as its email will look, for staff to check before sending.

The message is written by the mail machinery itself (a BulkLetter with the
newsletter's templates), addressed to the staff member who asks, and never
stored or sent: what staff see is what subscribers will get.
"""

from __future__ import annotations

import email
from dataclasses import dataclass
from email.message import Message
from email.policy import default as default_policy

from flask import current_app

from outreach.mail.bulk_letter import BulkLetter, newsletter_text
from outreach.mail.letter import MailSettings
from outreach.models import MessageKind, NewsletterIssue, OutboxMessage, User, utcnow
from outreach.services.newsletter_issues import issue_page_url


@dataclass(frozen=True)
class EmailPreview:
    subject: str
    html: str
    text: str


def _part(message: Message, content_type: str) -> str:
    for part in message.walk():
        if part.get_content_type() == content_type:
            return part.get_content()
    return ""


def email_preview(issue: NewsletterIssue, locale: str, *, to: User) -> EmailPreview:
    """Write the issue's ``locale`` email as ``to`` would get it; store and send nothing."""
    settings = MailSettings.from_config(current_app.config)
    # A row that never reaches the session: the letter needs one to write from.
    message = OutboxMessage(
        kind=MessageKind.NEWSLETTER,
        recipient=to.email,
        recipient_name=to.name or "",
        language=locale,
        dedupe_key=f"preview:newsletter_issue:{issue.id}",
        payload={},
    )
    letter = BulkLetter(message, settings=settings, language=locale, now=utcnow())
    content = newsletter_text(issue, locale)
    with letter.speaking(locale):
        composed = letter.write(
            "newsletter",
            subject=content.subject,
            intro_html=content.intro_html,
            intro_text=content.intro_text,
            items=content.items,
            web_url=issue_page_url(issue),
        )
    parsed = email.message_from_bytes(composed.raw, policy=default_policy)
    return EmailPreview(
        subject=str(parsed["Subject"] or ""),
        html=_part(parsed, "text/html"),
        text=_part(parsed, "text/plain"),
    )
