"""One campaign for staff: its page with preview and progress, and what can be done with it.

Scheduling, sending now, cancelling and test sends each call one service
of ``services.campaigns``; the preview's HTML is served on its own address
in a sandbox, so a script someone wrote into a message never runs.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from outreach.models import Campaign, CampaignKind, CampaignStatus, MessageStatus, utcnow
from outreach.services import audit, segments
from outreach.services import campaigns as campaign_service
from outreach.services.errors import DomainError, InvalidInput
from outreach.staff import campaign_queries as queries
from outreach.staff.audit_log import HistoryItem, readable_history
from outreach.staff.campaign_forms import (
    CancelCampaignForm,
    ScheduleForm,
    SendNowForm,
    TestSendForm,
)
from outreach.staff.campaign_words import WORDS, campaign_time, campaign_zone
from outreach.workspace.choices import language_name, reader_locale

MAX_PAGE = 10_000
SAMPLE_SIZE = 20
NOT_SENT_YET = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
# Whoever opens the preview's address on its own gets it sandboxed too: no script,
# no plug-ins, no forms, no same-origin access; pictures from anywhere may show.
PREVIEW_POLICY = (
    "sandbox; default-src 'none'; img-src https: data:; style-src 'self'; frame-ancestors 'self'"
)


def _locales() -> tuple[str, ...]:
    return tuple(current_app.config["LANGUAGES"])


def _back(campaign: Campaign, **args: Any):
    return redirect(url_for("staff_campaigns.campaign", campaign_id=campaign.id, **args), code=303)


def _segment(campaign: Campaign, *, verify: bool = False) -> segments.Segment | None:
    try:
        return segments.Segment.from_dict(campaign.segment or {}, verify=verify)
    except InvalidInput:
        return None


def audience_size(campaign: Campaign) -> int | None:
    """How many people the campaign reaches now; None when its audience no longer adds up."""
    segment = _segment(campaign, verify=True)
    if segment is None:
        return None
    return segments.segment_size(segment, campaign.kind)


def _message(problem: DomainError) -> str:
    """A refusal in words; for field errors, their messages (these pages have no such field)."""
    if isinstance(problem, InvalidInput) and problem.errors:
        return " ".join(str(message) for message in problem.errors.values())
    return problem.message


# -- the page ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Preview:
    version: str
    recipient: str
    sample: list[Any]
    subject: str = ""
    text: str = ""
    problem: str | None = None

    @property
    def frame_args(self) -> dict[str, str]:
        args = {"version": self.version}
        if self.recipient:
            args["recipient"] = self.recipient
        return args


def _chosen_version(campaign: Campaign, values: Any) -> str:
    version = values.get("version", "")
    if version in _locales():
        return version
    if campaign.fallback_language in _locales():
        return campaign.fallback_language
    return _locales()[0]


def _chosen_recipient() -> str:
    return (request.args.get("recipient") or "").strip().lower()[:254]


def _preview(campaign: Campaign) -> Preview:
    version = _chosen_version(campaign, request.args)
    recipient = _chosen_recipient()
    segment = _segment(campaign)
    sample = segments.sample(segment, campaign.kind, limit=SAMPLE_SIZE) if segment else []
    try:
        rendered = campaign_service.preview(campaign, version, recipient_email=recipient or None)
    except DomainError as problem:
        return Preview(version, recipient, sample, problem=_message(problem))
    return Preview(version, recipient, sample, subject=rendered.subject, text=rendered.text)


def _history(campaign: Campaign) -> list[HistoryItem]:
    items = readable_history(
        audit.entries_for(campaign), zone=campaign_zone(), locale=reader_locale()
    )
    return [
        dataclasses.replace(item, what=str(WORDS.HISTORY.get(item.entry.action, item.what)))
        for item in items
    ]


def campaign_page(
    campaign: Campaign,
    *,
    schedule_form: ScheduleForm | None = None,
    problem: str | None = None,
    status: int = 200,
):
    """Show the campaign: facts, audience, preview, test, schedule, progress and history."""
    due = is_due(campaign)
    not_sent = campaign.status in NOT_SENT_YET and not due
    progress = campaign_service.progress(campaign)
    # Once every message is out (sent, failed or skipped), there is nothing left to stop.
    all_out = campaign.status is CampaignStatus.QUEUED and progress.queued + progress.sending == 0
    preview = _preview(campaign)
    test_form = TestSendForm(version=preview.version)
    test_form.version.choices = [
        SelectChoice(code, language_name(code))
        for code in _locales()
        if code in (campaign.texts or {})
    ]
    return (
        render_template(
            "campaigns/campaign.html",
            campaign=campaign,
            names=queries.segment_names(campaign.segment or {}),
            issue=queries.issue_of(campaign) if campaign.kind is CampaignKind.NEWSLETTER else None,
            size=audience_size(campaign) if not_sent else None,
            progress=progress,
            preview=preview,
            test_form=test_form,
            schedule_form=schedule_form
            or (ScheduleForm.for_campaign(campaign) if not_sent else None),
            due=due,
            may_edit=not_sent and campaign.kind is CampaignKind.OUTREACH,
            may_send=not_sent,
            may_cancel=campaign.status is not CampaignStatus.CANCELLED and not all_out,
            history=_history(campaign),
            problem=problem,
        ),
        status,
    )


def is_due(campaign: Campaign) -> bool:
    """Whether the campaign waits for the worker to queue it (sent now, or its time has come)."""
    return (
        campaign.status is CampaignStatus.SCHEDULED
        and campaign.scheduled_at is not None
        and campaign.scheduled_at <= utcnow()
    )


def preview_frame(campaign: Campaign):
    """Serve the HTML part of the preview for the sandboxed frame on the campaign page."""
    version = _chosen_version(campaign, request.args)
    recipient = _chosen_recipient()
    try:
        rendered = campaign_service.preview(campaign, version, recipient_email=recipient or None)
    except DomainError as problem:
        html = render_template("campaigns/preview.html", problem=_message(problem), version=version)
        status = 409
    else:
        html = render_template("campaigns/preview.html", rendered=rendered, version=version)
        status = 200
    response = make_response(html, status)
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# -- doing things ------------------------------------------------------------------------


def test_send(campaign: Campaign):
    """Queue the chosen language version to the staff member's own address."""
    form = TestSendForm()
    if not form.validate_on_submit():
        abort(400)
    version = _chosen_version(campaign, {"version": form.version.data})
    try:
        campaign_service.test_send(campaign, to=current_user, locale=version)
    except DomainError as problem:
        return campaign_page(campaign, problem=_message(problem), status=409)
    flash(
        _(
            "A test in %(language)s is on its way to %(email)s.",
            language=language_name(version),
            email=current_user.email,
        ),
        "success",
    )
    return _back(campaign, version=version)


def schedule(campaign: Campaign):
    form = ScheduleForm()
    if not form.validate_on_submit():
        return campaign_page(campaign, schedule_form=form, status=422)
    moment = form.moment()
    if moment is None:
        return campaign_page(campaign, schedule_form=form, status=422)
    try:
        campaign_service.schedule(campaign, moment, by=current_user)
    except InvalidInput as problem:
        form.show_errors(problem, {"scheduled_at": "send_time"})
        return campaign_page(campaign, schedule_form=form, status=422)
    except DomainError as problem:
        return campaign_page(campaign, problem=_message(problem), status=409)
    flash(
        _("The campaign will be sent on %(when)s.", when=campaign_time(moment, "full")), "success"
    )
    return _back(campaign)


def send_now(campaign: Campaign):
    """Say how many people will get it (GET); send it (POST)."""
    if campaign.status not in NOT_SENT_YET or is_due(campaign):
        flash(_("This campaign is on its way already."), "info")
        return _back(campaign)
    form = SendNowForm()
    size = audience_size(campaign)

    def confirmation(status: int = 200):
        return (
            render_template("campaigns/send.html", campaign=campaign, form=form, size=size),
            status,
        )

    if not form.is_submitted():
        return confirmation()
    if not form.validate():
        abort(400)
    try:
        campaign_service.send_now(campaign, by=current_user)
    except DomainError as problem:
        form.form_errors.append(_message(problem))
        return confirmation(409)
    flash(_("The campaign is on its way. The progress shows below."), "success")
    return _back(campaign)


def cancel(campaign: Campaign):
    """Say what cancelling stops (GET); cancel (POST)."""
    if campaign.status is CampaignStatus.CANCELLED:
        flash(_("This campaign is cancelled already."), "info")
        return _back(campaign)
    form = CancelCampaignForm()
    progress = campaign_service.progress(campaign)

    def confirmation(status: int = 200):
        return (
            render_template(
                "campaigns/cancel.html", campaign=campaign, form=form, progress=progress
            ),
            status,
        )

    if not form.is_submitted():
        return confirmation()
    if not form.validate():
        abort(400)
    try:
        campaign_service.cancel(campaign, by=current_user)
    except DomainError as problem:
        form.form_errors.append(_message(problem))
        return confirmation(409)
    flash(_("The campaign is cancelled. Messages not yet sent will not go out."), "success")
    return _back(campaign)


# -- progress ----------------------------------------------------------------------------


def progress_numbers(campaign: Campaign) -> dict[str, Any]:
    """The progress as the page's script reads it."""
    progress = campaign_service.progress(campaign)
    counts = {
        name: getattr(progress, name)
        for name in ("total", "queued", "sending", "sent", "failed", "skipped")
    }
    waiting = progress.queued + progress.sending
    return {
        "id": campaign.id,
        "status": campaign.status.value,
        "status_label": str(WORDS.STATUS[campaign.status.value]),
        "recipients": campaign.recipients,
        **counts,
        "finished": progress.finished,
        "percent": round(100 * progress.finished / progress.total) if progress.total else 0,
        "done": campaign.status in (CampaignStatus.QUEUED, CampaignStatus.CANCELLED)
        and waiting == 0,
    }


def progress_json(campaign: Campaign):
    response = jsonify(progress_numbers(campaign))
    response.headers["Cache-Control"] = "no-store"
    return response


def recipients(campaign: Campaign):
    """Who got the campaign, who is waiting, who failed and why; filtered by status."""
    wanted = request.args.get("status") or None
    status = None
    if wanted is not None:
        try:
            status = MessageStatus(wanted)
        except ValueError:
            abort(404)
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    pagination = campaign_service.recipient_statuses(campaign, status=status, page=page)
    return render_template(
        "campaigns/recipients.html",
        campaign=campaign,
        pagination=pagination,
        status=status,
        statuses=list(MessageStatus),
        progress=campaign_service.progress(campaign),
    )
