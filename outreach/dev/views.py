"""Development helpers, registered only when DEV_TOOLS is on (never in production).

Until the mail worker exists, the outbox page is the dev mailbox: it lists
every message owed and the private link each one carries.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from outreach.services.outbox_view import recent_messages

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.get("/outbox")
def outbox():
    return render_template("dev/outbox.html", messages=recent_messages(limit=200))
