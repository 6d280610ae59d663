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
            response = jsonify(error=error.name, message=error.description)
            response.status_code = error.code or 500
            return response
        return render_template("errors/error.html", error=error), error.code
