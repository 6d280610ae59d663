"""What notify_* for review messages works with: a staff or partner user, told about an event.

Submissions, requests for changes and publications go to the people who
work on an event, not to its registrants: no manage link, no invitation,
no rendering shared between recipients (there are a handful). Like an
AccountLetter they come from the site; like a Letter they show the event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from outreach.mail.account_letter import AccountLetter
from outreach.mail.letter import MailSettings, paragraphs
from outreach.mail.mime import ComposedMessage
from outreach.mail.shared import SHARED, EventFacts, event_facts, event_fingerprint
from outreach.models import OutboxMessage


class UserLetter(AccountLetter):
    """One message to a staff or partner user about an event; compose() checked the event exists."""

    def __init__(
        self, message: OutboxMessage, *, settings: MailSettings, language: str, now: datetime
    ) -> None:
        assert message.event is not None
        super().__init__(message, settings=settings, language=language, now=now)
        self.event = message.event
        # The same key as Letter's: registrants and users share the event in words.
        key = (settings, language, event_fingerprint(self.event, language))
        self.facts: EventFacts = SHARED.get(
            ("facts", *key),
            lambda: event_facts(self.event, language, settings.calendar, settings.site_name),
        )

    @property
    def title(self) -> str:
        return self.facts.title

    @property
    def actor(self) -> str:
        """Who took the step (the payload's name), as one line."""
        actor = " ".join(str((self.message.payload or {}).get("actor") or "").split())
        return actor or _("Someone")

    @property
    def comment(self) -> str:
        return str((self.message.payload or {}).get("comment") or "").strip()

    def workspace_url(self, area: str) -> str:
        """The event's page in a workspace: ``area`` is "staff" or "partner"."""
        return f"{self.settings.calendar.base_url}/{area}/events/{self.event.id}"

    def write(self, template: str, *, subject: str, **context: Any) -> ComposedMessage:
        """Render ``mail/<template>.*`` with the event, who acted and what they wrote."""
        return super().write(
            template,
            subject=subject,
            title=self.title,
            facts=self.facts,
            hosts=tuple(host.name for host in self.event.hosts),
            actor=self.actor,
            comment=paragraphs(self.comment),
            **context,
        )
