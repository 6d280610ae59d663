"""Read-only lookups for the campaign pages; every change goes through services.campaigns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from outreach.extensions import db
from outreach.models import (
    Campaign,
    Event,
    EventStatus,
    NewsletterIssue,
    Organisation,
    QuestionKind,
    RegistrationQuestion,
    Topic,
)
from outreach.workspace import queries
from outreach.workspace.choices import reader_locale


@dataclass(frozen=True)
class QuestionChoice:
    id: int
    label: str
    # (value, label) of the answers that select people.
    answers: list[tuple[str, str]]


@dataclass(frozen=True)
class EventChoice:
    id: int
    label: str
    questions: list[QuestionChoice] = field(default_factory=list)


@dataclass(frozen=True)
class AudienceChoices:
    events: list[EventChoice]
    organisations: list[Organisation]


def _events_with_questions() -> list[Event]:
    """Return every event people could have registered for, newest first, with questions."""
    query = (
        select(Event)
        .where(Event.status.in_((EventStatus.PUBLISHED, EventStatus.CANCELLED)))
        .options(selectinload(Event.translations), selectinload(Event.questions))
        .order_by(Event.starts_at.desc(), Event.id.desc())
    )
    return list(db.session.scalars(query))


def _event_label(event: Event, locale: str) -> str:
    label = f"{event.title_in(locale)} ({event.local_start.date().isoformat()})"
    if event.status is EventStatus.CANCELLED:
        return _("%(event)s, cancelled", event=label)
    return label


def _question_choice(question: RegistrationQuestion, locale: str) -> QuestionChoice | None:
    """The question with its answers, if its answers can select people (not free text)."""
    if question.is_choice:
        answers = question.choices_in(locale)
    elif question.kind is QuestionKind.CHECKBOX:
        answers = [("yes", _("Ticked")), ("no", _("Not ticked"))]
    else:
        return None
    return QuestionChoice(question.id, question.label_in(locale), answers)


def audience_choices() -> AudienceChoices:
    """Return the events (past ones too) and the organisations to build an audience of."""
    locale = reader_locale()
    events = [
        EventChoice(
            event.id,
            _event_label(event, locale),
            [
                choice
                for question in event.questions
                if (choice := _question_choice(question, locale)) is not None
            ],
        )
        for event in _events_with_questions()
    ]
    return AudienceChoices(events, queries.organisation_choices())


def campaign_list(*, page: int = 1, per_page: int = 25) -> Pagination:
    """Return a page of campaigns, the newest first."""
    query = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


def issue_of(campaign: Campaign) -> NewsletterIssue | None:
    """Return the newsletter issue a newsletter campaign carries, if any."""
    return db.session.scalar(
        select(NewsletterIssue).where(NewsletterIssue.campaign_id == campaign.id).limit(1)
    )


@dataclass(frozen=True)
class SegmentNames:
    """What the ids and slugs in a segment stand for, to describe it in words."""

    events: dict[int, str]
    organisations: dict[int, str]
    topics: dict[str, str]
    question: str | None


def _ids(values: Any) -> list[int]:
    return [value for value in values or [] if isinstance(value, int)]


def segment_names(segment: dict[str, Any]) -> SegmentNames:
    """Look up the names of the events, organisations, topics and question a segment names."""
    locale = reader_locale()
    events: dict[int, str] = {}
    if ids := _ids(segment.get("events")):
        query = select(Event).where(Event.id.in_(ids)).options(selectinload(Event.translations))
        events = {event.id: _event_label(event, locale) for event in db.session.scalars(query)}
    organisations: dict[int, str] = {}
    if ids := _ids(segment.get("organisations")):
        query = select(Organisation).where(Organisation.id.in_(ids))
        organisations = {org.id: org.name for org in db.session.scalars(query)}
    topics: dict[str, str] = {}
    if slugs := [slug for slug in segment.get("interests") or [] if isinstance(slug, str)]:
        query = select(Topic).where(Topic.slug.in_(slugs))
        topics = {topic.slug: topic.name_in(locale) for topic in db.session.scalars(query)}
    question_label = None
    question = segment.get("question")
    if isinstance(question, dict) and isinstance(question.get("id"), int):
        found = db.session.get(RegistrationQuestion, question["id"])
        question_label = found.label_in(locale) if found is not None else None
    return SegmentNames(events, organisations, topics, question_label)
