"""Staff pages for the newsletter under /staff/newsletter: issues, review, order, preview, send.

A blueprint of its own (``staff_newsletter``) with the staff workspace's
guard: others log in first or get 403. Ordering works with plain buttons
(one POST each), so it needs no JavaScript.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from outreach.models import Contribution, IssueStatus, NewsletterIssue, User
from outreach.newsletter import display
from outreach.policy import staff_required
from outreach.services import newsletter, newsletter_preview
from outreach.services import newsletter_issues as issues
from outreach.services.errors import DomainError, InvalidInput
from outreach.staff.newsletter_forms import IssueForm, ReviewForm, SendForm

bp = Blueprint("staff_newsletter", __name__, url_prefix="/staff/newsletter")
MOVES = {"up": -1, "down": 1}


@bp.before_request
@staff_required
def staff_only() -> None:
    """Let only staff in: the guard runs before every view of the blueprint."""
    return None


@bp.context_processor
def newsletter_helpers() -> dict[str, Any]:
    return {"section": "staff_newsletter.issues", **display.helpers()}


def _user() -> User:
    """The signed-in user itself, not Flask-Login's proxy, for the services."""
    return current_user._get_current_object()


def _issue_or_404(issue_id: int) -> NewsletterIssue:
    issue = issues.issue_by_id(issue_id)
    if issue is None:
        abort(404)
    return issue


def _contribution_or_404(contribution_id: int) -> Contribution:
    contribution = issues.contribution_by_id(contribution_id)
    if contribution is None:
        abort(404)
    return contribution


def _back_to(issue: NewsletterIssue, anchor: str = ""):
    target = url_for("staff_newsletter.issue", issue_id=issue.id)
    return redirect(f"{target}#{anchor}" if anchor else target, code=303)


def _version() -> str:
    """The language version asked for (``?version=``), else the reader's language."""
    version = request.args.get("version")
    return version if version in current_app.config["LANGUAGES"] else display.reader_locale()


# -- issues ------------------------------------------------------------------------------


def issue_list():
    return render_template(
        "staff/newsletter.html", issues=issues.all_issues(), pool=issues.contribution_pool()
    )


def _form_page(form: IssueForm, issue: NewsletterIssue | None = None, status: int = 200):
    return render_template("staff/newsletter_form.html", form=form, issue=issue), status


def new_issue():
    form = IssueForm.build()
    if not form.is_submitted():
        return _form_page(form)
    if not form.validate():
        return _form_page(form, status=422)
    try:
        issue = issues.create_issue(form.to_input(), by=_user())
    except InvalidInput as problem:
        form.show_errors(problem)
        return _form_page(form, status=422)
    flash(_("The issue is saved. Now add contributions to it."), "success")
    return _back_to(issue)


def edit_issue(issue_id: int):
    issue = _issue_or_404(issue_id)
    form = IssueForm.build(issue)
    if not form.is_submitted():
        return _form_page(form, issue)
    if not form.validate():
        return _form_page(form, issue, status=422)
    try:
        issues.update_issue(issue, form.to_input(), by=_user())
    except InvalidInput as problem:
        form.show_errors(problem)
        return _form_page(form, issue, status=422)
    except issues.IssuePublished as refusal:
        flash(refusal.message, "error")
        return _back_to(issue)
    flash(_("Your changes are saved."), "success")
    return _back_to(issue)


def issue_page(issue_id: int):
    issue = _issue_or_404(issue_id)
    return render_template(
        "staff/newsletter_issue.html",
        issue=issue,
        pool=issues.contribution_pool() if issue.status is IssueStatus.DRAFT else [],
        accepted=issues.accepted_count(issue),
        may_send=issues.waits_for_sending(issue),
    )


# -- contributions in an issue ------------------------------------------------------------


def _change_issue(issue_id: int, change, anchor: str):
    """Run one of the ordering services; a refusal becomes a message on the issue page."""
    issue = _issue_or_404(issue_id)
    try:
        change(issue)
    except DomainError as refusal:
        flash(refusal.message, "error")
    return _back_to(issue, anchor)


def add_contribution(issue_id: int):
    contribution = _contribution_or_404(request.form.get("contribution_id", type=int) or 0)
    return _change_issue(
        issue_id,
        lambda issue: issues.add_to_issue(issue, contribution, by=_user()),
        "issue-contributions",
    )


def remove_contribution(issue_id: int, contribution_id: int):
    contribution = _contribution_or_404(contribution_id)
    return _change_issue(
        issue_id,
        lambda issue: issues.remove_from_issue(issue, contribution, by=_user()),
        "issue-contributions",
    )


def move_contribution(issue_id: int, contribution_id: int):
    contribution = _contribution_or_404(contribution_id)
    offset = MOVES.get(request.form.get("direction", ""))
    if offset is None:
        abort(400)
    return _change_issue(
        issue_id,
        lambda issue: issues.move_in_issue(issue, contribution, offset, by=_user()),
        f"contribution-{contribution.id}",
    )


def _review_page(contribution: Contribution, form: ReviewForm, status: int = 200):
    return render_template(
        "staff/newsletter_review.html", contribution=contribution, form=form
    ), status


def review(contribution_id: int):
    contribution = _contribution_or_404(contribution_id)
    form = ReviewForm(data={"note": contribution.review_note})
    if not form.is_submitted():
        return _review_page(contribution, form)
    if not form.validate() or not (form.accept.data or form.decline.data):
        return _review_page(contribution, form, 422)
    try:
        issues.review_contribution(
            contribution, accept=bool(form.accept.data), note=form.note.data or "", by=_user()
        )
    except InvalidInput as problem:
        form.note.errors = [*form.note.errors, *problem.errors.values()]
        return _review_page(contribution, form, 422)
    except issues.IssuePublished as refusal:
        form.form_errors.append(refusal.message)
        return _review_page(contribution, form, 409)
    flash(_("Your decision is saved. The organisation sees it."), "success")
    return redirect(url_for("staff_newsletter.review", contribution_id=contribution.id), code=303)


# -- preview and sending -----------------------------------------------------------------


def preview_web(issue_id: int):
    issue = _issue_or_404(issue_id)
    version = _version()
    return render_template(
        "staff/newsletter_preview.html",
        issue=issue,
        version=version,
        content=newsletter.issue_content(issue, version),
    )


def preview_email(issue_id: int):
    issue = _issue_or_404(issue_id)
    version = _version()
    return render_template(
        "staff/newsletter_preview_email.html",
        issue=issue,
        version=version,
        mail=newsletter_preview.email_preview(issue, version, to=_user()),
    )


# The email's HTML is framed from its own address with its own policy: a frame written
# into the page (srcdoc) would inherit the page's, which refuses the email's inline styles.
# Sandboxed like the campaign preview: no script, no forms, no same-origin access.
EMAIL_FRAME_POLICY = (
    "sandbox; default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'"
)


def preview_email_html(issue_id: int):
    """Serve the HTML part of the email preview for the frame on the preview page."""
    issue = _issue_or_404(issue_id)
    mail = newsletter_preview.email_preview(issue, _version(), to=_user())
    response = make_response(mail.html)
    response.headers["Content-Security-Policy"] = EMAIL_FRAME_POLICY
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _send_page(issue: NewsletterIssue, form: SendForm, refusal: str = "", status: int = 200):
    return render_template(
        "staff/newsletter_send.html",
        issue=issue,
        form=form,
        refusal=refusal,
        audience=issues.audience_size(),
    ), status


def send(issue_id: int):
    issue = _issue_or_404(issue_id)
    if not issues.waits_for_sending(issue):
        flash(str(issues.IssuePublished.default_message), "error")
        return _back_to(issue)
    form = SendForm()
    if not form.validate_on_submit():
        return _send_page(issue, form)
    try:
        issues.send_issue(issue, by=_user())
    except DomainError as refusal:
        return _send_page(issue, form, refusal=refusal.message, status=409)
    flash(
        _("The issue is published and on its way to the subscribers. Follow the sending below."),
        "success",
    )
    return _back_to(issue)


_ROUTES: list[tuple[str, str, Any, tuple[str, ...]]] = [
    # (rule, endpoint, view, methods)
    ("", "issues", issue_list, ("GET",)),
    ("/new", "new_issue", new_issue, ("GET", "POST")),
    ("/<int:issue_id>", "issue", issue_page, ("GET",)),
    ("/<int:issue_id>/edit", "edit_issue", edit_issue, ("GET", "POST")),
    ("/<int:issue_id>/contributions", "add_contribution", add_contribution, ("POST",)),
    (
        "/<int:issue_id>/contributions/<int:contribution_id>/remove",
        "remove_contribution",
        remove_contribution,
        ("POST",),
    ),
    (
        "/<int:issue_id>/contributions/<int:contribution_id>/move",
        "move_contribution",
        move_contribution,
        ("POST",),
    ),
    ("/<int:issue_id>/preview", "preview_web", preview_web, ("GET",)),
    ("/<int:issue_id>/preview/email", "preview_email", preview_email, ("GET",)),
    ("/<int:issue_id>/preview/email.html", "preview_email_html", preview_email_html, ("GET",)),
    ("/<int:issue_id>/send", "send", send, ("GET", "POST")),
    ("/contributions/<int:contribution_id>", "review", review, ("GET", "POST")),
]

for _rule, _endpoint, _view, _methods in _ROUTES:
    bp.add_url_rule(_rule, _endpoint, _view, methods=list(_methods))
