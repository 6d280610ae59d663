"""Events, their language versions, hosts, topics and registration questions."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, attribute_keyed_dict, mapped_column, relationship

from outreach.extensions import db
from outreach.models.organisations import Organisation
from outreach.models.types import UTCDateTime, str_enum, utcnow
from outreach.translation import pick_translation

if TYPE_CHECKING:
    from outreach.models.registrations import Registration

DEFAULT_TIMEZONE = "Europe/Berlin"
DEFAULT_REMINDER_OFFSETS = (24 * 60, 2 * 60)


class EventStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class RegistrationWindow(enum.StrEnum):
    """Whether an event takes registrations right now, and if not, why."""

    OPEN = "open"
    NOT_YET_OPEN = "not_yet_open"
    CLOSED = "closed"
    PAST = "past"
    CANCELLED = "cancelled"
    UNPUBLISHED = "unpublished"


event_hosts = Table(
    "event_hosts",
    db.metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "organisation_id",
        ForeignKey("organisations.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    # The lead host comes first (position 0) wherever hosts are listed.
    Column("position", Integer, nullable=False, default=0),
)

event_topics = Table(
    "event_topics",
    db.metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Topic(db.Model):
    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    # Name per locale: {"de": "Bildung", "en": "Education"}.
    names: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)

    def name_in(self, locale: str) -> str:
        return pick_translation(self.names or {}, locale) or self.slug


class Event(db.Model):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("max_guests >= 0", name="max_guests_not_negative"),
        # Never reuse an id on SQLite: outbox dedupe keys and calendar UIDs refer to it.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable identity for calendars (the iCalendar UID is built from it).
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[EventStatus] = mapped_column(
        str_enum(EventStatus), default=EventStatus.DRAFT, index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)

    venue_name: Mapped[str | None] = mapped_column(String(200))
    venue_address: Mapped[str | None] = mapped_column(String(300))
    venue_city: Mapped[str | None] = mapped_column(String(120))
    # Given only to registered people, never shown on public pages or feeds.
    online_url: Mapped[str | None] = mapped_column(String(500))

    capacity: Mapped[int | None] = mapped_column(Integer)
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waitlist_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    max_guests: Mapped[int] = mapped_column(Integer, default=0)
    contact_email: Mapped[str | None] = mapped_column(String(254))

    # iCalendar SEQUENCE: bumped when time, place or title change, and on cancellation.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    # Reminders before the start, in minutes (default: a day and two hours).
    reminders_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    reminder_offsets: Mapped[list[int]] = mapped_column(
        JSON, default=lambda: list(DEFAULT_REMINDER_OFFSETS)
    )
    # Review: what staff asked to change last, and when the event moved on.
    # Days after the event ends until its registrations are anonymised; None: the
    # configured default (RETENTION_DAYS).
    retention_days: Mapped[int | None] = mapped_column(Integer)
    review_comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    translations: Mapped[dict[str, EventTranslation]] = relationship(
        collection_class=attribute_keyed_dict("locale"),
        cascade="all, delete-orphan",
        back_populates="event",
    )
    hosts: Mapped[list[Organisation]] = relationship(
        secondary=event_hosts, order_by=event_hosts.c.position, back_populates="events"
    )
    topics: Mapped[list[Topic]] = relationship(secondary=event_topics, order_by=Topic.slug)
    language_rows: Mapped[list[EventLanguage]] = relationship(
        cascade="all, delete-orphan", order_by="EventLanguage.code"
    )
    questions: Mapped[list[RegistrationQuestion]] = relationship(
        cascade="all, delete-orphan",
        order_by="RegistrationQuestion.position",
        back_populates="event",
    )
    registrations: Mapped[list[Registration]] = relationship(
        back_populates="event", cascade="all, delete-orphan", passive_deletes=True
    )

    # ``seats_taken`` (seats held by confirmed registrations) is mapped in
    # models.registrations, where Registration is known.

    # -- language versions ---------------------------------------------------

    def text(self, locale: str) -> EventTranslation:
        """Return the language version for ``locale``, falling back to another."""
        chosen = pick_translation(self.translations, locale)
        return chosen or EventTranslation(
            locale=locale, title=self.slug, summary="", description=""
        )

    @property
    def languages(self) -> list[str]:
        """Codes of the languages the event is held in."""
        return [row.code for row in self.language_rows]

    @languages.setter
    def languages(self, codes: list[str]) -> None:
        self.language_rows = [EventLanguage(code=code) for code in dict.fromkeys(codes)]

    # -- time and place ------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.zone)

    @property
    def local_end(self) -> datetime:
        return self.ends_at.astimezone(self.zone)

    @property
    def is_online(self) -> bool:
        return bool(self.online_url)

    @property
    def is_in_person(self) -> bool:
        return bool(self.venue_name or self.venue_address)

    @property
    def is_hybrid(self) -> bool:
        return self.is_online and self.is_in_person

    # -- registration --------------------------------------------------------

    @property
    def seats_left(self) -> int | None:
        """Free seats, or None when the event has no capacity limit."""
        if self.capacity is None:
            return None
        return max(self.capacity - self.seats_taken, 0)

    @property
    def is_full(self) -> bool:
        return self.capacity is not None and self.seats_taken >= self.capacity

    def registration_window(self, now: datetime) -> RegistrationWindow:
        if self.status is EventStatus.CANCELLED:
            return RegistrationWindow.CANCELLED
        if self.status is not EventStatus.PUBLISHED:
            return RegistrationWindow.UNPUBLISHED
        if self.starts_at <= now:
            return RegistrationWindow.PAST
        if self.registration_opens_at and now < self.registration_opens_at:
            return RegistrationWindow.NOT_YET_OPEN
        if self.registration_closes_at and now >= self.registration_closes_at:
            return RegistrationWindow.CLOSED
        return RegistrationWindow.OPEN

    def is_upcoming(self, now: datetime) -> bool:
        return self.ends_at > now

    # -- review ----------------------------------------------------------------

    @property
    def is_draft(self) -> bool:
        return self.status is EventStatus.DRAFT

    @property
    def changes_requested(self) -> bool:
        """A draft that staff sent back with a comment."""
        return self.status is EventStatus.DRAFT and bool(self.review_comment)

    @property
    def lead_host(self) -> Organisation | None:
        return self.hosts[0] if self.hosts else None

    def title_in(self, locale: str) -> str:
        return self.text(locale).title

    def __repr__(self) -> str:
        return f"<Event {self.slug} {self.status.value}>"


class EventTranslation(db.Model):
    __tablename__ = "event_translations"
    __table_args__ = (UniqueConstraint("event_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")

    event: Mapped[Event] = relationship(back_populates="translations")


class EventLanguage(db.Model):
    """A language the event is held in (not the language of its texts)."""

    __tablename__ = "event_languages"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)


class QuestionKind(enum.StrEnum):
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    CHECKBOX = "checkbox"


class RegistrationQuestion(db.Model):
    """An extra question on an event's registration form."""

    __tablename__ = "registration_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[QuestionKind] = mapped_column(str_enum(QuestionKind))
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    # Label per locale: {"de": "Brauchen Sie …?", "en": "Do you need …?"}.
    label: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # For choices: [{"value": "vegan", "label": {"de": "vegan", "en": "vegan"}}, …].
    options: Mapped[list[dict]] = mapped_column(JSON, default=list)

    event: Mapped[Event] = relationship(back_populates="questions")

    MAX_TEXT_LENGTH = {QuestionKind.SHORT_TEXT: 200, QuestionKind.LONG_TEXT: 2000}

    def label_in(self, locale: str) -> str:
        return pick_translation(self.label or {}, locale) or ""

    def choices_in(self, locale: str) -> list[tuple[str, str]]:
        return [
            (option["value"], pick_translation(option.get("label", {}), locale) or option["value"])
            for option in self.options or []
        ]

    @property
    def option_values(self) -> set[str]:
        return {option["value"] for option in self.options or []}

    def option_values_in_order(self) -> list[str]:
        return [option["value"] for option in self.options or []]

    @property
    def is_choice(self) -> bool:
        return self.kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE)
