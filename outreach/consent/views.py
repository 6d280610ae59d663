"""The privacy notice at /privacy: who is responsible, what is kept, how long, your rights.

The notice is versioned Markdown per language (services/consent.py); this
page fills in the organisation, the contact address and the retention
periods from the configuration, and lists the consent texts of the forms
word for word, with their versions.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from urllib.parse import quote

from flask import Blueprint, current_app, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from outreach.i18n import current_locale
from outreach.rich_text import render_markdown
from outreach.services import consent
from outreach.services.consent import Purpose

bp = Blueprint("consent", __name__)

PURPOSE_NAMES = {
    Purpose.REGISTRATION: _l("Registering for an event"),
    Purpose.API_REGISTRATION: _l("Registering for an event in a partner's app (through our API)"),
    Purpose.NEWSLETTER: _l("Subscribing to the newsletter"),
    Purpose.PARTNER_APPLICATION: _l("Applying as a partner organisation"),
}

# Characters Markdown could read as formatting; a backslash makes each one literal.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&\"'])")


def _literal(text: str) -> str:
    """Return ``text`` as Markdown that shows it as typed."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def contact_address() -> str:
    """Return the address for data-protection questions: PRIVACY_CONTACT, else the sender."""
    configured = current_app.config.get("PRIVACY_CONTACT") or ""
    sender = current_app.config.get("MAIL_DEFAULT_SENDER") or ""
    if isinstance(sender, tuple):  # Flask-Mail accepts (name, address) too
        sender = sender[-1]
    return parseaddr(configured or sender)[1]


def _notice_values() -> dict[str, str]:
    config = current_app.config
    address = contact_address()
    return {
        "site_name": _literal(config.get("SITE_NAME") or "Outreach"),
        "contact": f"[{_literal(address)}](mailto:{quote(address, safe='@+')})",
        "retention_days": str(config["RETENTION_DAYS"]),
        "outbox_retention_days": str(config["OUTBOX_RETENTION_DAYS"]),
        # Absolute: the Markdown sanitiser keeps http(s) and mailto links only.
        "request_url": quote(config["BASE_URL"].rstrip("/") + url_for("privacy.ask"), safe="/?=&:"),
    }


@bp.get("/privacy")
def notice():
    locale = current_locale()
    language, markdown = consent.notice_markdown(locale)
    return render_template(
        "consent/notice.html",
        notice_html=render_markdown(consent.fill(markdown, **_notice_values())),
        notice_language=language,
        notice_version=consent.NOTICE_VERSION,
        texts=[(PURPOSE_NAMES[purpose], consent.current(purpose, locale)) for purpose in Purpose],
        hosts_placeholder=_("named on the event's page"),
        request_url=url_for("privacy.ask"),
    )
