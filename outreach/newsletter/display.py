"""How issues are named and dated on pages, in the reader's language and the site's zone."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import format_date, get_locale

from outreach.models import Contribution, NewsletterIssue
from outreach.rich_text import render_markdown
from outreach.services.contributions import title_of
from outreach.translation import pick_translation


def reader_locale() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def issue_title(issue: NewsletterIssue) -> str:
    """Return the issue's title in the reader's language, or another one it has."""
    return pick_translation(issue.title or {}, reader_locale()) or issue.slug


def issue_date(issue: NewsletterIssue) -> str:
    """Return the day the issue was sent, e.g. '28. November 2026', or '' for a draft."""
    if issue.published_at is None:
        return ""
    return format_date(issue.published_at, "long")


def contribution_title(contribution: Contribution) -> str:
    """Return the contribution's title in the reader's language, or another one it has."""
    return title_of(contribution, reader_locale())


def helpers() -> dict[str, Any]:
    """The template helpers newsletter pages use (for a blueprint's context processor)."""
    return {
        "issue_title": issue_title,
        "issue_date": issue_date,
        "contribution_title": contribution_title,
        # Markdown as readers will see it: sanitised HTML, no placeholders (also `| markdown`).
        "markdown_html": render_markdown,
    }
