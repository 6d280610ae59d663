"""Campaigns: one message written once per language, sent to a segment of people."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.extensions import db
from outreach.models.types import UTCDateTime, str_enum, utcnow
from outreach.models.users import User


class CampaignKind(enum.StrEnum):
    # Reminders and outreach about events, to registrants or organisations' contacts.
    OUTREACH = "outreach"
    # The half-yearly newsletter, to confirmed subscribers only.
    NEWSLETTER = "newsletter"


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    # Being written to the outbox (the worker or the CLI is at it).
    ENQUEUING = "enqueuing"
    # Every recipient has a row in the outbox; the worker sends them.
    QUEUED = "queued"
    CANCELLED = "cancelled"


class Campaign(db.Model):
    """Subject and Markdown body per language, placeholders in ``{{ … }}``.

    ``segment`` says who gets it (see services.segments); each recipient gets
    the language version of their language, or ``fallback_language``.
    Per-recipient status lives in the outbox rows that carry ``campaign_id``.
    """

    __tablename__ = "campaigns"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CampaignKind] = mapped_column(str_enum(CampaignKind))
    name: Mapped[str] = mapped_column(String(200))
    # {locale: {"subject": "...", "body": "..."}} — body in Markdown.
    texts: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict)
    fallback_language: Mapped[str] = mapped_column(String(16), default="de")
    segment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[CampaignStatus] = mapped_column(
        str_enum(CampaignStatus), default=CampaignStatus.DRAFT, index=True
    )
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How many rows the enqueuing wrote so far (progress while ENQUEUING).
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Campaign {self.id} {self.kind.value} {self.status.value}>"
