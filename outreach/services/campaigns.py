"""Campaigns: write once per language, schedule, send to a segment, cancel.

A campaign moves DRAFT → SCHEDULED → ENQUEUING → QUEUED, or to CANCELLED.
Staff schedule it (or send it now, which schedules it for this moment); the
mail worker's scheduler step (:func:`enqueue_due`) or ``flask outreach
campaign send`` then writes one outbox row per recipient with
:func:`enqueue`. That is set-based and streamed: INSERT … SELECT from the
segment's query, in chunks of addresses in order (keyset), each chunk its
own transaction, ON CONFLICT (dedupe_key) DO NOTHING. It never loads the
recipients into Python, it can be resumed after a crash (the rows written
so far say where it stopped, the dedupe key ``campaign:<id>:<address>`` that
nobody gets it twice), and a cancellation stops it between chunks.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import JSON, String, case, cast, func, literal, select, true, update
from sqlalchemy.dialects import postgresql, sqlite

from outreach.database import begin_write
from outreach.extensions import db
from outreach.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    User,
    utcnow,
)
from outreach.services import audit
from outreach.services.campaign_text import (
    MAX_BODY_LENGTH,
    MAX_SUBJECT_LENGTH,
    RenderedText,
    check_texts,
    context_for,
    render,
)
from outreach.services.errors import DomainError, InvalidInput
from outreach.services.segments import (
    CONTACTS,
    REGISTRANTS,
    SUBSCRIBERS,
    Recipient,
    RegistrantsSegment,
    Segment,
    find_recipient,
    recipients,
    sample,
)

CHUNK_SIZE = 5000
PAGE_SIZE = 50
MAX_NAME_LENGTH = 200
# An ENQUEUING campaign whose row has not moved for this long lost its enqueuer.
STALE_ENQUEUING = timedelta(minutes=10)
EDITABLE = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
MESSAGE_KINDS = {
    CampaignKind.OUTREACH: MessageKind.CAMPAIGN,
    CampaignKind.NEWSLETTER: MessageKind.NEWSLETTER,
}


class CampaignNotFound(DomainError):
    default_message = _l("There is no such campaign.")


class CampaignNotEditable(DomainError):
    default_message = _l("Only a draft or a scheduled campaign can be changed.")


class CampaignNotSchedulable(DomainError):
    default_message = _l("This campaign has been sent or cancelled already.")


class CampaignNotCancellable(DomainError):
    default_message = _l("This campaign is cancelled already.")


class CampaignNotDue(DomainError):
    default_message = _l("Schedule the campaign or send it now before it can be queued.")


class RecipientNotInAudience(DomainError):
    default_message = _l("This address is not among the campaign's recipients.")


@dataclass
class CampaignInput:
    """What staff write: the kind, a name, texts per language, the fallback, the audience."""

    kind: CampaignKind | str
    name: str
    texts: Mapping[str, Mapping[str, str]]
    fallback_language: str
    segment: Mapping[str, Any]


@dataclass(frozen=True)
class CampaignProgress:
    """The campaign's outbox rows by status (test sends left out)."""

    total: int = 0
    queued: int = 0
    sending: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def finished(self) -> int:
        return self.sent + self.failed + self.skipped


# -- writing ---------------------------------------------------------------------------


def _clean(data: CampaignInput) -> tuple[CampaignKind, str, dict, str, Segment]:
    """Check everything staff wrote; raise InvalidInput with a message per field."""
    errors: dict[str, str] = {}
    try:
        kind = CampaignKind(data.kind)
    except ValueError:
        kind = CampaignKind.OUTREACH
        errors["kind"] = _("Choose the kind of campaign.")
    name = " ".join((data.name or "").split())
    if not name:
        errors["name"] = _("Please give the campaign a name.")
    elif len(name) > MAX_NAME_LENGTH:
        errors["name"] = _("Please use at most %(n)d characters.", n=MAX_NAME_LENGTH)
    texts = _clean_texts(data.texts, errors)
    fallback = data.fallback_language
    if not texts:
        errors.setdefault("texts", _("Write the campaign in at least one language."))
    elif fallback not in texts:
        errors["fallback_language"] = _(
            "Choose a language the campaign is written in: people whose language "
            "it is not written in get that version."
        )
    segment: Segment | None = None
    try:
        segment = Segment.from_dict(data.segment)
    except InvalidInput as problem:
        errors.update(problem.errors)
    if segment is not None and "kind" not in errors:
        if kind is CampaignKind.NEWSLETTER and segment.type != SUBSCRIBERS:
            errors["type"] = _("The newsletter goes to its subscribers only.")
        elif kind is CampaignKind.OUTREACH and segment.type == SUBSCRIBERS:
            errors["type"] = _(
                "Subscribers agreed to the newsletter only: send them a newsletter campaign."
            )
    if segment is not None and texts:
        errors.update(check_texts(texts, available=segment.placeholders))
    if errors:
        raise InvalidInput(errors)
    assert segment is not None
    return kind, name, texts, fallback, segment


def _clean_texts(raw: Any, errors: dict[str, str]) -> dict[str, dict[str, str]]:
    """The language versions that were written, trimmed; half-written ones are errors."""
    if not isinstance(raw, Mapping):
        errors["texts"] = _("Write the campaign in at least one language.")
        return {}
    supported = tuple(current_app.config["LANGUAGES"])
    texts: dict[str, dict[str, str]] = {}
    for locale, version in raw.items():
        if not isinstance(version, Mapping):
            continue
        subject = " ".join(str(version.get("subject") or "").split())
        body = str(version.get("body") or "").replace("\r\n", "\n").strip()
        if not subject and not body:
            continue
        if locale not in supported:
            errors["texts"] = _("Write the campaign in the languages offered.")
            continue
        if not subject:
            errors[f"{locale}.subject"] = _("Please write a subject (or leave this version empty).")
        elif len(subject) > MAX_SUBJECT_LENGTH:
            errors[f"{locale}.subject"] = _(
                "Please use at most %(n)d characters.", n=MAX_SUBJECT_LENGTH
            )
        if not body:
            errors[f"{locale}.body"] = _("Please write the text (or leave this version empty).")
        elif len(body) > MAX_BODY_LENGTH:
            errors[f"{locale}.body"] = _("Please use at most %(n)d characters.", n=MAX_BODY_LENGTH)
        texts[locale] = {"subject": subject, "body": body}
    return texts


FIELDS = ("kind", "name", "texts", "fallback_language", "segment")


def create_campaign(data: CampaignInput, *, by: User | None) -> Campaign:
    """Save a new draft campaign."""
    kind, name, texts, fallback, segment = _clean(data)
    try:
        campaign = Campaign(
            kind=kind,
            name=name,
            texts=texts,
            fallback_language=fallback,
            segment=segment.to_dict(),
            status=CampaignStatus.DRAFT,
            created_by_id=by.id if by is not None else None,
        )
        db.session.add(campaign)
        audit.record(
            "campaign.created", campaign, actor=by, changes=audit.snapshot(campaign, FIELDS)
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return campaign


def update_campaign(campaign: Campaign, data: CampaignInput, *, by: User | None) -> Campaign:
    """Change a draft or scheduled campaign's texts, audience or name."""
    kind, name, texts, fallback, segment = _clean(data)
    try:
        campaign = _lock(campaign.id)
        if campaign.status not in EDITABLE:
            raise CampaignNotEditable()
        before = audit.snapshot(campaign, FIELDS)
        campaign.kind = kind
        campaign.name = name
        campaign.texts = texts
        campaign.fallback_language = fallback
        campaign.segment = segment.to_dict()
        changed = audit.changes(before, audit.snapshot(campaign, FIELDS))
        if changed:
            audit.record("campaign.updated", campaign, actor=by, changes=changed)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return campaign


def schedule(campaign: Campaign, at: datetime, *, by: User | None) -> Campaign:
    """Send the campaign at ``at`` (in the future); a scheduled one may be moved."""
    if at.tzinfo is None:
        raise InvalidInput({"scheduled_at": _("Please give a time with its time zone.")})
    if at <= utcnow():
        raise InvalidInput({"scheduled_at": _("Please choose a time in the future.")})
    return _make_due(campaign, at, by=by, action="campaign.scheduled")


def send_now(campaign: Campaign, *, by: User | None) -> Campaign:
    """Mark the campaign due now; the worker's scheduler (or the CLI) queues it."""
    return _make_due(campaign, utcnow(), by=by, action="campaign.send_now")


def _make_due(campaign: Campaign, at: datetime, *, by: User | None, action: str) -> Campaign:
    # The saved texts and audience were checked when saved; events may have gone since.
    Segment.from_dict(campaign.segment)
    try:
        campaign = _lock(campaign.id)
        if campaign.status not in EDITABLE:
            raise CampaignNotSchedulable()
        before = audit.snapshot(campaign, ("status", "scheduled_at"))
        campaign.status = CampaignStatus.SCHEDULED
        campaign.scheduled_at = at
        audit.record(
            action,
            campaign,
            actor=by,
            changes=audit.changes(before, audit.snapshot(campaign, ("status", "scheduled_at"))),
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return campaign


def cancel(campaign: Campaign, *, by: User | None) -> Campaign:
    """Stop the campaign: rows not yet written never come, queued ones are skipped.

    Messages a worker holds at this moment still go out.
    """
    try:
        campaign = _lock(campaign.id)
        if campaign.status is CampaignStatus.CANCELLED:
            raise CampaignNotCancellable()
        before = campaign.status
        campaign.status = CampaignStatus.CANCELLED
        campaign.cancelled_at = utcnow()
        skipped = db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.campaign_id == campaign.id,
                OutboxMessage.status == MessageStatus.QUEUED,
            )
            .values(status=MessageStatus.SKIPPED, last_error="the campaign was cancelled")
            .execution_options(synchronize_session=False)
        ).rowcount
        audit.record(
            "campaign.cancelled",
            campaign,
            actor=by,
            changes={"status": [before.value, CampaignStatus.CANCELLED.value]},
            comment=(
                ngettext(
                    "%(num)d queued message will not be sent.",
                    "%(num)d queued messages will not be sent.",
                    skipped,
                )
                if skipped
                else None
            ),
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return campaign


def _lock(campaign_id: int) -> Campaign:
    """Begin a write transaction holding the campaign's row; return it fresh."""
    begin_write()
    campaign = db.session.execute(
        select(Campaign)
        .where(Campaign.id == campaign_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if campaign is None:
        raise CampaignNotFound()
    return campaign


def get_campaign(campaign_id: int) -> Campaign:
    """Return the campaign with this id; raise CampaignNotFound if there is none."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignNotFound()
    return campaign


def list_campaigns(limit: int = 100) -> list[Campaign]:
    """List the newest campaigns first."""
    return list(db.session.scalars(select(Campaign).order_by(Campaign.id.desc()).limit(limit)))


# -- enqueuing ---------------------------------------------------------------------------


def _key_prefix(campaign_id: int) -> str:
    return f"campaign:{campaign_id}:"


def _rows_of(campaign_id: int):
    """Select the campaign's own rows in the outbox (test sends have another key)."""
    return (
        OutboxMessage.campaign_id == campaign_id,
        OutboxMessage.dedupe_key.startswith(_key_prefix(campaign_id), autoescape=True),
    )


def enqueue(
    campaign: Campaign,
    *,
    chunk_size: int = CHUNK_SIZE,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Write the campaign's outbox rows, a chunk per transaction; return how many were new.

    Takes a due SCHEDULED campaign (or continues an ENQUEUING one where the
    rows written so far end), marks it QUEUED when the segment is exhausted,
    and stops between chunks once it is cancelled. ``on_progress`` gets the
    number of rows written so far after each chunk.
    """
    campaign = _start(campaign.id)
    if campaign.status is not CampaignStatus.ENQUEUING:
        return 0
    segment = Segment.from_dict(campaign.segment, verify=False)
    last, written = _written_so_far(campaign.id)
    db.session.rollback()
    added = 0
    while True:
        upto = _chunk_end(segment, campaign.kind, last, chunk_size)
        if upto is None:
            break
        try:
            campaign = _lock(campaign.id)
            if campaign.status is not CampaignStatus.ENQUEUING:
                db.session.rollback()  # cancelled meanwhile: not one more row
                return added
            inserted = _insert_chunk(campaign, segment, after=last, upto=upto)
            written += inserted
            added += inserted
            campaign.recipients = written
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        last = upto
        if on_progress is not None:
            on_progress(written)
    _finish(campaign.id, written)
    return added


def _start(campaign_id: int) -> Campaign:
    """Claim a due campaign for enqueuing (SCHEDULED → ENQUEUING), or take up an ENQUEUING one."""
    try:
        campaign = _lock(campaign_id)
        if campaign.status is CampaignStatus.DRAFT:
            raise CampaignNotDue()
        if campaign.status is CampaignStatus.SCHEDULED:
            if campaign.scheduled_at is not None and campaign.scheduled_at > utcnow():
                raise CampaignNotDue(_("This campaign is scheduled for later."))
            campaign.status = CampaignStatus.ENQUEUING
            campaign.started_at = campaign.started_at or utcnow()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return campaign


def _written_so_far(campaign_id: int) -> tuple[str | None, int]:
    """Return the last address written and the rows so far: where a stopped run goes on."""
    last, count = db.session.execute(
        select(func.max(OutboxMessage.recipient), func.count()).where(*_rows_of(campaign_id))
    ).one()
    return last, count


def _chunk_end(segment: Segment, kind: CampaignKind, after: str | None, size: int) -> str | None:
    """Find the last address of the next chunk after ``after``; None when none is left."""
    found = segment.addresses(segment.scope_for(kind), after).subquery()
    chunk = select(found.c.email).order_by(found.c.email).limit(size).subquery()
    return db.session.scalar(select(func.max(chunk.c.email)))


def _insert_chunk(campaign: Campaign, segment: Segment, *, after: str | None, upto: str) -> int:
    """INSERT … SELECT one chunk's rows; ON CONFLICT (dedupe_key) DO NOTHING. Return the count."""
    rows = recipients(segment, campaign.kind, after=after, upto=upto).subquery()
    versions = sorted(campaign.texts or {})
    now = utcnow()
    if segment.type == SUBSCRIBERS:
        payload = _json_object("subscriber", rows.c.subscriber_id)
    else:
        payload = _empty_json()
    source = select(
        literal(MESSAGE_KINDS[campaign.kind].value).label("kind"),
        rows.c.email,
        func.coalesce(rows.c.name, "").label("recipient_name"),
        case(
            (rows.c.language.in_(versions), rows.c.language),
            else_=literal(campaign.fallback_language),
        ).label("language"),
        (literal(_key_prefix(campaign.id), String) + rows.c.email).label("dedupe_key"),
        rows.c.event_id,
        rows.c.registration_id,
        literal(campaign.id).label("campaign_id"),
        payload.label("payload"),
        literal(MessageStatus.QUEUED.value).label("status"),
        literal(0).label("attempts"),
        literal(now, OutboxMessage.next_attempt_at.type).label("next_attempt_at"),
        literal(now, OutboxMessage.created_at.type).label("created_at"),
    ).where(
        # SQLite would read the ON of ON CONFLICT as a join's unless the SELECT has a WHERE.
        true()
    )
    table = OutboxMessage.__table__
    columns = [
        "kind",
        "recipient",
        "recipient_name",
        "language",
        "dedupe_key",
        "event_id",
        "registration_id",
        "campaign_id",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    ]
    dialect_insert = postgresql.insert if _is_postgresql() else sqlite.insert
    statement = (
        dialect_insert(table)
        .from_select(columns, source, include_defaults=False)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        # The rows that went in (psycopg reports no rowcount for INSERT … SELECT here).
        .returning(table.c.id)
    )
    return len(db.session.execute(statement).all())


def _empty_json() -> Any:
    # SQLite keeps JSON as text (a CAST to "JSON" there would make it a number).
    return cast(literal("{}"), JSON) if _is_postgresql() else literal("{}")


def _json_object(key: str, value: Any) -> Any:
    if _is_postgresql():
        return func.json_build_object(key, value)
    return func.json_object(key, value)


def _is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _finish(campaign_id: int, written: int) -> None:
    try:
        campaign = _lock(campaign_id)
        if campaign.status is CampaignStatus.ENQUEUING:
            campaign.status = CampaignStatus.QUEUED
            campaign.enqueued_at = utcnow()
            campaign.recipients = written
            audit.record(
                "campaign.enqueued",
                campaign,
                actor=None,
                changes={"status": ["enqueuing", "queued"], "recipients": written},
            )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def enqueue_due(now: datetime | None = None) -> int:
    """Queue every campaign that is due (the worker's scheduler step); return the rows written.

    Each campaign is claimed with one UPDATE … WHERE status = 'scheduled':
    of two workers running this at once, only the one whose UPDATE changed
    the row goes on. An ENQUEUING campaign whose row has not moved for
    STALE_ENQUEUING lost its enqueuer (a crash) and is taken up the same way.
    """
    now = now or utcnow()
    written = 0
    due = list(
        db.session.scalars(
            select(Campaign.id)
            .where(
                ((Campaign.status == CampaignStatus.SCHEDULED) & (Campaign.scheduled_at <= now))
                | (
                    (Campaign.status == CampaignStatus.ENQUEUING)
                    & (Campaign.updated_at < now - STALE_ENQUEUING)
                )
            )
            .order_by(Campaign.scheduled_at, Campaign.id)
        )
    )
    db.session.rollback()
    for campaign_id in due:
        if _claim(campaign_id, now):
            written += enqueue(db.session.get(Campaign, campaign_id))
    return written


def _claim(campaign_id: int, now: datetime) -> bool:
    """Make the campaign ours to enqueue; False when another worker was quicker."""
    try:
        begin_write()
        claimed = db.session.execute(
            update(Campaign)
            .where(
                Campaign.id == campaign_id,
                ((Campaign.status == CampaignStatus.SCHEDULED) & (Campaign.scheduled_at <= now))
                | (
                    (Campaign.status == CampaignStatus.ENQUEUING)
                    & (Campaign.updated_at < now - STALE_ENQUEUING)
                ),
            )
            .values(
                status=CampaignStatus.ENQUEUING,
                started_at=func.coalesce(Campaign.started_at, now),
                updated_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return claimed == 1


# -- watching ----------------------------------------------------------------------------


def progress(campaign: Campaign) -> CampaignProgress:
    """Count the campaign's rows by status, from a fresh read."""
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count())
            .where(*_rows_of(campaign.id))
            .group_by(OutboxMessage.status)
        ).all()
    )
    numbers = {status.value: counts.get(status, 0) for status in MessageStatus}
    return CampaignProgress(total=sum(numbers.values()), **numbers)


def recipient_statuses(
    campaign: Campaign, *, status: MessageStatus | None = None, page: int = 1
) -> Pagination:
    """Page through the campaign's outbox rows by address: who got it, who failed and why."""
    query = select(OutboxMessage).where(*_rows_of(campaign.id)).order_by(OutboxMessage.recipient)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    return db.paginate(query, page=page, per_page=PAGE_SIZE, error_out=False, max_per_page=None)


# -- trying it out -----------------------------------------------------------------------


def preview(campaign: Campaign, locale: str, recipient_email: str | None = None) -> RenderedText:
    """Render the ``locale`` version as one recipient (by default the first) gets it."""
    texts = campaign.texts or {}
    if locale not in texts:
        raise InvalidInput({"locale": _("The campaign has no version in this language.")})
    segment = Segment.from_dict(campaign.segment, verify=False)
    if recipient_email:
        recipient = find_recipient(segment, campaign.kind, recipient_email)
        if recipient is None:
            raise RecipientNotInAudience()
    else:
        found = sample(segment, campaign.kind, limit=1)
        recipient = found[0] if found else _example_recipient(segment, locale)
    recipient = Recipient(**{**recipient.__dict__, "language": locale})
    return render(
        texts[locale]["subject"],
        texts[locale]["body"],
        _context(campaign, recipient, segment),
    )


def _example_recipient(segment: Segment, locale: str) -> Recipient:
    event_id = segment.events[0] if isinstance(segment, RegistrantsSegment) else None
    return Recipient(
        email="erika.mustermann@example.org",
        name="Erika Mustermann",
        language=locale,
        event_id=event_id,
    )


def _context(campaign: Campaign, recipient: Recipient, segment: Segment) -> dict[str, Any]:
    from outreach.mail.unsubscribe import preferences_url, unsubscribe_url

    base = current_app.config["BASE_URL"].rstrip("/")
    return context_for(
        recipient,
        campaign=campaign,
        unsubscribe_url=unsubscribe_url(recipient.email, segment.scope_for(campaign.kind)),
        preferences_url=preferences_url(recipient.email),
        # A preview never mints a real link to someone's registration.
        manage_url=f"{base}/r/preview" if segment.type == REGISTRANTS else None,
    )


def test_send(campaign: Campaign, *, to: User, locale: str) -> OutboxMessage:
    """Queue the ``locale`` version to ``to`` (the staff member), marked as a test."""
    if locale not in (campaign.texts or {}):
        raise InvalidInput({"locale": _("The campaign has no version in this language.")})
    if campaign.status is CampaignStatus.CANCELLED:
        raise CampaignNotSchedulable()
    segment = Segment.from_dict(campaign.segment, verify=False)
    event_id = segment.events[0] if isinstance(segment, RegistrantsSegment) else None
    try:
        message = OutboxMessage(
            kind=MESSAGE_KINDS[campaign.kind],
            recipient=to.email,
            recipient_name=to.name or "",
            language=locale,
            dedupe_key=f"campaign-test:{campaign.id}:{to.id}:{secrets.token_hex(6)}",
            event_id=event_id,
            campaign_id=campaign.id,
            payload={"test": True},
        )
        db.session.add(message)
        audit.record(
            "campaign.test_sent",
            campaign,
            actor=to,
            changes={"to": to.email, "language": locale},
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return message


__all__ = [
    "CONTACTS",
    "REGISTRANTS",
    "SUBSCRIBERS",
    "CampaignInput",
    "CampaignNotCancellable",
    "CampaignNotDue",
    "CampaignNotEditable",
    "CampaignNotFound",
    "CampaignNotSchedulable",
    "CampaignProgress",
    "RecipientNotInAudience",
    "cancel",
    "create_campaign",
    "enqueue",
    "enqueue_due",
    "get_campaign",
    "list_campaigns",
    "preview",
    "progress",
    "recipient_statuses",
    "schedule",
    "send_now",
    "test_send",
    "update_campaign",
]
