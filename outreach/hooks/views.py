"""``POST /hooks/delivery``: the mail provider reports bounces and complaints, signed.

The body is ``{"events": [{"type": "hard_bounce" | "soft_bounce" | "complaint",
"email": "...", "message_id": "<...>", "detail": "..."}]}``, signed as
``outreach.hooks.signing`` describes. Without DELIVERY_WEBHOOK_SECRET the
endpoint does not exist (404). Answers are JSON: 401 for a missing, stale or
wrong signature, 400 with field messages for a body we cannot use (and then
nothing is recorded), 200 with what was recorded. Sending the same events
again records nothing new. Give ``message_id`` where there is one: it links
the report to the outbox row, and soft bounces count once per message.
"""

from __future__ import annotations

import json
import time

from flask import Blueprint, Response, abort, current_app, jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from outreach.extensions import csrf
from outreach.hooks.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_problem
from outreach.services import delivery_feedback
from outreach.services.errors import InvalidInput

bp = Blueprint("hooks", __name__, url_prefix="/hooks")


def _error(status: int, code: str, message: str, **extra: object) -> Response:
    response = jsonify(error=code, message=message, **extra)
    response.status_code = status
    return response


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    """Answer machines in JSON, also for 404 and a body that is too large (413)."""
    code = error.name.lower().replace(" ", "_")
    return _error(error.code or 400, code, str(error.description))


@bp.post("/delivery")
@csrf.exempt  # machines sign their requests instead
def delivery() -> Response:
    secret = current_app.config.get("DELIVERY_WEBHOOK_SECRET")
    if not secret:
        abort(404)
    body = request.get_data(cache=False)
    problem = signature_problem(
        secret,
        request.headers.get(TIMESTAMP_HEADER),
        request.headers.get(SIGNATURE_HEADER),
        body,
        now=time.time(),
    )
    if problem is not None:
        return _error(401, "unauthorized", problem)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        message = _("The body is not valid JSON.")
        return _error(400, "invalid", message, fields={"body": message})
    try:
        outcome = delivery_feedback.record_webhook(data)
    except InvalidInput as error:
        return _error(400, "invalid", error.message, fields=error.errors)
    return jsonify(recorded=outcome.recorded, duplicates=outcome.duplicates)
