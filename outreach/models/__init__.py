"""The data model, one module per aggregate; import from here."""

from outreach.models.announcements import Announcement, Audience
from outreach.models.applications import ApplicationStatus, PartnerApplication
from outreach.models.audit import AuditEntry
from outreach.models.campaigns import Campaign, CampaignKind, CampaignStatus
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
    BULK_KINDS,
    REVIEW_KINDS,
    DeliveryProblem,
    DeliveryReport,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    Suppression,
    SuppressionReason,
    SuppressionScope,
)
from outreach.models.newsletter import (
    Contribution,
    ContributionStatus,
    IssueStatus,
    NewsletterIssue,
    Subscriber,
    SubscriberStatus,
)
from outreach.models.organisations import Organisation
from outreach.models.privacy import PrivacyRequest, PrivacyRequestKind, PrivacyRequestStatus
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
    "BULK_KINDS",
    "DEFAULT_REMINDER_OFFSETS",
    "DEFAULT_TIMEZONE",
    "REVIEW_KINDS",
    "Announcement",
    "ApiToken",
    "ApplicationStatus",
    "Audience",
    "AuditEntry",
    "Campaign",
    "CampaignKind",
    "CampaignStatus",
    "Contribution",
    "ContributionStatus",
    "DeliveryProblem",
    "DeliveryReport",
    "Event",
    "EventLanguage",
    "EventStatus",
    "EventTranslation",
    "IssueStatus",
    "ManageToken",
    "MessageKind",
    "MessageStatus",
    "NewsletterIssue",
    "Organisation",
    "OutboxMessage",
    "PartnerApplication",
    "PrivacyRequest",
    "PrivacyRequestKind",
    "PrivacyRequestStatus",
    "QuestionKind",
    "Registration",
    "RegistrationQuestion",
    "RegistrationStatus",
    "RegistrationWindow",
    "Role",
    "Subscriber",
    "SubscriberStatus",
    "Suppression",
    "SuppressionReason",
    "SuppressionScope",
    "Topic",
    "User",
    "event_hosts",
    "event_topics",
    "utcnow",
]
