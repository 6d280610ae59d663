"""The staff workspace under /staff/."""

from __future__ import annotations

from flask import Blueprint

from outreach.policy import staff_required

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.get("/")
@staff_required
def dashboard():
    # Placeholder until the pages are built.
    return "staff"
