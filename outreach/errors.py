"""Friendly error pages, and JSON errors for the API."""

from __future__ import annotations

import math
import time

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from outreach.extensions import limiter

# When the limiter cannot say when its window ends (it always can, but never guess 0).
DEFAULT_RETRY_AFTER = 60


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _retry_after(error: HTTPException) -> int:
    """Seconds until the rate limit that refused this request lets it through again."""
    for name, value in error.get_headers():
        if name.lower() == "retry-after" and value.isdigit():
            return max(int(value), 1)
    current = limiter.current_limit if limiter.enabled else None
    if current is not None and current.breached:
        try:
            # As Flask-Limiter counts it for its own Retry-After: whole seconds, rounded down.
            return max(int(current.reset_at - time.time()), 1)
        except Exception:  # the storage went away: a minute is a fair guess
            current_app.logger.warning("rate limit storage unreadable for Retry-After")
    return DEFAULT_RETRY_AFTER


def _too_many_requests_message(seconds: int) -> str:
    if seconds <= 60:
        return _("You sent many requests in a short time. Please wait a minute and try again.")
    minutes = math.ceil(seconds / 60)
    return ngettext(
        "You sent many requests in a short time. Please try again in %(num)d minute.",
        "You sent many requests in a short time. Please try again in %(num)d minutes.",
        minutes,
    )


def _size_in_words(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{format_decimal(round(size / (1024 * 1024), 1))} MB"
    return f"{format_decimal(max(round(size / 1024), 1))} KB"


def _too_large_message() -> str:
    # The request's own limit: an upload view may allow more than MAX_CONTENT_LENGTH.
    limit = request.max_content_length
    if not limit:
        return _("What you sent is too large. Please shorten your entries and try again.")
    return _(
        "What you sent is too large: at most %(size)s fit in one form. Please shorten "
        "your entries or choose a smaller file, and try again.",
        size=_size_in_words(limit),
    )


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        headers = {}
        message = None
        if error.code == 429:
            seconds = _retry_after(error)
            headers["Retry-After"] = str(seconds)
            message = _too_many_requests_message(seconds)
        elif error.code == 413:
            message = _too_large_message()
        if _wants_json():
            # A short code like the API's own ("not_found"); keep headers such as Allow.
            code = error.name.lower().replace(" ", "_").replace("'", "")
            response = jsonify(error=code, message=message or str(error.description))
            response.status_code = error.code or 500
            for name, value in error.get_headers():
                if name.lower() != "content-type":
                    response.headers[name] = value
            response.headers.update(headers)
            return response
        page = render_template("errors/error.html", error=error, message=message)
        return page, error.code, headers
