"""Development helpers, registered only when DEV_TOOLS is on (never in production).

``/dev/outbox`` lists every message owed; ``/dev/mailbox`` shows what the
mailbox transport delivered, as a mail client would (like letter_opener or
Mailpit), so a developer sees every email without anything leaving the machine.
"""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, Response, abort, current_app, render_template, send_file
from werkzeug.utils import secure_filename

from outreach.dev.mailbox import MailboxMessage, list_mailbox, mailbox_path, open_message
from outreach.services.mail_queue import recent_messages

bp = Blueprint("dev", __name__, url_prefix="/dev")

MAILBOX_PAGE_SIZE = 200
# The HTML of an email is someone else's markup: no scripts, no requests, no
# forms, no same-origin access, whether it is framed by our page or opened alone.
MAIL_HTML_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


@bp.get("/outbox")
def outbox():
    return render_template("dev/outbox.html", messages=recent_messages(limit=200))


@bp.get("/mailbox")
def mailbox():
    directory = current_app.config["MAILBOX_DIR"]
    entries, total = list_mailbox(directory, limit=MAILBOX_PAGE_SIZE)
    return render_template("dev/mailbox.html", entries=entries, total=total, directory=directory)


@bp.get("/mailbox/<name>")
def mailbox_message(name: str):
    return render_template("dev/mailbox_message.html", message=_message(name))


@bp.get("/mailbox/<name>/html")
def mailbox_html(name: str):
    message = _message(name)
    if message.html is None:
        abort(404)
    response = Response(message.html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = MAIL_HTML_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/mailbox/<name>/raw")
def mailbox_raw(name: str):
    path = mailbox_path(current_app.config["MAILBOX_DIR"], name)
    if path is None:
        abort(404)
    return send_file(path, mimetype="message/rfc822", as_attachment=True, download_name=name)


@bp.get("/mailbox/<name>/invite.ics")
def mailbox_invite(name: str):
    message = _message(name)
    if message.calendar is None:
        abort(404)
    download_name = secure_filename(message.calendar_filename or "") or "invite.ics"
    if not download_name.endswith(".ics"):
        download_name += ".ics"
    return send_file(
        BytesIO(message.calendar),
        mimetype="text/calendar",
        as_attachment=True,
        download_name=download_name,
    )


def _message(name: str) -> MailboxMessage:
    message = open_message(current_app.config["MAILBOX_DIR"], name)
    if message is None:
        abort(404)
    return message
