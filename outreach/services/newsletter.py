"""The newsletter for readers: subscribing with double opt-in, and the issues as they read them.

Subscribing writes (or refreshes) a PENDING subscriber with the consent the
person gave (which text version, in which language, when, from where) and
owes them one email with a confirmation link, in the same transaction. Only
the POST behind that link makes the subscription ACTIVE; bulk mail goes to
ACTIVE subscribers only (see services.segments). The answer to a subscription
is the same whatever the address's state, so nobody learns who subscribed.

The confirmation link is a signed token (itsdangerous, its own salt) naming
the subscriber and their address; it expires after
NEWSLETTER_CONFIRMATION_MAX_AGE seconds. At most one confirmation mail goes
to a subscriber in each window of CONFIRMATION_MAIL_WINDOW seconds, however
often someone submits the form with their address.

``issue_content`` is what a published issue says in one language: the web
archive and the newsletter email both render it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, TypeVar
from urllib.parse import quote

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeTimedSerializer
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from outreach.database import begin_write
from outreach.extensions import db
from outreach.mail.outbox import enqueue
from outreach.mail.suppression import lift
from outreach.models import (
    Contribution,
    ContributionStatus,
    IssueStatus,
    MessageKind,
    NewsletterIssue,
    Subscriber,
    SubscriberStatus,
    SuppressionScope,
    Topic,
    utcnow,
)
from outreach.rich_text import render_markdown
from outreach.services import consent
from outreach.services.contributions import image_url
from outreach.services.errors import DomainError, InvalidInput
from outreach.services.registration_input import MAX_NAME_LENGTH, clean_email, clean_name
from outreach.translation import pick_translation

# What the consent checkbox on the subscribe form says now (the texts, in every language,
# are in services/consent.py); a new wording gets a new version.
NEWSLETTER_CONSENT_VERSION = consent.CURRENT_VERSIONS[consent.Purpose.NEWSLETTER]
CONFIRMATION_SALT = "outreach.newsletter-confirmation"
DEFAULT_CONFIRMATION_MAX_AGE = 7 * 24 * 3600
# At most one confirmation mail per subscriber in each window of this many seconds.
CONFIRMATION_MAIL_WINDOW = 600
MAX_INTERESTS = 50

T = TypeVar("T")


class LinkInvalid(DomainError):
    """The confirmation link is forged, expired, or its subscriber has left or is gone."""

    default_message = _l(
        "This confirmation link is not valid any more. Please subscribe again: "
        "we will send you a new link."
    )


# -- subscribing -------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CONFIRMATION_SALT)


def _max_age() -> int:
    return int(
        current_app.config.get("NEWSLETTER_CONFIRMATION_MAX_AGE", DEFAULT_CONFIRMATION_MAX_AGE)
    )


def confirmation_token(subscriber: Subscriber) -> str:
    """Return the signed token of the link that confirms ``subscriber``'s subscription."""
    return _serializer().dumps({"s": subscriber.id, "e": subscriber.email})


def confirmation_url(token: str) -> str:
    """``{BASE_URL}/newsletter/confirm/<token>``: a page with one button that confirms."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return f"{base}/newsletter/confirm/{quote(token, safe='')}"


def subscriber_for_token(token: str) -> Subscriber | None:
    """Return the subscriber a confirmation token names, or None if it is bad or expired.

    A subscriber who has unsubscribed since is None too: only a new
    subscription (with a new consent) brings them back.
    """
    if not isinstance(token, str) or not token or len(token) > 1000:
        return None
    try:
        data = _serializer().loads(token, max_age=_max_age())
        subscriber_id, email = int(data["s"]), str(data["e"])
    except (BadData, KeyError, TypeError, ValueError):
        return None
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.email != email:
        return None
    if subscriber.status is SubscriberStatus.UNSUBSCRIBED:
        return None
    return subscriber


def topic_choices() -> list[Topic]:
    """Return the topics a subscriber may choose as interests, by slug."""
    return list(db.session.scalars(select(Topic).order_by(Topic.slug)))


def _clean_interests(raw: Iterable[str] | None, errors: dict[str, str]) -> list[str]:
    chosen = list(dict.fromkeys(raw or ()))
    if not chosen:
        return []
    # No slug holds NUL or other unprintables (PostgreSQL refuses NUL): such a choice is unknown.
    asked = [slug for slug in chosen[:MAX_INTERESTS] if str(slug).isprintable()]
    known = set(db.session.scalars(select(Topic.slug).where(Topic.slug.in_(asked))))
    if len(chosen) > MAX_INTERESTS or any(slug not in known for slug in chosen):
        errors["interests"] = _("Please choose topics from the list.")
        return []
    return sorted(chosen)


@dataclass
class SubscriptionInput:
    """What a person enters on the subscribe form."""

    email: str
    language: str
    consent: bool
    consent_language: str
    name: str = ""
    interests: list[str] | None = None
    ip: str | None = None


def _checked(data: SubscriptionInput) -> tuple[str, str, list[str]]:
    """Return the address, name and interests; raise InvalidInput naming every problem."""
    errors: dict[str, str] = {}
    email = name = ""
    try:
        email = clean_email(data.email)
    except ValueError as problem:
        errors["email"] = str(problem)
    if isinstance(data.name, str) and data.name.strip():
        try:
            name = clean_name(data.name)
        except ValueError as problem:
            errors["name"] = str(problem)
    languages = current_app.config["LANGUAGES"]
    if data.language not in languages:
        errors["language"] = _("Please choose one of the offered languages.")
    interests = _clean_interests(data.interests, errors)
    if data.consent is not True:
        errors["consent"] = _("Please agree, or we may not send you the newsletter.")
    if data.consent_language not in languages:
        errors["consent"] = _("Please agree, or we may not send you the newsletter.")
    if errors:
        raise InvalidInput(errors)
    return email, name, interests


def subscription_problems(data: SubscriptionInput) -> dict[str, str]:
    """Return every problem with ``data`` by field (empty when it may be subscribed)."""
    try:
        _checked(data)
    except InvalidInput as problem:
        return problem.errors
    return {}


def _pending(email: str) -> Subscriber:
    """Return the locked subscriber with ``email``, or a new one (not yet flushed)."""
    found = db.session.scalar(select(Subscriber).where(Subscriber.email == email).with_for_update())
    return found or Subscriber(email=email, status=SubscriberStatus.PENDING)


def _record_consent(
    subscriber: Subscriber, data: SubscriptionInput, name: str, interests: list[str], now: datetime
) -> None:
    subscriber.name = name[:MAX_NAME_LENGTH]
    subscriber.language = data.language
    subscriber.interests = interests
    subscriber.status = SubscriberStatus.PENDING
    agreed = consent.given(consent.Purpose.NEWSLETTER, data.consent_language)
    subscriber.consent_version = agreed.version
    subscriber.consent_language = agreed.language
    subscriber.consented_at = now
    subscriber.consent_ip = (data.ip or "")[:45] or None
    subscriber.unsubscribed_at = None


def _write_subscription(
    data: SubscriptionInput, email: str, name: str, interests: list[str], now: datetime
) -> None:
    begin_write()
    subscriber = _pending(email)
    if subscriber.status is SubscriberStatus.ACTIVE:
        # Subscribed already: nothing to confirm, and no stranger may change their choices.
        db.session.rollback()
        return
    _record_consent(subscriber, data, name, interests, now)
    db.session.add(subscriber)
    db.session.flush()
    bucket = int(now.timestamp()) // CONFIRMATION_MAIL_WINDOW
    enqueue(
        MessageKind.NEWSLETTER_CONFIRMATION,
        recipient=subscriber.email,
        recipient_name=subscriber.name,
        language=subscriber.language,
        dedupe_key=f"newsletter_confirmation:{subscriber.id}:{bucket}",
        payload={"subscriber": subscriber.id, "token": confirmation_token(subscriber)},
    )
    db.session.commit()


def subscribe(data: SubscriptionInput, *, now: datetime | None = None) -> None:
    """Record a subscription waiting for its confirmation and owe the confirmation mail; commits.

    A new or unsubscribed address becomes PENDING with the consent given now;
    a PENDING one gets its consent and choices refreshed; an ACTIVE one stays
    as it is and gets no mail. The caller cannot tell which happened. Raises
    InvalidInput (keys ``email``, ``name``, ``language``, ``interests``, ``consent``).
    """
    email, name, interests = _checked(data)
    now = now or utcnow()
    for attempt in (1, 2):
        try:
            _write_subscription(data, email, name, interests, now)
            return
        except IntegrityError:
            # Someone subscribed the same address a moment ago: their row is there now.
            db.session.rollback()
            if attempt == 2:
                raise
        except BaseException:
            db.session.rollback()
            raise


def confirm(token: str, *, now: datetime | None = None) -> Subscriber:
    """Make the subscription the token names ACTIVE; commits. Raises LinkInvalid.

    Confirming twice is harmless. An earlier unsubscription from the
    newsletter is lifted: the person has just asked for it again.
    """
    if subscriber_for_token(token) is None:
        raise LinkInvalid()
    try:
        begin_write()
        subscriber = subscriber_for_token(token)
        if subscriber is None:
            raise LinkInvalid()
        db.session.refresh(subscriber, with_for_update=True)
        if subscriber.status is SubscriberStatus.UNSUBSCRIBED:
            raise LinkInvalid()
        if subscriber.status is SubscriberStatus.PENDING:
            subscriber.status = SubscriberStatus.ACTIVE
            subscriber.confirmed_at = now or utcnow()
            lift(subscriber.email, SuppressionScope.NEWSLETTER)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return subscriber


# -- what an issue says ------------------------------------------------------------------


class IssueItem(NamedTuple):
    """One contribution as readers see it; ``body_html`` is sanitised."""

    organisation: str
    title: str
    body_html: Markup
    image_url: str | None
    # The language the title and text are in (the reader's, or a fallback).
    language: str = ""


class IssueContent(NamedTuple):
    subject: str
    intro_html: Markup
    items: list[IssueItem]
    # The languages the title and the introduction are in.
    language: str = ""
    intro_language: str = ""


def _pick(versions: dict[str, T], locale: str) -> tuple[str, T | None]:
    """Return the version for ``locale`` in the usual fallback order, with its language."""
    chosen = pick_translation(versions, locale)
    for code, value in versions.items():
        if chosen is not None and value is chosen:
            return code, value
    return locale, None


def issue_content(issue: NewsletterIssue, locale: str) -> IssueContent:
    """Return what ``issue`` says in ``locale`` (each part falling back to another language).

    Items are the issue's accepted contributions in their order, with the
    organisation's name and the picture's absolute address.
    """
    items = []
    for contribution in issue.contributions:
        if contribution.status is not ContributionStatus.ACCEPTED:
            continue
        complete = {
            code: text for code, text in (contribution.texts or {}).items() if text.get("title")
        }
        language, texts = _pick(complete, locale)
        items.append(
            IssueItem(
                organisation=contribution.organisation.name,
                title=(texts or {}).get("title", ""),
                body_html=render_markdown((texts or {}).get("body", "")),
                image_url=image_url(contribution.image_path),
                language=language,
            )
        )
    language, title = _pick(issue.title or {}, locale)
    intro_language, intro = _pick(issue.intro or {}, locale)
    return IssueContent(
        subject=title or issue.slug,
        intro_html=render_markdown(intro or ""),
        items=items,
        language=language,
        intro_language=intro_language,
    )


def published_issues() -> list[NewsletterIssue]:
    """Return the published issues, newest first."""
    return list(
        db.session.scalars(
            select(NewsletterIssue)
            .where(NewsletterIssue.status == IssueStatus.PUBLISHED)
            .order_by(NewsletterIssue.published_at.desc(), NewsletterIssue.id.desc())
        )
    )


def published_issue(slug: str) -> NewsletterIssue | None:
    """Return the published issue with ``slug`` and its contributions, or None."""
    return db.session.scalar(
        select(NewsletterIssue)
        .where(NewsletterIssue.slug == slug, NewsletterIssue.status == IssueStatus.PUBLISHED)
        .options(
            selectinload(NewsletterIssue.contributions).selectinload(Contribution.organisation)
        )
    )
