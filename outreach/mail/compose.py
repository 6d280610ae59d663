"""Compose outbox messages at send time: one notify_* function per kind of message.

The outbox row fixes who, what kind and which language; everything else
(the event's time and place, the registration's state) is read when the
message is composed, so a message about an event that moved carries the
current time. A message overtaken by events (a confirmation for someone who
has cancelled since, a reminder for an event called off) raises Superseded,
a kind of Unsendable. The worker calls compose() inside an app context, with
rows loaded using LOAD_OPTIONS.

Each notify_* gets the letter its row needs: a Letter (a registrant, about
an event), a UserLetter (a staff or partner user, about an event under
review), an AccountLetter (about an account, an application or a newsletter
subscription; no event) or a BulkLetter (a campaign's or the newsletter's
message to one person).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from babel.dates import format_timedelta
from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from outreach.extensions import db
from outreach.mail.account_letter import AccountLetter
from outreach.mail.bulk_letter import BulkLetter, issue_url, newsletter_text
from outreach.mail.letter import Letter, MailSettings, paragraphs
from outreach.mail.mime import ComposedMessage, HeaderRefused
from outreach.mail.user_letter import UserLetter
from outreach.models import (
    ACCOUNT_KINDS,
    ACTIVE_STATUSES,
    BULK_KINDS,
    REVIEW_KINDS,
    Announcement,
    ApplicationStatus,
    Event,
    EventStatus,
    MessageKind,
    OutboxMessage,
    PartnerApplication,
    PrivacyRequest,
    PrivacyRequestKind,
    RegistrationStatus,
    Subscriber,
    SubscriberStatus,
    User,
    utcnow,
)
from outreach.services import account_links, campaign_text, newsletter, privacy_requests
from outreach.services.registrations import waitlist_position

Row = TypeVar("Row")

__all__ = ["LOAD_OPTIONS", "ComposedMessage", "Superseded", "Unsendable", "compose"]

# What compose() reads, for the worker to load a batch of rows in a few queries.
LOAD_OPTIONS = (
    selectinload(OutboxMessage.registration),
    selectinload(OutboxMessage.campaign),
    selectinload(OutboxMessage.event).selectinload(Event.translations),
    selectinload(OutboxMessage.event).selectinload(Event.hosts),
    selectinload(OutboxMessage.event).selectinload(Event.topics),
)


class Unsendable(Exception):
    """The message can no longer be composed (its registration or event is gone, …)."""


class Superseded(Unsendable):
    """Nothing is left to say: the person cancelled, the event was called off or has begun."""


def compose(message: OutboxMessage, *, now: datetime | None = None) -> ComposedMessage:
    """Write ``message`` as it should go out now. Raises Unsendable when it cannot."""
    letter_class = _letter_class(message)
    notify = NOTIFIERS.get(message.kind)
    if notify is None:
        raise Unsendable(f"no message is written for kind {message.kind!r}")
    settings = MailSettings.from_config(current_app.config)
    language = settings.language_for(message.language)
    try:
        with force_locale(language):
            letter = letter_class(
                message, settings=settings, language=language, now=now or utcnow()
            )
            return notify(letter)  # type: ignore[arg-type]
    except HeaderRefused as problem:
        raise Unsendable(str(problem)) from problem


def _letter_class(message: OutboxMessage) -> type[Letter | AccountLetter | BulkLetter]:
    """What the row is about: a campaign, an account, an event told to a user, or a registration."""
    if message.kind in BULK_KINDS:
        return BulkLetter
    if message.kind in ACCOUNT_KINDS:
        return AccountLetter
    if message.kind not in REVIEW_KINDS and message.registration is None:
        raise Unsendable("the registration no longer exists")
    if message.event is None:
        raise Unsendable("the event no longer exists")
    return UserLetter if message.kind in REVIEW_KINDS else Letter


def _still(letter: Letter, *statuses: RegistrationStatus) -> None:
    """Raise Superseded unless the event is on and the registration still in one of ``statuses``.

    A message about a state the person has left would only confuse: a
    confirmation after they cancelled, "you are on the waitlist" after the
    promotion, anything but the cancellation once the event is called off.
    """
    if letter.event.status is EventStatus.CANCELLED:
        raise Superseded("the event was cancelled since; that message tells")
    if letter.registration.status not in statuses:
        raise Superseded(f"the registration is {letter.registration.status.value} now")


def notify_registration_confirmed(letter: Letter) -> ComposedMessage:
    """Confirm the seat, with the invitation for the person's calendar."""
    _still(letter, RegistrationStatus.CONFIRMED)
    return letter.write(
        "registration_confirmed",
        subject=_("You are registered: %(title)s", title=letter.title),
        guests=letter.registration.guests,
        **letter.invite(),
        **letter.check_in_code(),
    )


def notify_registration_waitlisted(letter: Letter) -> ComposedMessage:
    """Say the event is full and the person waits in line; no invitation, no online link."""
    _still(letter, RegistrationStatus.WAITLISTED)
    return letter.write(
        "registration_waitlisted",
        subject=_("You are on the waitlist: %(title)s", title=letter.title),
        position=waitlist_position(letter.registration),
    )


def notify_waitlist_promoted(letter: Letter) -> ComposedMessage:
    """Say a seat came free and is now the person's, with the invitation."""
    _still(letter, RegistrationStatus.CONFIRMED)
    return letter.write(
        "waitlist_promoted",
        subject=_("A seat is free for you: %(title)s", title=letter.title),
        **letter.invite(),
        **letter.check_in_code(),
    )


def notify_manage_link(letter: Letter) -> ComposedMessage:
    """Send the private link again to someone who registered a second time."""
    _still(letter, *ACTIVE_STATUSES)
    return letter.write(
        "manage_link",
        subject=_("Your link for %(title)s", title=letter.title),
        status=letter.registration.status.value,
    )


def _held_a_seat(letter: Letter) -> bool:
    """Whether a cancelled registration had been confirmed (directly or from the waitlist)."""
    registration = letter.registration
    return registration.waitlist_seq is None or registration.promoted_at is not None


def notify_registration_cancelled(letter: Letter) -> ComposedMessage:
    """Confirm the person's own cancellation; take the event out of their calendar."""
    return letter.write(
        "registration_cancelled",
        subject=_("Your registration is cancelled: %(title)s", title=letter.title),
        **(letter.cancellation() if _held_a_seat(letter) else {}),
    )


# What a changed field means to a reader; several fields can mean the same.
CHANGE_LABELS = {
    "starts_at": _l("the time"),
    "ends_at": _l("the time"),
    "timezone": _l("the time"),
    "venue_name": _l("the place"),
    "venue_address": _l("the place"),
    "venue_city": _l("the place"),
    "online_url": _l("the online link"),
    "title": _l("the title"),
}


def _changes_in_words(changed: list[str]) -> str:
    labels = dict.fromkeys(str(CHANGE_LABELS[name]) for name in changed if name in CHANGE_LABELS)
    return ", ".join(labels)


def notify_event_updated(letter: Letter) -> ComposedMessage:
    """Tell what changed and the event as it is now, with the updated invitation."""
    _still(letter, *ACTIVE_STATUSES)
    return letter.write(
        "event_updated",
        subject=_("Changed: %(title)s", title=letter.title),
        changes=_changes_in_words((letter.message.payload or {}).get("changed") or []),
        **letter.invite(),
    )


def notify_event_cancelled(letter: Letter) -> ComposedMessage:
    """Say the event is off and why; take it out of the calendars of those who had a seat."""
    if letter.event.status is not EventStatus.CANCELLED:
        raise Superseded("the event is no longer cancelled")
    return letter.write(
        "event_cancelled",
        subject=_("Cancelled: %(title)s", title=letter.title),
        reason=(letter.event.cancellation_reason or "").strip(),
        **(letter.cancellation() if letter.holds_seat else {}),
    )


def notify_reminder(letter: Letter) -> ComposedMessage:
    """Remind a person with a seat that the event is near; offer to release the seat."""
    _still(letter, RegistrationStatus.CONFIRMED)
    if letter.event.starts_at <= letter.now:
        raise Superseded("the event has already started")
    starts_in = format_timedelta(
        letter.event.starts_at - letter.now, add_direction=True, locale=letter.language
    )
    return letter.write(
        "reminder",
        subject=_("Reminder: %(title)s starts %(when)s", title=letter.title, when=starts_in),
        starts_in=starts_in,
        cancel_url=letter.cancel_url,
    )


def _row(model: type[Row], key: object, what: str) -> Row:
    """The row of ``model`` a payload names by id; Unsendable when it is gone."""
    # JSON gives ints; anything else (True is an int too) names no row.
    row = db.session.get(model, key) if type(key) is int else None
    if row is None:
        raise Unsendable(f"the {what} no longer exists")
    return row


def notify_announcement(letter: Letter) -> ComposedMessage:
    """Pass a host's message on to a registrant: as plain text, with the event and their link."""
    _still(letter, *ACTIVE_STATUSES)
    announcement = _row(
        Announcement, (letter.message.payload or {}).get("announcement"), "announcement"
    )
    if announcement.event_id != letter.event.id:
        raise Unsendable("the announcement is about another event")
    subject = announcement.subject
    if letter.title.casefold() not in subject.casefold():
        subject = _("%(title)s: %(subject)s", title=letter.title, subject=subject)
    return letter.write(
        "announcement",
        subject=subject,
        message_text=paragraphs(announcement.body),
        status=letter.registration.status.value,
    )


# -- to the people who work on an event -------------------------------------------


def notify_event_submitted(letter: UserLetter) -> ComposedMessage:
    """Tell staff that hosts submitted an event for review, with their note."""
    if letter.event.status is not EventStatus.SUBMITTED:
        raise Superseded(f"the event is {letter.event.status.value} now")
    return letter.write(
        "event_submitted",
        subject=_(
            "%(person)s submitted %(title)s for review", person=letter.actor, title=letter.title
        ),
        link=letter.workspace_url("staff"),
    )


def notify_changes_requested(letter: UserLetter) -> ComposedMessage:
    """Tell the hosts what staff would like changed before publishing."""
    if letter.event.status is not EventStatus.DRAFT:
        raise Superseded(f"the event is {letter.event.status.value} now")
    return letter.write(
        "changes_requested",
        subject=_("Changes requested: %(title)s", title=letter.title),
        link=letter.workspace_url("partner"),
    )


def notify_event_published(letter: UserLetter) -> ComposedMessage:
    """Tell the hosts their event is live, with its public page and their workspace."""
    if letter.event.status is not EventStatus.PUBLISHED:
        raise Superseded(f"the event is {letter.event.status.value} now")
    return letter.write(
        "event_published",
        subject=_("Published: %(title)s", title=letter.title),
        link=letter.workspace_url("partner"),
    )


# -- about an account ----------------------------------------------------------


def _link_user(letter: AccountLetter, purpose: str) -> User:
    """The user the link is for; Superseded when it no longer works (used, expired, deactivated)."""
    user = account_links.verify_link_token(letter.token or "", purpose)
    if user is None:
        raise Superseded("the link has been used, has expired or its user is deactivated")
    return user


def notify_password_reset(letter: AccountLetter) -> ComposedMessage:
    """Send the link to choose a new password; it works once, for a limited time."""
    _link_user(letter, account_links.RESET)
    return letter.write(
        "password_reset",
        subject=_("Choose a new password for %(site)s", site=letter.settings.site_name),
        link=letter.link("/password/reset/"),
        minutes=max(current_app.config["PASSWORD_RESET_MAX_AGE"] // 60, 1),
    )


def notify_user_invitation(letter: AccountLetter) -> ComposedMessage:
    """Invite a partner user to set a password for their organisation's account."""
    user = _link_user(letter, account_links.INVITATION)
    return letter.write(
        "user_invitation",
        subject=_("You are invited to %(site)s", site=letter.settings.site_name),
        link=letter.link("/invitation/"),
        organisation=user.organisation.name if user.organisation else "",
        invited_by=(letter.message.payload or {}).get("invited_by") or "",
        days=max(current_app.config["INVITATION_MAX_AGE"] // 86400, 1),
        # An accepted application: the organisation is new, welcome it.
        welcome=(letter.message.payload or {}).get("application") is True,
    )


def _application(letter: AccountLetter) -> PartnerApplication:
    return _row(
        PartnerApplication, (letter.message.payload or {}).get("application"), "application"
    )


def notify_application_received(letter: AccountLetter) -> ComposedMessage:
    """Thank an organisation for applying to become a partner; say that we will answer."""
    application = _application(letter)
    if not application.is_pending:
        raise Superseded("the application has been decided since; that message tells")
    return letter.write(
        "application_received",
        subject=_("Your application to %(site)s", site=letter.settings.site_name),
        organisation=application.organisation_name,
    )


def notify_application_declined(letter: AccountLetter) -> ComposedMessage:
    """Say kindly that we do not take the organisation on as a partner, with staff's note."""
    application = _application(letter)
    if application.status is not ApplicationStatus.DECLINED:
        raise Superseded(f"the application is {application.status.value} now")
    return letter.write(
        "application_declined",
        subject=_("Your application to %(site)s", site=letter.settings.site_name),
        organisation=application.organisation_name,
        note=paragraphs(application.decision_note),
        events_url=f"{letter.settings.calendar.base_url}/",
    )


def notify_newsletter_confirmation(letter: AccountLetter) -> ComposedMessage:
    """Send the link that makes a newsletter subscription active (double opt-in)."""
    subscriber = _row(Subscriber, (letter.message.payload or {}).get("subscriber"), "subscriber")
    if subscriber.status is not SubscriberStatus.PENDING:
        raise Superseded(f"the subscription is {subscriber.status.value} now")
    if newsletter.subscriber_for_token(letter.token or "") is None:
        raise Superseded("the confirmation link has expired")
    max_age = current_app.config.get(
        "NEWSLETTER_CONFIRMATION_MAX_AGE", newsletter.DEFAULT_CONFIRMATION_MAX_AGE
    )
    return letter.write(
        "newsletter_confirmation",
        subject=_(
            "Please confirm your subscription to the %(site)s newsletter",
            site=letter.settings.site_name,
        ),
        link=newsletter.confirmation_url(letter.token or ""),
        days=ngettext("%(num)d day", "%(num)d days", max(max_age // 86400, 1)),
    )


def notify_privacy_request(letter: AccountLetter) -> ComposedMessage:
    """Send the link behind which a person sees or erases their data; say what it does."""
    request = _row(PrivacyRequest, (letter.message.payload or {}).get("request"), "request")
    if not privacy_requests.link_is_current(request, letter.token or "", now=letter.now):
        raise Superseded("the request has been taken up or has expired")
    hours = max(int(privacy_requests.max_age().total_seconds()) // 3600, 1)
    erasure = request.kind is PrivacyRequestKind.ERASURE
    site = letter.settings.site_name
    return letter.write(
        "privacy_request",
        subject=(
            _("Your request to erase your data at %(site)s", site=site)
            if erasure
            else _("Your request for a copy of your data at %(site)s", site=site)
        ),
        erasure=erasure,
        link=letter.link("/privacy/request/"),
        hours=ngettext("%(num)d hour", "%(num)d hours", hours),
    )


# -- bulk mail: campaigns and the newsletter ------------------------------------


def _still_wanted(letter: BulkLetter) -> None:
    """Raise Unsendable without a campaign, Superseded when the message is no longer wanted."""
    if letter.campaign is None:
        raise Unsendable("the campaign no longer exists")
    reason = letter.stale_reason()
    if reason is not None:
        raise Superseded(reason)


def _campaign_message(letter: BulkLetter) -> ComposedMessage:
    """The campaign's text in the recipient's version, with its placeholders filled in."""
    version = letter.version()
    if version is None:
        raise Unsendable("the campaign has no text to send")
    locale, text = version
    subject, body = text["subject"], text.get("body") or ""
    context = campaign_text.context_for(
        letter.recipient(),
        campaign=letter.campaign,
        unsubscribe_url=letter.unsubscribe_url,
        preferences_url=letter.preferences_url,
        manage_url=letter.manage_url_if_used(subject, body),
    )
    try:
        rendered = campaign_text.render(subject, body, context)
    except campaign_text.CampaignTextError as problem:
        raise Unsendable(f"the text cannot be written: {problem.message}") from problem
    with letter.speaking(locale):
        return letter.write(
            "campaign",
            subject=rendered.subject,
            content_html=rendered.html,
            content_text=rendered.text,
        )


def notify_campaign(letter: BulkLetter) -> ComposedMessage:
    """Send a campaign's message: the staff's text for the person, with a way out."""
    _still_wanted(letter)
    return _campaign_message(letter)


def notify_newsletter(letter: BulkLetter) -> ComposedMessage:
    """Send the newsletter issue the campaign carries (or, without one, the campaign's text)."""
    _still_wanted(letter)
    issue = letter.issue()
    if issue is None:
        return _campaign_message(letter)
    locale = letter.message.language
    content = newsletter_text(issue, locale)
    with letter.speaking(locale):
        return letter.write(
            "newsletter",
            subject=content.subject,
            intro_html=content.intro_html,
            intro_text=content.intro_text,
            items=content.items,
            web_url=issue_url(issue, letter.settings.calendar.base_url),
        )


NOTIFIERS: dict[MessageKind, Callable[..., ComposedMessage]] = {
    MessageKind.REGISTRATION_CONFIRMED: notify_registration_confirmed,
    MessageKind.REGISTRATION_WAITLISTED: notify_registration_waitlisted,
    MessageKind.WAITLIST_PROMOTED: notify_waitlist_promoted,
    MessageKind.MANAGE_LINK: notify_manage_link,
    MessageKind.REGISTRATION_CANCELLED: notify_registration_cancelled,
    MessageKind.EVENT_UPDATED: notify_event_updated,
    MessageKind.EVENT_CANCELLED: notify_event_cancelled,
    MessageKind.REMINDER: notify_reminder,
    MessageKind.PASSWORD_RESET: notify_password_reset,
    MessageKind.USER_INVITATION: notify_user_invitation,
    MessageKind.EVENT_SUBMITTED: notify_event_submitted,
    MessageKind.CHANGES_REQUESTED: notify_changes_requested,
    MessageKind.EVENT_PUBLISHED: notify_event_published,
    MessageKind.ANNOUNCEMENT: notify_announcement,
    MessageKind.APPLICATION_RECEIVED: notify_application_received,
    MessageKind.APPLICATION_DECLINED: notify_application_declined,
    MessageKind.NEWSLETTER_CONFIRMATION: notify_newsletter_confirmation,
    MessageKind.PRIVACY_REQUEST: notify_privacy_request,
    MessageKind.CAMPAIGN: notify_campaign,
    MessageKind.NEWSLETTER: notify_newsletter,
}
