"""Friendly error pages, and JSON errors for the API."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if _wants_json():
            # A short code like the API's own ("not_found"); keep headers such as Allow.
            code = error.name.lower().replace(" ", "_").replace("'", "")
            response = jsonify(error=code, message=str(error.description))
            response.status_code = error.code or 500
            for name, value in error.get_headers():
                if name.lower() != "content-type":
                    response.headers[name] = value
            return response
        return render_template("errors/error.html", error=error), error.code
