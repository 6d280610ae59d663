"""What bulk mail a person gets: unsubscribe from one kind, choose the newsletter's content, leave.

The person is known by the address a signed link names (``mail.unsubscribe``);
there is no account and no login. Unsubscribing puts the address on the
suppression list for that kind of bulk mail (and ends a newsletter
subscription); mail about the person's own registrations still goes out.
Nothing here is audited: the suppression list itself is the record, and an
audit entry would only copy the address into one more place. Each change
reads and then writes, so it takes the write lock first (``begin_write``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from outreach.database import begin_write
from outreach.extensions import db
from outreach.mail.suppression import lift, suppress, suppression_scopes
from outreach.models import (
    Subscriber,
    SubscriberStatus,
    SuppressionReason,
    SuppressionScope,
    Topic,
    utcnow,
)
from outreach.services.errors import InvalidInput

BULK_SCOPES = (SuppressionScope.OUTREACH, SuppressionScope.NEWSLETTER)


@dataclass(frozen=True)
class TopicChoice:
    slug: str
    name: str


@dataclass(frozen=True)
class Preferences:
    """What ``email`` gets now, and what it could choose from."""

    email: str
    outreach: bool  # campaigns about events
    newsletter: bool  # subscribed (the opt-in link may not be clicked yet)
    pending: bool  # subscribed, the opt-in link not yet clicked
    language: str | None  # the newsletter's language, for a subscriber
    interests: tuple[str, ...]  # topic slugs; empty: everything
    languages: tuple[str, ...]  # what language can be chosen
    topics: tuple[TopicChoice, ...]  # what interests can be chosen


@dataclass(frozen=True)
class PreferencesInput:
    """A person's choices: outreach mail or not, the newsletter and what it brings."""

    outreach: bool
    newsletter: bool
    language: str | None = None
    interests: Sequence[str] = ()


def _subscriber(email: str) -> Subscriber | None:
    return db.session.scalar(select(Subscriber).where(Subscriber.email == email.lower()))


def _end_subscription(email: str) -> None:
    subscriber = _subscriber(email)
    if subscriber is not None and subscriber.status is not SubscriberStatus.UNSUBSCRIBED:
        subscriber.status = SubscriberStatus.UNSUBSCRIBED
        subscriber.unsubscribed_at = utcnow()


def _stop(email: str, scope: SuppressionScope) -> None:
    suppress(email, SuppressionReason.UNSUBSCRIBED, scope=scope)
    if scope is SuppressionScope.NEWSLETTER:
        _end_subscription(email)


def unsubscribe(email: str, scope: SuppressionScope) -> None:
    """Stop ``scope`` bulk mail to ``email``; asking again changes nothing. Commits."""
    if scope not in BULK_SCOPES:
        raise ValueError(f"cannot unsubscribe from scope {scope!r}")
    try:
        begin_write()
        _stop(email, scope)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def leave_everything(email: str) -> None:
    """Stop every kind of bulk mail to ``email`` and end its subscription. Commits.

    Mail about the person's own registrations is not bulk mail and still
    goes: they asked for it by registering.
    """
    try:
        begin_write()
        for scope in BULK_SCOPES:
            _stop(email, scope)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def _topics(locale: str) -> tuple[TopicChoice, ...]:
    topics = db.session.scalars(select(Topic).order_by(Topic.slug))
    return tuple(TopicChoice(topic.slug, topic.name_in(locale)) for topic in topics)


def preferences_for(email: str, *, locale: str) -> Preferences:
    """What ``email`` gets now, with the topic names in ``locale``."""
    email = email.lower()
    scopes = suppression_scopes({email}).get(email, set())
    subscriber = _subscriber(email)
    subscribed = subscriber is not None and subscriber.status is not SubscriberStatus.UNSUBSCRIBED
    return Preferences(
        email=email,
        outreach=not ({SuppressionScope.ALL, SuppressionScope.OUTREACH} & scopes),
        newsletter=subscribed,
        pending=subscriber is not None and subscriber.status is SubscriberStatus.PENDING,
        language=subscriber.language if subscribed else None,
        interests=tuple(subscriber.interests or ()) if subscribed else (),
        languages=tuple(current_app.config["LANGUAGES"]),
        topics=_topics(locale),
    )


def _check(data: PreferencesInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.language is not None and data.language not in current_app.config["LANGUAGES"]:
        errors["language"] = str(_l("Please choose one of the offered languages."))
    known = set(db.session.scalars(select(Topic.slug)))
    if not set(data.interests) <= known:
        errors["interests"] = str(_l("Please choose from the offered topics."))
    return errors


def update_preferences(email: str, data: PreferencesInput) -> None:
    """Apply a person's choices. Raises InvalidInput. Commits.

    Outreach mail can be stopped and started again here. The newsletter can
    be stopped; starting it again needs the double opt-in of a new
    subscription, so unticking it is final here. Language and interests
    change what an active (or still pending) subscription brings.
    """
    email = email.lower()
    errors = _check(data)
    if errors:
        raise InvalidInput(errors)
    try:
        begin_write()
        if data.outreach:
            lift(email, SuppressionScope.OUTREACH)
        else:
            _stop(email, SuppressionScope.OUTREACH)
        subscriber = _subscriber(email)
        if subscriber is not None and subscriber.status is not SubscriberStatus.UNSUBSCRIBED:
            if data.language is not None:
                subscriber.language = data.language
            # In the order offered, each once: the segment compares them as they are.
            subscriber.interests = sorted(set(data.interests))
            if not data.newsletter:
                _stop(email, SuppressionScope.NEWSLETTER)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
