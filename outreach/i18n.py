"""Which language a request is answered in."""

from __future__ import annotations

from flask import current_app, has_request_context, request
from flask_babel import get_locale


def select_locale() -> str:
    """Pick the locale: ``?lang=`` in the URL, then the cookie, then the browser."""
    supported = current_app.config["LANGUAGES"]
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    for candidate in (
        request.args.get("lang"),
        request.cookies.get(current_app.config["LANGUAGE_COOKIE"]),
    ):
        if candidate in supported:
            return candidate
    return request.accept_languages.best_match(supported) or default


def current_locale() -> str:
    """Return the code of the locale this request is answered in ("de", "en")."""
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
