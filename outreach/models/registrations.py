"""Registrations for an event, and the private links that manage them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    select,
    text,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from outreach.extensions import db
from outreach.models.events import Event, EventStatus
from outreach.models.types import UTCDateTime, str_enum, utcnow


class RegistrationStatus(enum.StrEnum):
    # Reserved for double opt-in by email; nothing creates it yet.
    PENDING = "pending"
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


ACTIVE_STATUSES = (
    RegistrationStatus.PENDING,
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.WAITLISTED,
)


class Registration(db.Model):
    __tablename__ = "registrations"
    __table_args__ = (
        CheckConstraint("guests >= 0", name="guests_not_negative"),
        # One active registration per address and event; cancelled ones may repeat.
        Index(
            "uq_registrations_active_email",
            "event_id",
            "email",
            unique=True,
            sqlite_where=text("status != 'cancelled'"),
            postgresql_where=text("status != 'cancelled'"),
        ),
        # First come, first served: the order in which people joined the waitlist.
        UniqueConstraint("event_id", "waitlist_seq"),
        # Never reuse an id on SQLite: outbox dedupe keys refer to it, and an
        # erased registration's id must not silence a newcomer's confirmation.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Stored normalised and lower-cased, so one person is one address.
    email: Mapped[str] = mapped_column(String(254), index=True)
    language: Mapped[str] = mapped_column(String(16))
    guests: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[RegistrationStatus] = mapped_column(str_enum(RegistrationStatus))
    # {str(question_id): str | list[str] | bool}
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Which consent text the person saw (outreach/services/consent.py), in which language, when.
    consent_version: Mapped[str] = mapped_column(String(40))
    consent_language: Mapped[str | None] = mapped_column(String(16))
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when the person joined the waitlist; kept after a promotion as history.
    waitlist_seq: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when retention or an erasure removed the person: name, address and answers are
    # gone; status, guests and attendance stay for the event's statistics.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set at the door; who let the person in stays for the record.
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    event: Mapped[Event] = relationship(back_populates="registrations")
    tokens: Mapped[list[ManageToken]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def seats(self) -> int:
        """Seats this registration holds or asks for: the person plus guests."""
        return 1 + self.guests

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_checked_in(self) -> bool:
        return self.checked_in_at is not None

    def is_changeable_at(self, now: datetime) -> bool:
        """Whether the person may still change or cancel: active, event on and not started."""
        return (
            self.is_active
            and self.event.status is not EventStatus.CANCELLED
            and self.event.starts_at > now
        )

    @property
    def can_be_changed(self) -> bool:
        return self.is_changeable_at(utcnow())

    @property
    def can_be_cancelled(self) -> bool:
        return self.can_be_changed

    def __repr__(self) -> str:
        return f"<Registration {self.id} {self.status.value}>"


class ManageToken(db.Model):
    """A private link to a registration; only the SHA-256 of the token is kept.

    Every message that carries a link carries its own token, so sending a
    fresh link never breaks one already in the person's mailbox.
    """

    __tablename__ = "manage_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    registration: Mapped[Registration] = relationship(back_populates="tokens")


def seats_taken_expression():
    """SQL for the seats held by confirmed registrations of the outer event."""
    return (
        select(func.coalesce(func.sum(1 + Registration.guests), 0))
        .where(
            Registration.event_id == Event.id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
        .correlate_except(Registration)
        .scalar_subquery()
    )


Event.seats_taken = column_property(seats_taken_expression(), deferred=True)
