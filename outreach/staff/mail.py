"""The mail queue for staff: how it is doing, what failed and why, sending it again."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from outreach.services import dashboard, delivery_feedback
from outreach.services import mail_queue as queue
from outreach.services.errors import MessageNotFound, MessageNotRetryable
from outreach.staff.forms import ConfirmForm

DELIVERY_PROBLEM = {
    "hard_bounce": _l("Hard bounce"),
    "soft_bounce": _l("Soft bounce"),
    "complaint": _l("Complaint"),
}
REPORT_SOURCE = {"dsn": _l("bounce message"), "webhook": _l("provider")}


def _render(*, problem: str | None = None, status: int = 200):
    return (
        render_template(
            "staff/mail_queue.html",
            health=dashboard.mail_health(),
            retry_form=ConfirmForm(),
            problem=problem,
            delivery_reports=delivery_feedback.latest_reports(),
            problem_labels=DELIVERY_PROBLEM,
            source_labels=REPORT_SOURCE,
        ),
        status,
    )


def mail_queue():
    return _render()


def mail_queue_json():
    """Give monitoring the queue's numbers: counts, oldest waiting message, failures."""
    response = jsonify(dashboard.mail_health().as_json())
    response.headers["Cache-Control"] = "no-store"
    return response


def retry_message(message_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        queue.retry(message_id)
    except MessageNotFound:
        abort(404)
    except MessageNotRetryable as problem:
        return _render(problem=problem.message, status=409)
    flash(_("The message is back in the queue."), "success")
    return redirect(url_for("staff.mail_queue"), code=303)


def retry_all_failed():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    number = queue.retry_all_failed()
    flash(
        ngettext(
            "%(num)d message is back in the queue.",
            "%(num)d messages are back in the queue.",
            number,
        ),
        "success",
    )
    return redirect(url_for("staff.mail_queue"), code=303)
