"""Applications from diaspora organisations that want to become partners."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.extensions import db
from outreach.models.organisations import Organisation
from outreach.models.types import UTCDateTime, str_enum, utcnow


class ApplicationStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class PartnerApplication(db.Model):
    __tablename__ = "partner_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_name: Mapped[str] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(500))
    city: Mapped[str | None] = mapped_column(String(120))
    contact_name: Mapped[str] = mapped_column(String(200))
    # Lower-cased, as everywhere.
    contact_email: Mapped[str] = mapped_column(String(254), index=True)
    # Languages the organisation works in (codes), and what it does.
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text)
    # The language the applicant used, for the replies.
    language: Mapped[str] = mapped_column(String(16))
    consent_version: Mapped[str] = mapped_column(String(40))
    consent_language: Mapped[str | None] = mapped_column(String(16))
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime)

    status: Mapped[ApplicationStatus] = mapped_column(
        str_enum(ApplicationStatus), default=ApplicationStatus.PENDING, index=True
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Shown to the applicant when declined.
    decision_note: Mapped[str | None] = mapped_column(Text)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()

    @property
    def is_pending(self) -> bool:
        return self.status is ApplicationStatus.PENDING

    def __repr__(self) -> str:
        return f"<PartnerApplication {self.id} {self.status.value}>"
