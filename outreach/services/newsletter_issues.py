"""Staff compose the newsletter: issues, the review of contributions, their order, sending.

An issue is a DRAFT while staff write its title and introduction, pick
contributions (accepting or declining each with a note the partner sees) and
order them. Sending it creates a NEWSLETTER campaign for every active
subscriber through the campaign engine (services.campaigns) and marks the
issue PUBLISHED: it then appears in the public archive and no longer changes.
Every step lands in the audit log in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from outreach.database import begin_write
from outreach.extensions import db
from outreach.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    Contribution,
    ContributionStatus,
    IssueStatus,
    NewsletterIssue,
    User,
    utcnow,
)
from outreach.policy import is_staff
from outreach.services import audit, segments
from outreach.services import campaigns as campaign_service
from outreach.services.errors import DomainError, InvalidInput
from outreach.services.registration_input import (
    has_control_characters,
    has_unsafe_text_characters,
)

MAX_SLUG_LENGTH = 80
MAX_TITLE_LENGTH = 200
MAX_INTRO_LENGTH = 5000
MAX_NOTE_LENGTH = 2000
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TEMPLATE_MARKS = re.compile(r"\{[{%#]")
# Addresses under /newsletter/ that an issue's slug must not take.
RESERVED_SLUGS = frozenset({"subscribe", "confirm", "images", "thanks"})
ISSUE_FIELDS = ("slug", "title", "intro")
# Who gets an issue: every active subscriber, whatever their language or interests.
SUBSCRIBERS = {"type": "subscribers", "languages": [], "interests": []}


class NotAllowed(DomainError):
    default_message = _l("Only staff can compose the newsletter.")


class IssuePublished(DomainError):
    """A sent issue is in the archive as it went out: it does not change any more."""

    default_message = _l("This issue has been sent and can no longer be changed.")


class NotInIssue(DomainError):
    default_message = _l("This contribution is not part of this issue.")


class ContributionTaken(DomainError):
    default_message = _l("This contribution is already part of an issue, or it was declined.")


class NothingToSend(DomainError):
    default_message = _l(
        "This issue has no accepted contribution yet. Accept at least one before sending it."
    )


@dataclass
class IssueInput:
    """An issue's short name for its address, and its title and introduction per language."""

    slug: str
    title: dict[str, str] = field(default_factory=dict)
    intro: dict[str, str] = field(default_factory=dict)


def _staff(user: User) -> None:
    if not is_staff(user):
        raise NotAllowed()


# -- checking input ----------------------------------------------------------------------


def _clean_slug(raw: Any, errors: dict[str, str], issue: NewsletterIssue | None) -> str:
    slug = raw.strip().lower() if isinstance(raw, str) else ""
    if not slug:
        errors["slug"] = _("Please enter a short name for the web address.")
    elif len(slug) > MAX_SLUG_LENGTH or not SLUG.fullmatch(slug):
        errors["slug"] = _(
            "Please use lower-case letters a–z, digits and hyphens (at most %(n)d).",
            n=MAX_SLUG_LENGTH,
        )
    elif slug in RESERVED_SLUGS:
        errors["slug"] = _("This short name is reserved. Please choose another one.")
    else:
        query = select(NewsletterIssue.id).where(NewsletterIssue.slug == slug)
        if issue is not None:
            query = query.where(NewsletterIssue.id != issue.id)
        if db.session.scalar(query) is not None:
            errors["slug"] = _("Another issue has this short name already.")
    return slug


def _clean_versions(data: IssueInput, errors: dict[str, str]) -> tuple[dict, dict]:
    titles: dict[str, str] = {}
    intros: dict[str, str] = {}
    for locale in current_app.config["LANGUAGES"]:
        raw_title = (data.title or {}).get(locale)
        raw_intro = (data.intro or {}).get(locale)
        title = " ".join(raw_title.split()) if isinstance(raw_title, str) else ""
        intro = raw_intro.strip().replace("\r\n", "\n") if isinstance(raw_intro, str) else ""
        if has_control_characters(title):
            errors[f"title.{locale}"] = _("The title contains characters we cannot use.")
        elif TEMPLATE_MARKS.search(title):
            # The title becomes the campaign's subject, where these start a placeholder.
            errors[f"title.{locale}"] = _(
                "Please do not use %(marks)s in the title.", marks="{{  {%  {#"
            )
        elif len(title) > MAX_TITLE_LENGTH:
            errors[f"title.{locale}"] = _(
                "Please use at most %(n)d characters.", n=MAX_TITLE_LENGTH
            )
        elif intro and not title:
            errors[f"title.{locale}"] = _("Please give this language version a title.")
        if has_unsafe_text_characters(intro):
            errors[f"intro.{locale}"] = _("The text contains characters we cannot use.")
        elif len(intro) > MAX_INTRO_LENGTH:
            errors[f"intro.{locale}"] = _(
                "Please use at most %(n)d characters.", n=MAX_INTRO_LENGTH
            )
        if title:
            titles[locale] = title
        if intro:
            intros[locale] = intro
    if not titles and not any(key.startswith("title.") for key in errors):
        default = current_app.config["BABEL_DEFAULT_LOCALE"]
        errors[f"title.{default}"] = _("Please give the issue a title in at least one language.")
    return titles, intros


def _checked(data: IssueInput, issue: NewsletterIssue | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    slug = _clean_slug(data.slug, errors, issue)
    titles, intros = _clean_versions(data, errors)
    if errors:
        raise InvalidInput(errors)
    return {"slug": slug, "title": titles, "intro": intros}


# -- writing -----------------------------------------------------------------------------


def _locked(model: type, row_id: int) -> Any:
    return db.session.execute(
        select(model)
        .where(model.id == row_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _draft(issue: NewsletterIssue) -> NewsletterIssue:
    """Begin writing; return the issue's locked row. Raises IssuePublished."""
    begin_write()
    issue = _locked(NewsletterIssue, issue.id)
    if issue.status is not IssueStatus.DRAFT:
        raise IssuePublished()
    return issue


def _write(work) -> Any:
    """Run ``work()`` and commit, or roll back and re-raise."""
    try:
        result = work()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return result


def create_issue(data: IssueInput, *, by: User) -> NewsletterIssue:
    """Start a new draft issue; commits. Raises NotAllowed or InvalidInput (slug, title, intro)."""
    _staff(by)
    values = _checked(data, None)

    def work() -> NewsletterIssue:
        begin_write()
        issue = NewsletterIssue(status=IssueStatus.DRAFT, **values)
        db.session.add(issue)
        db.session.flush()
        audit.record("newsletter_issue.created", issue, actor=by, changes=audit.changes({}, values))
        return issue

    return _write(work)


def update_issue(issue: NewsletterIssue, data: IssueInput, *, by: User) -> NewsletterIssue:
    """Change a draft issue's slug, titles and introductions; commits.

    Raises NotAllowed, IssuePublished or InvalidInput.
    """
    _staff(by)
    if issue.status is not IssueStatus.DRAFT:
        raise IssuePublished()
    values = _checked(data, issue)

    def work() -> NewsletterIssue:
        locked = _draft(issue)
        before = audit.snapshot(locked, ISSUE_FIELDS)
        for name, value in values.items():
            setattr(locked, name, value)
        changed = audit.changes(before, audit.snapshot(locked, ISSUE_FIELDS))
        if changed:
            audit.record("newsletter_issue.updated", locked, actor=by, changes=changed)
        return locked

    return _write(work)


def _renumber(issue: NewsletterIssue, ordered: list[Contribution]) -> None:
    for position, contribution in enumerate(ordered):
        contribution.position = position


def _in_order(issue: NewsletterIssue) -> list[Contribution]:
    return list(
        db.session.scalars(
            select(Contribution)
            .where(Contribution.issue_id == issue.id)
            .order_by(Contribution.position, Contribution.id)
            .with_for_update()
        )
    )


def add_to_issue(issue: NewsletterIssue, contribution: Contribution, *, by: User) -> None:
    """Put a submitted or accepted contribution at the end of a draft issue; commits.

    Raises NotAllowed, IssuePublished or ContributionTaken.
    """
    _staff(by)

    def work() -> None:
        locked = _draft(issue)
        item = _locked(Contribution, contribution.id)
        if item.issue_id is not None or item.status is ContributionStatus.DECLINED:
            raise ContributionTaken()
        last = db.session.scalar(
            select(func.max(Contribution.position)).where(Contribution.issue_id == locked.id)
        )
        item.issue_id = locked.id
        item.position = 0 if last is None else last + 1
        audit.record("contribution.added_to_issue", item, actor=by, changes={"issue": locked.slug})

    _write(work)


def remove_from_issue(issue: NewsletterIssue, contribution: Contribution, *, by: User) -> None:
    """Take a contribution out of a draft issue (back into the pool); commits."""
    _staff(by)

    def work() -> None:
        locked = _draft(issue)
        item = _locked(Contribution, contribution.id)
        if item.issue_id != locked.id:
            raise NotInIssue()
        item.issue_id = None
        item.position = 0
        _renumber(locked, _in_order(locked))
        audit.record(
            "contribution.removed_from_issue", item, actor=by, changes={"issue": locked.slug}
        )

    _write(work)


def move_in_issue(
    issue: NewsletterIssue, contribution: Contribution, offset: int, *, by: User
) -> None:
    """Move a contribution ``offset`` places (-1 up, +1 down) within a draft issue; commits."""
    _staff(by)

    def work() -> None:
        locked = _draft(issue)
        ordered = _in_order(locked)
        ids = [item.id for item in ordered]
        if contribution.id not in ids:
            raise NotInIssue()
        old = ids.index(contribution.id)
        new = min(max(old + offset, 0), len(ordered) - 1)
        ordered.insert(new, ordered.pop(old))
        _renumber(locked, ordered)

    _write(work)


def review_contribution(
    contribution: Contribution, *, accept: bool, note: str = "", by: User
) -> Contribution:
    """Accept or decline a contribution, with a note its organisation sees; commits.

    A declined contribution leaves its issue. Decisions can change until the
    issue it is in has been sent. Raises NotAllowed, IssuePublished or
    InvalidInput (``note``).
    """
    _staff(by)
    note = note.strip() if isinstance(note, str) else ""
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidInput({"note": _("Please use at most %(n)d characters.", n=MAX_NOTE_LENGTH)})
    if has_unsafe_text_characters(note):
        raise InvalidInput({"note": _("The text contains characters we cannot use.")})

    def work() -> Contribution:
        begin_write()
        item = _locked(Contribution, contribution.id)
        if item.issue is not None and item.issue.status is IssueStatus.PUBLISHED:
            raise IssuePublished()
        before = audit.snapshot(item, ("status", "review_note"))
        item.status = ContributionStatus.ACCEPTED if accept else ContributionStatus.DECLINED
        item.review_note = note or None
        if not accept and item.issue is not None:
            issue = item.issue
            item.issue_id = None
            db.session.flush()
            _renumber(issue, _in_order(issue))
        action = "contribution.accepted" if accept else "contribution.declined"
        changed = audit.changes(before, audit.snapshot(item, ("status", "review_note")))
        audit.record(action, item, actor=by, changes=changed, comment=note)
        return item

    return _write(work)


# -- sending -----------------------------------------------------------------------------


def issue_page_url(issue: NewsletterIssue) -> str:
    """``{BASE_URL}/newsletter/<slug>``: the issue in the web archive (once published)."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return f"{base}/newsletter/{quote(issue.slug, safe='')}"


def _campaign_input(issue: NewsletterIssue) -> campaign_service.CampaignInput:
    """The campaign that carries the issue: subject per language, the issue's title.

    The newsletter mail shows the issue itself (services.newsletter.issue_content);
    the campaign's own text, in case it is ever shown instead, links to the web page.
    """
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    titles = issue.title or {}
    texts = {}
    for locale, title in titles.items():
        with force_locale(locale):
            link = _("Read this issue of our newsletter on our website")
        texts[locale] = {"subject": title, "body": f"[{link}]({issue_page_url(issue)})"}
    return campaign_service.CampaignInput(
        kind=CampaignKind.NEWSLETTER,
        name=_("Newsletter: %(title)s", title=titles.get(default) or next(iter(titles.values()))),
        texts=texts,
        fallback_language=default if default in texts else next(iter(texts)),
        segment=dict(SUBSCRIBERS),
    )


def _publish(issue: NewsletterIssue, campaign: Campaign, by: User) -> NewsletterIssue:
    """Link the campaign and publish the issue, unless someone sent it meanwhile."""

    def work() -> NewsletterIssue:
        locked = _draft(issue)
        locked.campaign_id = campaign.id
        locked.status = IssueStatus.PUBLISHED
        locked.published_at = utcnow()
        audit.record(
            "newsletter_issue.sent", locked, actor=by, changes={"campaign_id": campaign.id}
        )
        return locked

    return _write(work)


def send_issue(issue: NewsletterIssue, *, by: User) -> Campaign:
    """Send the issue to every active subscriber now and put it in the archive; commits.

    Creates a NEWSLETTER campaign (subject per language: the issue's title)
    for the segment of all subscribers, links it to the issue, publishes the
    issue, and marks the campaign due now: the worker's scheduler enqueues it.
    An issue published whose campaign was left a draft (the process died in
    between) is sent by calling this again. Raises NotAllowed, IssuePublished,
    NothingToSend, or the campaign engine's errors.
    """
    _staff(by)
    db.session.refresh(issue)
    if issue.status is IssueStatus.PUBLISHED:
        campaign = issue.campaign
        if campaign is None or campaign.status is not CampaignStatus.DRAFT:
            raise IssuePublished()
        campaign_service.send_now(campaign, by=by)
        return campaign
    if accepted_count(issue) == 0:
        raise NothingToSend()
    campaign = campaign_service.create_campaign(_campaign_input(issue), by=by)
    try:
        _publish(issue, campaign, by)
    except IssuePublished:
        # Someone sent it a moment ago: their campaign goes out, this one never will.
        campaign_service.cancel(campaign, by=by)
        raise
    campaign_service.send_now(campaign, by=by)
    return campaign


# -- reading -----------------------------------------------------------------------------


def all_issues() -> list[NewsletterIssue]:
    """Return every issue, drafts first, then the newest."""
    return list(
        db.session.scalars(
            select(NewsletterIssue)
            .options(selectinload(NewsletterIssue.contributions))
            .order_by(
                (NewsletterIssue.status == IssueStatus.PUBLISHED),
                NewsletterIssue.published_at.desc(),
                NewsletterIssue.id.desc(),
            )
        )
    )


def issue_by_id(issue_id: int) -> NewsletterIssue | None:
    """Return the issue with its contributions and their organisations, or None."""
    return db.session.scalar(
        select(NewsletterIssue)
        .where(NewsletterIssue.id == issue_id)
        .options(
            selectinload(NewsletterIssue.contributions).selectinload(Contribution.organisation),
            selectinload(NewsletterIssue.campaign),
        )
    )


def contribution_by_id(contribution_id: int) -> Contribution | None:
    return db.session.get(Contribution, contribution_id)


def contribution_pool() -> list[Contribution]:
    """Return the contributions in no issue yet that are not declined, oldest first."""
    return list(
        db.session.scalars(
            select(Contribution)
            .where(
                Contribution.issue_id.is_(None),
                Contribution.status != ContributionStatus.DECLINED,
            )
            .options(selectinload(Contribution.organisation))
            .order_by(Contribution.created_at, Contribution.id)
        )
    )


def audience_size() -> int:
    """Return how many subscribers an issue sent now would reach (active, not suppressed)."""
    segment = segments.Segment.from_dict(SUBSCRIBERS)
    return segments.segment_size(segment, CampaignKind.NEWSLETTER)


def accepted_count(issue: NewsletterIssue) -> int:
    """Return how many of the issue's contributions are accepted (only those are shown)."""
    return sum(1 for item in issue.contributions if item.status is ContributionStatus.ACCEPTED)


def waits_for_sending(issue: NewsletterIssue) -> bool:
    """Return whether the issue still has to be sent: a draft, or published with a draft campaign.

    The second happens only when sending stopped half-way (the process died in between).
    """
    if issue.status is IssueStatus.DRAFT:
        return True
    return issue.campaign is not None and issue.campaign.status is CampaignStatus.DRAFT
