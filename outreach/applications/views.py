"""The "become a partner" form, and the staff pages that answer applications."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("applications", __name__)


@bp.get("/become-a-partner")
def apply():
    # Placeholder until the pages are built.
    return "applications"
