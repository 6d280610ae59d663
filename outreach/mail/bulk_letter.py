"""What notify_* for bulk mail works with: a BulkLetter, one campaign or newsletter message.

A campaign's text is the staff's (Markdown with placeholders, rendered and
sanitised by ``services.campaign_text``); the letter puts it in a frame of
its own: no greeting or signature added (the text has its own), a footer
saying why the person gets it, with the links to unsubscribe and to choose
what they get, and the headers of bulk mail (List-Unsubscribe with the
one-click POST of RFC 8058, List-Id, Precedence: bulk).

A registrant's campaign may link to their registration (``{{ manage_url }}``);
that link's token is made when the message is composed, and written in a
short transaction of its own before the message goes out, so the link in the
mail always works (see ``manage_url``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from functools import cached_property
from typing import Any
from urllib.parse import quote

from flask import current_app
from flask_babel import force_locale, get_locale, get_translations
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from outreach.database import WRITE_OPTION
from outreach.extensions import db
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
    bulk_headers,
    display_name,
    list_id_header,
    list_unsubscribe_header,
)
from outreach.mail.shared import SHARED
from outreach.mail.suppression import is_suppressed, scope_for
from outreach.mail.unsubscribe import preferences_url, unsubscribe_token, unsubscribe_url
from outreach.models import (
    Campaign,
    CampaignStatus,
    IssueStatus,
    MessageKind,
    NewsletterIssue,
    OutboxMessage,
    Registration,
    Subscriber,
    SuppressionScope,
)
from outreach.services.campaign_text import html_to_text
from outreach.services.newsletter import issue_content
from outreach.services.segments import Recipient
from outreach.services.tokens import issue_token

_MANAGE_PLACEHOLDER = re.compile(r"\bmanage_url\b")
_LIST_LABEL = {SuppressionScope.OUTREACH: "campaigns", SuppressionScope.NEWSLETTER: "newsletter"}
_NOT_A_LABEL = re.compile(r"[^A-Za-z0-9-]+")


class BulkLetter:
    """One message of a campaign (kind CAMPAIGN or NEWSLETTER) being written in its language."""

    def __init__(
        self, message: OutboxMessage, *, settings: MailSettings, language: str, now: datetime
    ) -> None:
        self.message = message
        self.settings = settings
        self.language = language
        self.now = now
        self.campaign: Campaign | None = message.campaign
        scope = scope_for(message.kind)
        assert scope is not None, f"{message.kind} is no bulk kind"
        self.scope = scope

    # -- is it still wanted? -------------------------------------------------------

    @property
    def is_test(self) -> bool:
        """A test send to the staff member who asked: never held back by the campaign's state."""
        return (self.message.payload or {}).get("test") is True

    @property
    def subscriber(self) -> Subscriber | None:
        subscriber_id = (self.message.payload or {}).get("subscriber")
        return db.session.get(Subscriber, subscriber_id) if type(subscriber_id) is int else None

    def stale_reason(self) -> str | None:
        """Why the message should no longer go out, or None if it should."""
        if self.is_test:
            return None
        if self.campaign is not None and self.campaign.status is CampaignStatus.CANCELLED:
            return "the campaign was cancelled"
        if is_suppressed(self.message.recipient, self.message.kind):
            return f"the recipient does not want {self.scope.value} mail"
        if "subscriber" in (self.message.payload or {}):
            subscriber = self.subscriber
            if subscriber is None or not subscriber.is_active:
                return "the subscription has ended"
        return None

    # -- what it says --------------------------------------------------------------

    def version(self) -> tuple[str, dict[str, str]] | None:
        """The text for the row's language, else the fallback, else any: (locale, text)."""
        texts = (self.campaign.texts if self.campaign else None) or {}
        fallback = self.campaign.fallback_language if self.campaign else None
        for locale in (self.message.language, fallback, *sorted(texts)):
            text = texts.get(locale) if locale else None
            if isinstance(text, dict) and text.get("subject") and text.get("body") is not None:
                return locale, text
        return None

    def issue(self) -> NewsletterIssue | None:
        """The newsletter issue this campaign sends, if it sends one."""
        if self.campaign is None:
            return None
        return db.session.scalar(
            select(NewsletterIssue).where(NewsletterIssue.campaign_id == self.campaign.id).limit(1)
        )

    @contextmanager
    def speaking(self, locale: str) -> Iterator[None]:
        """Write the frame in ``locale`` when the interface has it (else in the row's language)."""
        with force_locale(locale if locale in self.settings.languages else self.language):
            yield

    def recipient(self) -> Recipient:
        return Recipient.from_message(self.message)

    # -- links ---------------------------------------------------------------------

    # Signed once per message, though the body, the footer and the headers all use them.
    @cached_property
    def unsubscribe_url(self) -> str:
        return unsubscribe_url(self.message.recipient, self.scope)

    @cached_property
    def preferences_url(self) -> str:
        return preferences_url(self.message.recipient)

    def manage_url_if_used(self, *texts: str) -> str | None:
        """The registrant's manage link, if any of ``texts`` uses it (made only then)."""
        if not any(_MANAGE_PLACEHOLDER.search(text or "") for text in texts):
            return None
        if self.is_test and self.message.registration_id is None:
            # The tester has no registration: show where the link goes, as the preview does.
            return f"{self.settings.calendar.base_url}/r/preview"
        return self.manage_url()

    def manage_url(self) -> str | None:
        """The link to the registration the recipient came from; None without one.

        The token is made once per message and kept on the row: a resend
        after a failure carries the same link. It is committed before the
        message can go out, in a transaction of its own (the worker reads
        its batch in one that never writes).
        """
        registration_id = self.message.registration_id
        if registration_id is None:
            return None
        token = (self.message.payload or {}).get("token")
        if not isinstance(token, str):
            token = self._store_manage_token(registration_id)
            if token is None:
                return None
        return f"{self.settings.calendar.base_url}/r/{quote(token, safe='')}"

    def _store_manage_token(self, registration_id: int) -> str | None:
        payload = dict(self.message.payload or {})
        with Session(db.engine) as session, session.begin():
            session.connection(execution_options={WRITE_OPTION: True})
            registration = session.get(Registration, registration_id)
            if registration is None:
                return None
            payload["token"] = issue_token(registration)
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == self.message.id)
                .values(payload=payload)
            )
        # What the database holds now; not a change for the worker's session to write.
        set_committed_value(self.message, "payload", payload)
        return payload["token"]

    # -- the message -----------------------------------------------------------------

    def why(self) -> str:
        """The footer's line on why this person gets this message."""
        site = self.settings.site_name
        if self.is_test:
            return _(
                "You receive this test because you sent it to yourself at %(site)s.", site=site
            )
        if self.message.kind is MessageKind.NEWSLETTER:
            return _(
                "You receive this newsletter because you subscribed to it at %(site)s.", site=site
            )
        if self.message.registration_id is not None:
            return _(
                "You receive this email because you registered for an event at %(site)s.",
                site=site,
            )
        if "subscriber" in (self.message.payload or {}):
            return _(
                "You receive this email because you subscribed to news from %(site)s.", site=site
            )
        return _(
            "You receive this email because you are a contact of a partner organisation "
            "of %(site)s.",
            site=site,
        )

    def write(self, template: str, *, subject: str, **context: Any) -> ComposedMessage:
        """Render ``mail/<template>.txt`` and ``.html`` in the frame; wrap them with the headers.

        Call inside ``speaking()``: the frame is in the locale current then.
        """
        subject = " ".join(subject.split())
        if self.is_test:
            subject = _("[Test] %(subject)s", subject=subject)
        locale = str(get_locale() or self.language)
        values = {
            "language": locale,
            "direction": text_direction(locale),
            "subject": subject,
            "site_name": self.settings.site_name,
            "test": self.is_test,
            "why": self.why(),
            "unsubscribe_url": self.unsubscribe_url,
            "preferences_url": self.preferences_url,
            **template_translations(get_translations()),
            **context,
        }
        environment = current_app.jinja_env
        text = tidy_text(environment.get_template(f"mail/{template}.txt").render(values))
        html = environment.get_template(f"mail/{template}.html").render(values)
        message_id = message_id_for(self.message, self.settings.calendar.host)
        return ComposedMessage(
            envelope_from=ascii_address(self.settings.sender),
            recipient=ascii_address(self.message.recipient),
            message_id=message_id,
            raw=assemble(self._headers(subject, message_id, locale), text=text, html=html),
        )

    def _headers(self, subject: str, message_id: str, locale: str) -> list[str]:
        site = self.settings.site_name
        return bulk_headers(
            sender=(display_name(site), self.settings.sender),
            recipient=(display_name(self.message.recipient_name), self.message.recipient),
            subject=subject,
            date=format_datetime(self.now),
            message_id=message_id,
            language=locale,
            list_id=list_id_header(site, self._list_id()),
            list_unsubscribe=list_unsubscribe_header(self.unsubscribe_url, self._mailto()),
        )

    def _list_id(self) -> str:
        """``<kind>.<host>``: one list per kind of bulk mail, as mail clients group them."""
        labels = [label for label in _NOT_A_LABEL.split(self.settings.calendar.host) if label]
        return ".".join([_LIST_LABEL[self.scope], *labels])

    def _mailto(self) -> str | None:
        address = current_app.config.get("MAIL_UNSUBSCRIBE_ADDRESS")
        if not address:
            return None
        token = unsubscribe_token(self.message.recipient, self.scope)
        return f"mailto:{ascii_address(address)}?subject=unsubscribe%20{token}"


# -- the newsletter ---------------------------------------------------------------------


@dataclass(frozen=True)
class NewsletterText:
    """An issue in one language, as the newsletter mail shows it (HTML and text)."""

    subject: str
    intro_html: Markup
    intro_text: str
    # (organisation, title, body HTML, body text, image URL) per contribution, in order.
    items: tuple[tuple[str, str, Markup, str, str | None], ...]


def _issue_fingerprint(issue: NewsletterIssue) -> tuple:
    """Every value the issue's content is made from (the contributions' texts by their stamp)."""
    return (
        issue.id,
        issue.slug,
        repr(sorted((issue.title or {}).items())),
        repr(sorted((issue.intro or {}).items())),
        tuple(
            (c.id, c.status, c.position, c.updated_at, c.image_path, c.organisation.name)
            for c in issue.contributions
        ),
    )


def newsletter_text(issue: NewsletterIssue, locale: str) -> NewsletterText:
    """What ``issue`` says in ``locale``; made once for everyone who gets that version."""

    def build() -> NewsletterText:
        content = issue_content(issue, locale)
        return NewsletterText(
            subject=content.subject,
            intro_html=content.intro_html,
            intro_text=html_to_text(content.intro_html),
            items=tuple(
                (
                    item.organisation,
                    item.title,
                    item.body_html,
                    html_to_text(item.body_html),
                    item.image_url,
                )
                for item in content.items
            ),
        )

    return SHARED.get(("newsletter", locale, _issue_fingerprint(issue)), build)


def issue_url(issue: NewsletterIssue, base_url: str) -> str | None:
    """The issue's page in the web archive, once it is published."""
    if issue.status is not IssueStatus.PUBLISHED:
        return None
    return f"{base_url}/newsletter/{quote(issue.slug, safe='')}"
