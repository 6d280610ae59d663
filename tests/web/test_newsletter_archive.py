"""The public archive: published issues only, in the reader's language, with inert partner text."""

from __future__ import annotations

from datetime import timedelta

import pytest

from outreach.extensions import db
from outreach.models import NewsletterIssue, utcnow
from outreach.services import contributions, newsletter_issues
from outreach.services.contributions import ContributionInput
from outreach.services.newsletter_issues import IssueInput
from tests.web.html import page


@pytest.fixture
def staff(make_user):
    return make_user("staff")


@pytest.fixture
def make_issue(staff, make_user, make_org):
    """Create an issue with one accepted contribution; ``sent`` publishes it."""

    def make(slug: str, *, sent: bool = True, title: dict | None = None, texts: dict | None = None):
        issue = newsletter_issues.create_issue(
            IssueInput(
                slug=slug,
                title=title or {"de": f"Heft {slug}", "en": f"Issue {slug}"},
                intro={"de": "Liebe Leute", "en": "Dear all"} if title is None else {},
            ),
            by=staff,
        )
        partner = make_user("partner", org=make_org(name=f"Verein {slug}"))
        contribution = contributions.submit_contribution(
            ContributionInput(
                texts=texts
                or {
                    "de": {"title": "Sommerfest", "body": "Wir **feiern**."},
                    "en": {"title": "Summer party", "body": "We **celebrate**."},
                }
            ),
            by=partner,
        )
        newsletter_issues.add_to_issue(issue, contribution, by=staff)
        newsletter_issues.review_contribution(contribution, accept=True, by=staff)
        if sent:
            newsletter_issues.send_issue(issue, by=staff)
        return issue

    return make


def test_an_empty_archive_invites_to_subscribe(client):
    response = client.get("/newsletter?lang=en")
    assert response.status_code == 200
    html = page(response)
    assert "No issue has been published yet." in html.one(class_="empty-state").text
    assert html.all("a", href="/newsletter/subscribe")


def test_the_archive_lists_published_issues_newest_first(client, make_issue):
    older = make_issue("2025-herbst")
    db.session.get(NewsletterIssue, older.id).published_at = utcnow() - timedelta(days=180)
    db.session.commit()
    make_issue("2026-fruehling")
    make_issue("entwurf", sent=False)

    html = page(client.get("/newsletter?lang=en"))
    links = [a.attrs["href"] for a in html.one("ul", class_="nl-issue-list").all("a")]
    assert links == ["/newsletter/2026-fruehling", "/newsletter/2025-herbst"]
    assert html.one("a", href="/newsletter/2026-fruehling").text == "Issue 2026-fruehling"
    assert "Heft 2026-fruehling" in page(client.get("/newsletter?lang=de")).text


def test_an_issue_page_is_in_the_reader_s_language(client, make_issue):
    make_issue("2026-herbst")
    english = page(client.get("/newsletter/2026-herbst?lang=en"))
    assert english.one("h1").text == "Issue 2026-herbst"
    assert "Dear all" in english.text
    assert english.one("h2", id="nl-item-1").text == "Summer party"
    assert "From Verein 2026-herbst" in english.text
    assert "<strong>celebrate</strong>" in english.html
    assert english.all("a", href="/newsletter/subscribe")
    german = page(client.get("/newsletter/2026-herbst?lang=de"))
    assert german.one("h1").text == "Heft 2026-herbst"
    assert german.one("h2", id="nl-item-1").text == "Sommerfest"


def test_a_text_in_another_language_is_marked_as_such(client, make_issue):
    make_issue(
        "nur-deutsch", title={"de": "Nur Deutsch"}, texts={"de": {"title": "T", "body": "B"}}
    )
    html = page(client.get("/newsletter/nur-deutsch?lang=en"))
    assert html.one("h1").attrs["lang"] == "de"
    assert html.one("article", class_="nl-item").attrs["lang"] == "de"


def test_drafts_and_unknown_issues_are_not_found(client, make_issue):
    make_issue("entwurf", sent=False)
    assert client.get("/newsletter/entwurf").status_code == 404
    assert client.get("/newsletter/gibt-es-nicht").status_code == 404
    assert client.get("/newsletter/images/../../secret.png").status_code == 404
    assert client.get("/newsletter/images/not-ours.png").status_code == 404


def test_markup_from_a_partner_renders_inert_on_the_archive_page(client, make_issue):
    make_issue(
        "xss",
        texts={
            "de": {
                "title": "<script>alert('title')</script>",
                "body": "<img src=x onerror=alert(1)>\n\n<script>alert('body')</script>\n\n"
                "[Link](javascript:alert(1)) <b onmouseover=alert(1)>fett</b>",
            }
        },
    )
    response = client.get("/newsletter/xss?lang=de")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "<script>alert" not in text
    # Raw HTML shows as text (outreach.rich_text): visible, but no element, no handler.
    assert "<img" not in text and "<b " not in text and 'href="javascript' not in text
    assert "&lt;b onmouseover=alert(1)&gt;fett&lt;/b&gt;" in text
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in text
