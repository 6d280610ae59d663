"""Data-protection requests under /privacy/request: the form, and the page behind the emailed link.

The form answers the same whatever we hold about the address, so it tells a
stranger nothing. The link's page (GET) only shows what will happen: mail
scanners open links, people press buttons. An export is shown after one
button, an erasure carried out after two. The token is in the URL, so those
pages are kept out of caches and Referer headers.
"""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import ngettext

from outreach.extensions import limiter
from outreach.i18n import current_locale
from outreach.models import PrivacyRequest, PrivacyRequestKind, utcnow
from outreach.privacy import display
from outreach.privacy.forms import PrivacyRequestForm
from outreach.services import erasure, privacy, privacy_requests
from outreach.services.errors import InvalidInput
from outreach.services.privacy_requests import LinkInvalid, LinkState

bp = Blueprint("privacy", __name__, url_prefix="/privacy/request")

bp.context_processor(display.helpers)


def _request_limit() -> str:
    return current_app.config["RATELIMIT_PRIVACY_REQUEST"]


def _hours() -> str:
    hours = max(int(privacy_requests.max_age().total_seconds()) // 3600, 1)
    return ngettext("%(num)d hour", "%(num)d hours", hours)


@bp.after_request
def keep_private(response: Response) -> Response:
    # Behind the link the token is in the URL: keep it out of caches, indexes and Referers.
    if request.view_args and "token" in request.view_args:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


# -- asking ------------------------------------------------------------------------------


def _form_page(form: PrivacyRequestForm, status: int = 200):
    return render_template("privacy/request.html", form=form, hours=_hours()), status


@bp.route("", methods=["GET", "POST"])
@limiter.limit(_request_limit, methods=["POST"], scope="privacy-request")
def ask():
    form = PrivacyRequestForm()
    if not form.is_submitted():
        return _form_page(form)
    if form.filled_by_a_robot():
        # Dropped without a word: the robot sees the same page as a person would.
        return redirect(url_for("privacy.sent"), code=303)
    if not form.validate():
        form.apply_errors(
            InvalidInput(privacy_requests.request_problems(form.email.data, form.kind.data))
        )
        return _form_page(form, 422)
    try:
        privacy_requests.ask(form.email.data, form.kind.data, language=current_locale())
    except InvalidInput as problem:
        form.apply_errors(problem)
        return _form_page(form, 422)
    return redirect(url_for("privacy.sent"), code=303)


@bp.get("/sent")
def sent():
    return render_template("privacy/sent.html", hours=_hours())


# -- the link ----------------------------------------------------------------------------


def _link_invalid():
    return render_template("privacy/link_invalid.html", hours=_hours()), 404


@bp.get("/<token>")
def link(token: str):
    found = privacy_requests.request_for_token(token)
    state = privacy_requests.state_of(found) if found is not None else None
    if found is None or state is None:
        return _link_invalid()
    now = utcnow()
    context: dict = {"token": token, "found": found, "state": state.value}
    if state is LinkState.ERASED:
        return render_template("privacy/erased.html", **context)
    person = privacy.find_person(found.email or "")
    context.update(person=person, holds_data=person.holds_data)
    if state is LinkState.EXPORT_READY:
        return render_template(
            "privacy/export.html",
            data=privacy.describe(person, now=now),
            shown_until=_shown_until(found),
            **context,
        )
    if state is LinkState.ERASURE_CONFIRMED:
        return render_template(
            "privacy/erase_confirm.html",
            counts=person.counts(),
            to_cancel=len(person.to_cancel(now)),
            **context,
        )
    return render_template(
        "privacy/link.html",
        export=found.kind is PrivacyRequestKind.EXPORT,
        hours=_hours(),
        **context,
    )


def _shown_until(found: PrivacyRequest) -> str:
    until: datetime = (found.completed_at or found.requested_at) + privacy_requests.EXPORT_WINDOW
    return display.when(until.isoformat())


@bp.post("/<token>")
def confirm(token: str):
    # CSRFProtect has checked the form's token before this view runs.
    try:
        privacy_requests.confirm(token)
    except LinkInvalid:
        return _link_invalid()
    return redirect(url_for("privacy.link", token=token), code=303)


@bp.post("/<token>/erase")
def erase(token: str):
    try:
        privacy_requests.carry_out_erasure(token)
    except LinkInvalid:
        return _link_invalid()
    except erasure.CannotEraseLastStaff as problem:
        return render_template("privacy/refused.html", message=problem.message), 409
    return redirect(url_for("privacy.link", token=token), code=303)


@bp.get("/<token>/data.json")
def download(token: str):
    try:
        data = privacy_requests.export_for_download(token)
    except LinkInvalid:
        return _link_invalid()
    return display.json_attachment(data, "my-data.json")
