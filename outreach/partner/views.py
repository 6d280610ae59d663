"""The partner workspace under /partner/."""

from __future__ import annotations

from flask import Blueprint

from outreach.policy import partner_required

bp = Blueprint("partner", __name__, url_prefix="/partner")


@bp.get("/")
@partner_required
def dashboard():
    # Placeholder until the pages are built.
    return "partner"
