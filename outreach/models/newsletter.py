"""The newsletter: subscribers (double opt-in), partner contributions and issues."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.extensions import db
from outreach.models.campaigns import Campaign
from outreach.models.organisations import Organisation
from outreach.models.types import UTCDateTime, str_enum, utcnow
from outreach.models.users import User


class SubscriberStatus(enum.StrEnum):
    # Signed up, confirmation link sent, nothing else goes out yet.
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"


class Subscriber(db.Model):
    __tablename__ = "subscribers"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Lower-cased, as everywhere.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(16))
    # Topic slugs the person cares about; empty means everything.
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[SubscriberStatus] = mapped_column(
        str_enum(SubscriberStatus), default=SubscriberStatus.PENDING, index=True
    )
    # The consent: which text (version, language) the person saw, when, from where.
    consent_version: Mapped[str] = mapped_column(String(40))
    consent_language: Mapped[str] = mapped_column(String(16))
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consent_ip: Mapped[str | None] = mapped_column(String(45))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_active(self) -> bool:
        return self.status is SubscriberStatus.ACTIVE


class IssueStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class NewsletterIssue(db.Model):
    """One edition: an introduction and the contributions staff chose, in order."""

    __tablename__ = "newsletter_issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    # {locale: "..."}
    title: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # {locale: "..."} in Markdown.
    intro: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    status: Mapped[IssueStatus] = mapped_column(
        str_enum(IssueStatus), default=IssueStatus.DRAFT, index=True
    )
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    campaign: Mapped[Campaign | None] = relationship()
    contributions: Mapped[list[Contribution]] = relationship(
        back_populates="issue", order_by="Contribution.position"
    )


class ContributionStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Contribution(db.Model):
    """A partner organisation presents its work: title, text and image per language."""

    __tablename__ = "contributions"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    issue_id: Mapped[int | None] = mapped_column(
        ForeignKey("newsletter_issues.id", ondelete="SET NULL"), index=True
    )
    # {locale: {"title": "...", "body": "..."}} — body in Markdown.
    texts: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict)
    image_path: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[ContributionStatus] = mapped_column(
        str_enum(ContributionStatus), default=ContributionStatus.SUBMITTED, index=True
    )
    review_note: Mapped[str | None] = mapped_column(String(2000))
    position: Mapped[int] = mapped_column(Integer, default=0)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship()
    issue: Mapped[NewsletterIssue | None] = relationship(back_populates="contributions")
    submitted_by: Mapped[User | None] = relationship()
