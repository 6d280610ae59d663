"""The private manage link: see, change, cancel a registration, get its calendar file."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.exceptions import NotFound

from outreach.calendar.invites import personal_calendar
from outreach.i18n import current_locale
from outreach.manage.forms import CancelForm, change_form
from outreach.models import EventStatus, Registration, RegistrationStatus
from outreach.public.forms import answers_in_words
from outreach.services import checkin
from outreach.services.errors import (
    InvalidInput,
    NotEnoughSeats,
    RegistrationNotChangeable,
)
from outreach.services.registration_input import RegistrationChanges
from outreach.services.registrations import (
    cancel_registration,
    change_registration,
    waitlist_position,
)
from outreach.services.tokens import registration_for_token

bp = Blueprint("manage", __name__, url_prefix="/r")


class LinkNotFound(NotFound):
    """An unknown, mistyped or expired manage link."""


@bp.after_request
def keep_private(response: Response) -> Response:
    # The token is in the URL: keep it out of caches, search engines and Referer headers.
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
            message=_(
                "This link does not work (any more). It may be incomplete, or the event "
                "it belongs to ended some time ago."
            ),
            hint=_(
                "Please copy the whole link from the most recent email we sent you. "
                "If you register again for the same event, we send you a fresh link."
            ),
        ),
        404,
    )


def _registration_or_404(token: str) -> Registration:
    registration = registration_for_token(
        token, grace_days=current_app.config["MANAGE_LINK_GRACE_DAYS"]
    )
    if registration is None:
        raise LinkNotFound()
    return registration


def _shows_check_in_code(registration: Registration) -> bool:
    """A confirmed seat at an event still on gets a code to show at the entrance."""
    return (
        registration.status is RegistrationStatus.CONFIRMED
        and registration.event.status is EventStatus.PUBLISHED
    )


def _render_show(token: str, registration: Registration, form, *, status: int = 200):
    event = registration.event
    locale = current_locale()
    check_in_code = None
    if _shows_check_in_code(registration):
        # segno writes the SVG itself from the signed URL: nothing of the person's input.
        check_in_code = Markup(  # noqa: S704  (segno's own SVG)  # nosec B704
            checkin.qr_svg(checkin.check_in_url(registration), title=_("Your check-in code"))
        )
    return (
        render_template(
            "manage/show.html",
            token=token,
            registration=registration,
            event=event,
            text=event.text(locale),
            answers=answers_in_words(event, registration.answers or {}, locale),
            position=waitlist_position(registration),
            show_online_link=(
                registration.status is RegistrationStatus.CONFIRMED
                and event.is_online
                and event.status is not EventStatus.CANCELLED
            ),
            check_in_code=check_in_code,
            # A cancelled event has nothing left to change; the page only informs.
            form=form if registration.can_be_changed else None,
        ),
        status,
    )


@bp.get("/<token>")
def show(token: str):
    registration = _registration_or_404(token)
    return _render_show(token, registration, change_form(registration, current_locale()))


@bp.post("/<token>")
def update(token: str):
    registration = _registration_or_404(token)
    form = change_form(registration, current_locale())
    if not registration.can_be_changed:
        flash(_("This registration can no longer be changed."), "error")
        return redirect(url_for("manage.show", token=token), code=303)
    if not form.validate():
        return _render_show(token, registration, form, status=422)
    changes = RegistrationChanges(
        guests=form.guests_value, language=form.language.data, answers=form.answers()
    )
    try:
        change_registration(registration, changes)
    except InvalidInput as problem:
        form.apply_errors(problem)
        return _render_show(token, registration, form, status=422)
    except NotEnoughSeats as problem:
        form.add_error("guests", problem.message)
        return _render_show(token, registration, form, status=409)
    except RegistrationNotChangeable as problem:
        flash(problem.message, "error")
        return redirect(url_for("manage.show", token=token), code=303)
    flash(_("Your changes have been saved."), "success")
    return redirect(url_for("manage.show", token=token), code=303)


@bp.route("/<token>/cancel", methods=["GET", "POST"])
def cancel(token: str):
    """Ask 'Do you really want to cancel?' (GET); cancel when the answer comes (POST)."""
    registration = _registration_or_404(token)
    if not registration.can_be_cancelled:
        return redirect(url_for("manage.show", token=token), code=303)
    form = CancelForm()
    if not form.validate_on_submit():
        event = registration.event
        return render_template(
            "manage/cancel.html",
            token=token,
            registration=registration,
            event=event,
            text=event.text(current_locale()),
            form=form,
        )
    try:
        cancel_registration(registration)
    except RegistrationNotChangeable as problem:
        flash(problem.message, "error")
    else:
        flash(_("Your registration has been cancelled."), "success")
    return redirect(url_for("manage.show", token=token), code=303)


@bp.get("/<token>/calendar.ics")
def calendar(token: str):
    """The person's own copy of the event: their details, the join link once confirmed."""
    registration = _registration_or_404(token)
    body = personal_calendar(registration)
    return Response(
        body,
        content_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{registration.event.slug}.ics"'},
    )


@bp.get("/<token>/check-in.png")
def check_in_png(token: str):
    """The check-in code as an image, to save on the phone or print."""
    registration = _registration_or_404(token)
    if not _shows_check_in_code(registration):
        raise LinkNotFound()
    return Response(
        checkin.qr_png(checkin.check_in_url(registration), scale=8),
        content_type="image/png",
        headers={
            "Content-Disposition": f'inline; filename="check-in-{registration.event.slug}.png"'
        },
    )
