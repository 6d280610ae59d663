"""Links to the privacy notice, for the consent checkboxes of the public forms."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup


def consent_hint() -> Markup:
    """Return the hint under a consent checkbox: a sentence and a link to the notice."""
    return Markup('{} <a href="{}">{}</a>').format(
        _("How we use your data, and your rights:"),
        url_for("consent.notice"),
        _("Privacy notice"),
    )
