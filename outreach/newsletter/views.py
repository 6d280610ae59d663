"""The newsletter's public pages under /newsletter: subscribe, confirm, and the archive.

Subscribing answers with the same page whatever the address's state, so the
form tells nobody who subscribed. The confirmation link opens a page with a
button: only its POST confirms, because mail scanners follow links (GET) but
do not press buttons.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)

from outreach.extensions import limiter
from outreach.i18n import current_locale
from outreach.mail.unsubscribe import preferences_url
from outreach.newsletter import display
from outreach.newsletter.forms import SubscribeForm
from outreach.services import newsletter
from outreach.services.contributions import IMAGE_NAME, image_dir
from outreach.services.errors import InvalidInput

bp = Blueprint("newsletter", __name__, url_prefix="/newsletter")

# Subscriptions per client address; config RATELIMIT_NEWSLETTER overrides it.
DEFAULT_SUBSCRIBE_LIMIT = "10 per hour"
# A picture never changes under its name: a new one gets a new name.
IMAGE_MAX_AGE = 365 * 24 * 3600

bp.context_processor(display.helpers)


def _subscribe_limit() -> str:
    return current_app.config.get("RATELIMIT_NEWSLETTER", DEFAULT_SUBSCRIBE_LIMIT)


# -- subscribing -------------------------------------------------------------------------


def _subscribe_page(form: SubscribeForm, status: int = 200):
    return render_template("newsletter/subscribe.html", form=form), status


@bp.route("/subscribe", methods=["GET", "POST"])
@limiter.limit(_subscribe_limit, methods=["POST"], scope="newsletter-subscribe")
def subscribe():
    locale = current_locale()
    form = SubscribeForm.for_locale(locale, newsletter.topic_choices())
    if not form.is_submitted():
        return _subscribe_page(form)
    if form.filled_by_a_robot():
        # Dropped without a word: the robot sees the same page as a person would.
        return redirect(url_for("newsletter.thanks"), code=303)
    data = form.to_input(consent_language=locale, ip=request.remote_addr)
    if not form.validate():
        # Name every problem at once, not only those the form itself sees.
        form.apply_errors(InvalidInput(newsletter.subscription_problems(data)))
        return _subscribe_page(form, 422)
    try:
        newsletter.subscribe(data)
    except InvalidInput as problem:
        form.apply_errors(problem)
        return _subscribe_page(form, 422)
    return redirect(url_for("newsletter.thanks"), code=303)


@bp.get("/subscribe/thanks")
def thanks():
    return render_template("newsletter/thanks.html")


# The confirmation token is in the address: no cache keeps the page, no other site learns it.
PRIVATE_PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _link_invalid():
    return render_template("newsletter/link_invalid.html"), 404, PRIVATE_PAGE_HEADERS


@bp.get("/confirm/<token>")
def confirm(token: str):
    subscriber = newsletter.subscriber_for_token(token)
    if subscriber is None:
        return _link_invalid()
    page = render_template(
        "newsletter/confirm.html",
        token=token,
        subscriber=subscriber,
        preferences=preferences_url(subscriber.email) if subscriber.is_active else None,
    )
    return page, 200, PRIVATE_PAGE_HEADERS


@bp.post("/confirm/<token>")
def confirm_post(token: str):
    # CSRFProtect has checked the form's token before this view runs.
    try:
        newsletter.confirm(token)
    except newsletter.LinkInvalid:
        return _link_invalid()
    # The page behind the link now says the subscription is active.
    return redirect(url_for("newsletter.confirm", token=token), code=303)


# -- the archive -------------------------------------------------------------------------


@bp.get("")
def archive():
    return render_template("newsletter/archive.html", issues=newsletter.published_issues())


@bp.get("/<slug>")
def issue(slug: str):
    found = newsletter.published_issue(slug)
    if found is None:
        abort(404)
    return render_template(
        "newsletter/issue.html",
        issue=found,
        content=newsletter.issue_content(found, current_locale()),
    )


@bp.get("/images/<name>")
def image(name: str):
    if not IMAGE_NAME.fullmatch(name):
        abort(404)
    response = send_from_directory(image_dir(), name, max_age=IMAGE_MAX_AGE)
    response.cache_control.public = True
    response.cache_control.immutable = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
