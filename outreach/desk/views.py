"""The event desk under /desk/events/<id>/, and the check-in links in QR codes."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("desk", __name__)
