"""The outbox: every message owed to a person, written with the change that causes it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.extensions import db
from outreach.models.campaigns import Campaign
from outreach.models.events import Event
from outreach.models.registrations import Registration
from outreach.models.types import UTCDateTime, str_enum, utcnow


class MessageKind(enum.StrEnum):
    REGISTRATION_CONFIRMED = "registration_confirmed"
    REGISTRATION_WAITLISTED = "registration_waitlisted"
    WAITLIST_PROMOTED = "waitlist_promoted"
    REGISTRATION_CANCELLED = "registration_cancelled"
    MANAGE_LINK = "manage_link"
    EVENT_UPDATED = "event_updated"
    EVENT_CANCELLED = "event_cancelled"
    REMINDER = "reminder"
    # About an account, not an event: no event or registration on the row.
    PASSWORD_RESET = "password_reset"  # noqa: S105  (a kind of message, no secret)
    USER_INVITATION = "user_invitation"
    # To staff or partner users about an event under review (event_id set, no registration).
    EVENT_SUBMITTED = "event_submitted"
    CHANGES_REQUESTED = "changes_requested"
    EVENT_PUBLISHED = "event_published"
    # A host's message to the registrants of its event (see Announcement).
    ANNOUNCEMENT = "announcement"
    # To the contact person of an organisation that asked to become a partner.
    APPLICATION_RECEIVED = "application_received"
    APPLICATION_DECLINED = "application_declined"
    # Bulk mail: a campaign's message to one recipient (campaign_id set), and the
    # double opt-in link to someone who subscribed to the newsletter.
    CAMPAIGN = "campaign"
    NEWSLETTER = "newsletter"
    NEWSLETTER_CONFIRMATION = "newsletter_confirmation"
    # The link that confirms a data-protection request made on the public page.
    PRIVACY_REQUEST = "privacy_request"


# Kinds whose rows carry no event or registration (event_id and registration_id stay NULL).
ACCOUNT_KINDS = frozenset(
    {
        MessageKind.PASSWORD_RESET,
        MessageKind.USER_INVITATION,
        MessageKind.APPLICATION_RECEIVED,
        MessageKind.APPLICATION_DECLINED,
        MessageKind.NEWSLETTER_CONFIRMATION,
        MessageKind.PRIVACY_REQUEST,
    }
)
# Bulk kinds: they carry List-Unsubscribe and honour the suppression scope of their kind.
BULK_KINDS = frozenset({MessageKind.CAMPAIGN, MessageKind.NEWSLETTER})
# Kinds about an event, to a user rather than a registrant (registration_id stays NULL).
REVIEW_KINDS = frozenset(
    {MessageKind.EVENT_SUBMITTED, MessageKind.CHANGES_REQUESTED, MessageKind.EVENT_PUBLISHED}
)


class MessageStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    # Overtaken by events (the person cancelled, the event began): never to be sent.
    SKIPPED = "skipped"


class OutboxMessage(db.Model):
    """One message to one person. The worker composes and sends it later."""

    __tablename__ = "outbox"
    __table_args__ = (
        # What the worker asks for: due, queued rows in order.
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MessageKind] = mapped_column(str_enum(MessageKind, length=40))
    recipient: Mapped[str] = mapped_column(String(254))
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(16))
    # Unique per message owed, e.g. "registration_confirmed:42": enqueuing twice is a no-op.
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="SET NULL"), index=True
    )
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    # What the message needs beyond the rows it refers to (e.g. the manage token).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    status: Mapped[MessageStatus] = mapped_column(
        str_enum(MessageStatus), default=MessageStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(250))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when retention blanked the address, name, payload and error of a finished row.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event | None] = relationship()
    registration: Mapped[Registration | None] = relationship()
    campaign: Mapped[Campaign | None] = relationship()

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.dedupe_key} {self.status.value}>"


class SuppressionReason(enum.StrEnum):
    HARD_BOUNCE = "hard_bounce"
    COMPLAINT = "complaint"
    UNSUBSCRIBED = "unsubscribed"


class SuppressionScope(enum.StrEnum):
    """What an entry stops: all mail (a dead address), or one kind of bulk mail."""

    ALL = "all"
    OUTREACH = "outreach"
    NEWSLETTER = "newsletter"


class Suppression(db.Model):
    """An address we must not send (some kinds of) mail to again.

    A hard bounce stops everything; an unsubscribe or a complaint stops bulk
    mail of one scope, while mail about the person's own registration still goes.
    """

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("email", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Lower-cased, as registrations store it; after an erasure only a salted hash
    # ("hmac-sha256:<hex>", see outreach/mail/suppression.py) that still honours the entry.
    email: Mapped[str] = mapped_column(String(254), index=True)
    scope: Mapped[SuppressionScope] = mapped_column(
        str_enum(SuppressionScope), default=SuppressionScope.ALL, server_default="all"
    )
    reason: Mapped[SuppressionReason] = mapped_column(str_enum(SuppressionReason))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliveryProblem(enum.StrEnum):
    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCE = "soft_bounce"
    COMPLAINT = "complaint"


class DeliveryReport(db.Model):
    """What came back after sending: a bounce (RFC 3464) or a provider's complaint report."""

    __tablename__ = "delivery_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), index=True)
    problem: Mapped[DeliveryProblem] = mapped_column(str_enum(DeliveryProblem))
    # "dsn" (a bounce message we fetched) or "webhook" (the provider told us).
    source: Mapped[str] = mapped_column(String(20))
    # The status code and diagnostic, e.g. "5.1.1 user unknown".
    detail: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    message: Mapped[OutboxMessage | None] = relationship()
