"""Staff pages for campaigns under /staff/campaigns: list, audience and texts, preview, sending.

A blueprint of its own (``staff_campaigns``) with the staff workspace's guard:
others log in first or get 403. Sending, scheduling, cancelling and test
sends are in ``campaign_actions``; this module builds and shows campaigns.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.exceptions import Conflict

from outreach.models import Campaign, CampaignKind, CampaignStatus
from outreach.policy import staff_required
from outreach.services import campaigns as campaign_service
from outreach.services import segments
from outreach.services.campaign_text import PLACEHOLDERS
from outreach.services.campaigns import CampaignInput
from outreach.services.errors import DomainError, InvalidInput
from outreach.staff import campaign_actions as actions
from outreach.staff import campaign_queries as queries
from outreach.staff import labels
from outreach.staff.campaign_forms import CampaignForm, campaign_form, segment_field_errors
from outreach.staff.campaign_words import WORDS, campaign_time

bp = Blueprint("staff_campaigns", __name__, url_prefix="/staff/campaigns")

CAMPAIGNS_PER_PAGE = 25
MAX_PAGE = 10_000
EDITABLE = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)


@bp.before_request
@staff_required
def staff_only() -> None:
    """Let only staff in: the guard runs before every view of the blueprint."""
    return None


@bp.context_processor
def campaign_helpers() -> dict[str, Any]:
    return {"labels": labels, "words": WORDS, "campaign_time": campaign_time}


def campaign_or_404(campaign_id: int) -> Campaign:
    try:
        return campaign_service.get_campaign(campaign_id)
    except campaign_service.CampaignNotFound:
        abort(404)


def _page_number() -> int:
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)


@bp.get("")
def campaigns():
    pagination = queries.campaign_list(page=_page_number(), per_page=CAMPAIGNS_PER_PAGE)
    rows = [(campaign, campaign_service.progress(campaign)) for campaign in pagination.items]
    return render_template("campaigns/index.html", pagination=pagination, rows=rows)


# -- building a campaign -----------------------------------------------------------------


def _size(form: CampaignForm) -> tuple[int | None, bool]:
    """Count the audience the form describes; (None, False) with messages if it is wrong."""
    if not form.check_segment_fields():
        return None, False
    try:
        segment = segments.Segment.from_dict(form.segment())
    except InvalidInput as problem:
        form.show_errors(problem)
        return None, False
    return segments.segment_size(segment, CampaignKind.OUTREACH), True


def _form_page(form: CampaignForm, campaign: Campaign | None, *, size: int | None, status: int):
    return (
        render_template(
            "campaigns/form.html",
            form=form,
            campaign=campaign,
            size=size,
            placeholders=PLACEHOLDERS,
        ),
        status,
    )


def _campaign_input(form: CampaignForm) -> CampaignInput:
    return CampaignInput(
        kind=CampaignKind.OUTREACH,
        name=(form.name.data or "").strip(),
        texts=form.texts(),
        fallback_language=form.fallback_language.data or "",
        segment=form.segment(),
    )


def _save(form: CampaignForm, campaign: Campaign | None):
    """Count (the "Update count" button) or save: the shared steps of new and edit."""
    if not form.is_submitted():
        size = _size(form)[0] if campaign is not None else None
        return _form_page(form, campaign, size=size, status=200)
    if form.wants_count:
        size, counted = _size(form)
        return _form_page(form, campaign, size=size, status=200 if counted else 422)
    if not form.validate():
        return _form_page(form, campaign, size=None, status=422)
    try:
        if campaign is None:
            campaign = campaign_service.create_campaign(_campaign_input(form), by=current_user)
            flash(_("The campaign is saved as a draft."), "success")
        else:
            campaign_service.update_campaign(campaign, _campaign_input(form), by=current_user)
            flash(_("Your changes are saved."), "success")
    except InvalidInput as problem:
        form.show_errors(problem)
        return _form_page(form, campaign, size=None, status=422)
    except DomainError as problem:
        form.form_errors.append(problem.message)
        return _form_page(form, campaign, size=None, status=409)
    return redirect(url_for("staff_campaigns.campaign", campaign_id=campaign.id), code=303)


@bp.route("/new", methods=["GET", "POST"])
def new_campaign():
    return _save(campaign_form(), None)


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
def edit_campaign(campaign_id: int):
    """Change a draft or scheduled outreach campaign; newsletters change on their issue."""
    campaign = campaign_or_404(campaign_id)
    if campaign.kind is not CampaignKind.OUTREACH or campaign.status not in EDITABLE:
        return _not_editable(campaign)
    return _save(campaign_form(campaign), campaign)


def _not_editable(campaign: Campaign):
    if campaign.kind is CampaignKind.NEWSLETTER:
        message = _("A newsletter is changed on its issue, not here.")
    else:
        message = _("This campaign is on its way or cancelled: it cannot be changed any more.")
    return render_template("errors/error.html", error=Conflict(), message=message), 409


@bp.get("/segment-size")
def segment_size():
    """Count the audience described by the form's fields in the query: ``{"size": n}``."""
    form = campaign_form(formdata=request.args, csrf=False)
    size, counted = _size(form)
    if not counted:
        errors = segment_field_errors(form)
        return _no_store(_json_error(errors)), 422
    message = ngettext(
        "This campaign reaches %(num)d person.", "This campaign reaches %(num)d people.", size
    )
    return _no_store(jsonify(size=size, message=message))


def _json_error(errors: dict[str, str]):
    return jsonify(
        error="invalid_input", message=_("Please correct the marked fields."), errors=errors
    )


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


# -- one campaign ------------------------------------------------------------------------


@bp.get("/<int:campaign_id>")
def campaign(campaign_id: int):
    return actions.campaign_page(campaign_or_404(campaign_id))


_ACTION_ROUTES: list[tuple[str, str, Any, tuple[str, ...]]] = [
    # (rule, endpoint, view, methods); the views take the campaign.
    ("/<int:campaign_id>/preview.html", "preview_frame", actions.preview_frame, ("GET",)),
    ("/<int:campaign_id>/test", "test_send", actions.test_send, ("POST",)),
    ("/<int:campaign_id>/schedule", "schedule", actions.schedule, ("POST",)),
    ("/<int:campaign_id>/send", "send_now", actions.send_now, ("GET", "POST")),
    ("/<int:campaign_id>/cancel", "cancel", actions.cancel, ("GET", "POST")),
    ("/<int:campaign_id>/progress.json", "progress", actions.progress_json, ("GET",)),
    ("/<int:campaign_id>/recipients", "recipients", actions.recipients, ("GET",)),
]


def _with_campaign(view):
    def load(campaign_id: int):
        return view(campaign_or_404(campaign_id))

    return load


for _rule, _endpoint, _view, _methods in _ACTION_ROUTES:
    bp.add_url_rule(_rule, _endpoint, _with_campaign(_view), methods=list(_methods))
