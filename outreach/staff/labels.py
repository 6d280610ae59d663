"""Words for the codes staff pages show: states, kinds of message, audit actions, fields."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

EVENT_STATUS = {
    "draft": _l("Draft"),
    "submitted": _l("Waiting for review"),
    "published": _l("Published"),
    "cancelled": _l("Cancelled"),
}

MESSAGE_STATUS = {
    "queued": _l("Queued"),
    "sending": _l("Being sent"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
    "skipped": _l("Skipped"),
}

MESSAGE_KIND = {
    "registration_confirmed": _l("Registration confirmed"),
    "registration_waitlisted": _l("On the waitlist"),
    "waitlist_promoted": _l("Moved up from the waitlist"),
    "registration_cancelled": _l("Registration cancelled"),
    "manage_link": _l("Link to a registration"),
    "event_updated": _l("Event changed"),
    "event_cancelled": _l("Event cancelled"),
    "reminder": _l("Reminder"),
    "password_reset": _l("Password reset"),
    "user_invitation": _l("Invitation to an account"),
    "event_submitted": _l("Event submitted for review"),
    "changes_requested": _l("Changes requested"),
    "event_published": _l("Event published"),
    "announcement": _l("Message to registrants"),
    "application_received": _l("Partner application received"),
    "application_declined": _l("Partner application declined"),
    "campaign": _l("Campaign"),
    "newsletter": _l("Newsletter"),
    "newsletter_confirmation": _l("Newsletter confirmation"),
    "privacy_request": _l("Data-protection request"),
}

AUDIT_ACTION = {
    "event.created": _l("created the event"),
    "event.updated": _l("changed the event"),
    "event.submitted": _l("submitted the event for review"),
    "event.changes_requested": _l("asked for changes"),
    "event.published": _l("published the event"),
    "event.rescheduled": _l("moved the event"),
    "event.cancelled": _l("cancelled the event"),
    "event.registrations_anonymised": _l("anonymised the registrations"),
    "organisation.created": _l("added the organisation"),
    "user.deactivated": _l("deactivated the account"),
    "user.activated": _l("activated the account"),
}

FIELD = {
    "status": _l("Status"),
    "review_comment": _l("Review comment"),
    "starts_at": _l("Starts"),
    "ends_at": _l("Ends"),
    "timezone": _l("Time zone"),
    "venue_name": _l("Venue"),
    "venue_address": _l("Address"),
    "venue_city": _l("City"),
    "online_url": _l("Online link"),
    "capacity": _l("Capacity"),
    "waitlist_enabled": _l("Waitlist"),
    "max_guests": _l("Guests per registration"),
    "registration_opens_at": _l("Registration opens"),
    "registration_closes_at": _l("Registration closes"),
    "contact_email": _l("Contact email"),
    "reminders_enabled": _l("Reminders"),
    "retention_days": _l("Days until registrations are anonymised"),
    "registrations_anonymised": _l("Registrations anonymised"),
    "languages": _l("Held in"),
    "hosts": _l("Hosts"),
    "topics": _l("Topics"),
    "questions": _l("Registration questions"),
    "cancelled_at": _l("Cancelled on"),
    "cancellation_reason": _l("Reason for cancelling"),
    "title": _l("Title"),
    "summary": _l("Summary"),
    "description": _l("Description"),
    "name": _l("Name"),
    "slug": _l("Short name"),
    "website": _l("Website"),
    "is_active": _l("Account active"),
}

# Fields that hold a point in time (ISO strings in the audit log).
TIME_FIELDS = frozenset(
    {"starts_at", "ends_at", "registration_opens_at", "registration_closes_at", "cancelled_at"}
)
