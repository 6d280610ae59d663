"""Unsubscribe with one click, and choose what bulk mail to get: pages for a signed link.

``GET /unsubscribe/<token>`` only shows a button: mail scanners and link
previews open every link in a message, and must not unsubscribe anyone.
``POST /unsubscribe/<token>`` unsubscribes: the button, or a mail client's
RFC 8058 one-click request (body ``List-Unsubscribe=One-Click``, no cookies,
no CSRF token; the signed token in the URL is what proves the request).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound

from outreach.extensions import csrf, limiter
from outreach.i18n import current_locale
from outreach.mail.unsubscribe import (
    preferences_token,
    read_preferences_token,
    read_unsubscribe_token,
)
from outreach.models import SuppressionScope
from outreach.services import mail_preferences
from outreach.services.errors import InvalidInput
from outreach.unsubscribe.forms import LeaveForm, PreferencesForm

bp = Blueprint("unsubscribe", __name__)

# Mild: mail providers send one-click requests for many people from few addresses.
DEFAULT_UNSUBSCRIBE_LIMIT = "120 per minute"


def _unsubscribe_limit() -> str:
    return current_app.config.get("RATELIMIT_UNSUBSCRIBE", DEFAULT_UNSUBSCRIBE_LIMIT)


class LinkNotFound(NotFound):
    """A mistyped, truncated or forged unsubscribe or preferences link."""


@bp.after_request
def keep_private(response: Response) -> Response:
    # The token in the URL names an address: keep it out of caches, indexes and Referer headers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.errorhandler(LinkNotFound)
def link_not_found(error: LinkNotFound):
    return (
        render_template(
            "errors/error.html",
            error=error,
            message=_("This link does not work. It may be incomplete."),
            hint=_(
                "Please copy the whole link from the email, or use the link at the end "
                "of the most recent email we sent you."
            ),
        ),
        404,
    )


def _unsubscribe_link(token: str) -> tuple[str, SuppressionScope]:
    found = read_unsubscribe_token(token)
    if found is None:
        raise LinkNotFound()
    return found


def _preferences_link(token: str) -> str:
    email = read_preferences_token(token)
    if email is None:
        raise LinkNotFound()
    return email


# -- unsubscribe --------------------------------------------------------------------


@bp.get("/unsubscribe/<token>")
def confirm(token: str):
    """Ask before unsubscribing: a GET changes nothing."""
    email, scope = _unsubscribe_link(token)
    return render_template("unsubscribe/confirm.html", token=token, email=email, scope=scope)


@bp.post("/unsubscribe/<token>")
@csrf.exempt
@limiter.limit(_unsubscribe_limit, scope="unsubscribe")
def unsubscribe(token: str):
    """Unsubscribe (the page's button, or a one-click POST from a mail client); again is fine."""
    email, scope = _unsubscribe_link(token)
    mail_preferences.unsubscribe(email, scope)
    if request.form.get("List-Unsubscribe") == "One-Click":
        # A mail client asked on the person's behalf: it shows its own confirmation.
        return Response("Unsubscribed.\n", content_type="text/plain; charset=utf-8")
    return render_template(
        "unsubscribe/done.html",
        scope=scope,
        preferences_url=url_for("unsubscribe.preferences", token=preferences_token(email)),
    )


# -- preferences --------------------------------------------------------------------


def _render_preferences(token: str, email: str, form: PreferencesForm, status: int = 200):
    preferences = mail_preferences.preferences_for(email, locale=current_locale())
    form.offer(preferences)
    return (
        render_template(
            "unsubscribe/preferences.html", token=token, preferences=preferences, form=form
        ),
        status,
    )


@bp.get("/preferences/<token>")
def preferences(token: str):
    email = _preferences_link(token)
    return _render_preferences(token, email, PreferencesForm())


@bp.post("/preferences/<token>")
@limiter.limit(_unsubscribe_limit, scope="unsubscribe")
def save_preferences(token: str):
    email = _preferences_link(token)
    form = PreferencesForm()
    if not form.validate():
        return _render_preferences(token, email, form, status=422)
    try:
        mail_preferences.update_preferences(email, form.to_input())
    except InvalidInput as problem:
        form.apply_errors(problem)
        return _render_preferences(token, email, form, status=422)
    flash(_("Your choices have been saved."), "success")
    return redirect(url_for("unsubscribe.preferences", token=token), code=303)


@bp.route("/preferences/<token>/leave", methods=["GET", "POST"])
@limiter.limit(_unsubscribe_limit, methods=["POST"], scope="unsubscribe")
def leave(token: str):
    """Ask 'Stop all these emails?' (GET); stop them when the answer comes (POST)."""
    email = _preferences_link(token)
    form = LeaveForm()
    if not form.validate_on_submit():
        return render_template("unsubscribe/leave.html", token=token, email=email, form=form)
    mail_preferences.leave_everything(email)
    return render_template("unsubscribe/left.html", token=token)
