"""The data model, one module per aggregate; import from here."""

from outreach.models.announcements import Announcement, Audience
from outreach.models.applications import ApplicationStatus, PartnerApplication
from outreach.models.audit import AuditEntry
from outreach.models.events import (
    DEFAULT_REMINDER_OFFSETS,
    DEFAULT_TIMEZONE,
    Event,
    EventLanguage,
    EventStatus,
    EventTranslation,
    QuestionKind,
    RegistrationQuestion,
    RegistrationWindow,
    Topic,
    event_hosts,
    event_topics,
)
from outreach.models.mail import (
    ACCOUNT_KINDS,
    REVIEW_KINDS,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    Suppression,
    SuppressionReason,
)
from outreach.models.organisations import Organisation
from outreach.models.registrations import (
    ACTIVE_STATUSES,
    ManageToken,
    Registration,
    RegistrationStatus,
)
from outreach.models.types import utcnow
from outreach.models.users import ApiToken, Role, User

__all__ = [
    "ACCOUNT_KINDS",
    "ACTIVE_STATUSES",
    "DEFAULT_REMINDER_OFFSETS",
    "DEFAULT_TIMEZONE",
    "REVIEW_KINDS",
    "Announcement",
    "ApiToken",
    "ApplicationStatus",
    "Audience",
    "AuditEntry",
    "Event",
    "EventLanguage",
    "EventStatus",
    "EventTranslation",
    "ManageToken",
    "MessageKind",
    "MessageStatus",
    "Organisation",
    "OutboxMessage",
    "PartnerApplication",
    "QuestionKind",
    "Registration",
    "RegistrationQuestion",
    "RegistrationStatus",
    "RegistrationWindow",
    "Role",
    "Suppression",
    "SuppressionReason",
    "Topic",
    "User",
    "event_hosts",
    "event_topics",
    "utcnow",
]
