"""Organisations: the host organisation and its diaspora partner organisations."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.extensions import db
from outreach.models.types import UTCDateTime, utcnow
from outreach.translation import pick_translation

if TYPE_CHECKING:
    from outreach.models.events import Event


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Short description per locale: {"de": "...", "en": "..."}.
    description: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    website: Mapped[str | None] = mapped_column(String(500))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    logo_path: Mapped[str | None] = mapped_column(String(500))
    # The organisation that runs this Outreach instance; partners are the rest.
    is_host: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    events: Mapped[list[Event]] = relationship(
        secondary="event_hosts", back_populates="hosts", viewonly=True
    )

    def description_in(self, locale: str) -> str:
        return pick_translation(self.description or {}, locale) or ""

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"
