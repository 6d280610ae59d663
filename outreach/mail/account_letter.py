"""What notify_* for account messages works with: one outbox row about an account.

Password resets, invitations and the answers to partner applications have no
event or registration, so they do not use Letter (which reads the event's
facts and shares renderings between recipients); each is rendered on its
own, from ``mail/account_base.*``. UserLetter builds on it for review mail.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

from flask import current_app
from flask_babel import get_translations

from outreach.mail.letter import (
    MailSettings,
    message_id_for,
    template_translations,
    text_direction,
    tidy_text,
)
from outreach.mail.mime import (
    ComposedMessage,
    ascii_address,
    assemble,
    display_name,
    transactional_headers,
)
from outreach.models import OutboxMessage


class AccountLetter:
    """One account message being written in its language."""

    def __init__(
        self, message: OutboxMessage, *, settings: MailSettings, language: str, now: datetime
    ) -> None:
        self.message = message
        self.settings = settings
        self.language = language
        self.now = now

    @property
    def token(self) -> str | None:
        return (self.message.payload or {}).get("token")

    def link(self, path: str) -> str:
        """``BASE_URL`` + ``path`` + the row's token."""
        return f"{self.settings.calendar.base_url}{path}{quote(self.token or '', safe='')}"

    def write(self, template: str, *, subject: str, **context: Any) -> ComposedMessage:
        """Render ``mail/<template>.txt`` and ``.html`` and wrap them with the headers."""
        subject = " ".join(subject.split())
        values = {
            "language": self.language,
            "direction": text_direction(self.language),
            "subject": subject,
            "site_name": self.settings.site_name,
            "name": " ".join((self.message.recipient_name or "").split()),
            **template_translations(get_translations()),
            **context,
        }
        environment = current_app.jinja_env
        text = tidy_text(environment.get_template(f"mail/{template}.txt").render(values))
        html = environment.get_template(f"mail/{template}.html").render(values)
        message_id = message_id_for(self.message, self.settings.calendar.host)
        headers = transactional_headers(
            sender=(display_name(self.settings.site_name), self.settings.sender),
            recipient=(display_name(self.message.recipient_name), self.message.recipient),
            subject=subject,
            date=format_datetime(self.now),
            message_id=message_id,
            language=self.language,
        )
        return ComposedMessage(
            envelope_from=ascii_address(self.settings.sender),
            recipient=ascii_address(self.message.recipient),
            message_id=message_id,
            raw=assemble(headers, text=text, html=html),
        )
