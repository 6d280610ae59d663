"""Data-protection requests made by a person on the public page."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from outreach.extensions import db
from outreach.models.types import UTCDateTime, str_enum, utcnow


class PrivacyRequestKind(enum.StrEnum):
    EXPORT = "export"
    ERASURE = "erasure"


class PrivacyRequestStatus(enum.StrEnum):
    # Waiting for the person to open the link we emailed to the address.
    PENDING = "pending"
    # The link was opened: the address belongs to whoever asked.
    CONFIRMED = "confirmed"
    # The export was shown, or the erasure carried out.
    COMPLETED = "completed"


class PrivacyRequest(db.Model):
    """A request for an export or an erasure, proven by a link sent to the address.

    Only the SHA-256 of the link's token is stored. Once an erasure is carried
    out, ``email`` is cleared and only ``email_hash`` (salted, as on the
    suppression list) tells that the request was honoured.
    """

    __tablename__ = "privacy_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[PrivacyRequestKind] = mapped_column(str_enum(PrivacyRequestKind))
    status: Mapped[PrivacyRequestStatus] = mapped_column(
        str_enum(PrivacyRequestStatus), default=PrivacyRequestStatus.PENDING
    )
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    email_hash: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<PrivacyRequest {self.id} {self.kind.value} {self.status.value}>"
