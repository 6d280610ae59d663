"""Staff compose the newsletter: issues, review, order without JavaScript, previews, sending."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.models import (
    Campaign,
    CampaignKind,
    Contribution,
    ContributionStatus,
    IssueStatus,
    NewsletterIssue,
)
from outreach.services import contributions, newsletter, newsletter_issues
from outreach.services.contributions import ContributionInput
from outreach.services.newsletter_issues import IssueInput
from tests.web.html import page

BASE = "/staff/newsletter"


@pytest.fixture
def staff(make_user):
    return make_user("staff")


@pytest.fixture
def as_staff(client, login, staff):
    login(staff)
    return client


@pytest.fixture
def issue(staff) -> NewsletterIssue:
    return newsletter_issues.create_issue(
        IssueInput(
            slug="2026-herbst",
            title={"de": "Herbst 2026", "en": "Autumn 2026"},
            intro={"de": "Liebe Leserinnen und Leser,", "en": "Dear readers,"},
        ),
        by=staff,
    )


@pytest.fixture
def submitted(make_user, make_org):
    def submit(title: str, body: str = "Text", org_name: str | None = None) -> Contribution:
        org = make_org(name=org_name) if org_name else make_org()
        return contributions.submit_contribution(
            ContributionInput(texts={"de": {"title": title, "body": body}}),
            by=make_user("partner", org=org),
        )

    return submit


def fresh(model, row_id: int):
    db.session.expire_all()
    return db.session.get(model, row_id)


def order_of(issue: NewsletterIssue) -> list[str]:
    db.session.expire_all()
    found = newsletter_issues.issue_by_id(issue.id)
    return [item.texts["de"]["title"] for item in found.contributions]


ROUTES = [
    ("get", BASE),
    ("get", f"{BASE}/new"),
    ("post", f"{BASE}/new"),
    ("get", f"{BASE}/1"),
    ("get", f"{BASE}/1/edit"),
    ("post", f"{BASE}/1/contributions"),
    ("post", f"{BASE}/1/contributions/1/move"),
    ("post", f"{BASE}/1/contributions/1/remove"),
    ("get", f"{BASE}/1/preview"),
    ("get", f"{BASE}/1/preview/email"),
    ("get", f"{BASE}/1/send"),
    ("post", f"{BASE}/1/send"),
    ("get", f"{BASE}/contributions/1"),
    ("post", f"{BASE}/contributions/1"),
]


@pytest.mark.parametrize("method, url", ROUTES)
def test_only_staff_reach_the_newsletter_pages(client, login, make_user, method, url):
    response = getattr(client, method)(url)
    assert response.status_code in (302, 303) and "/login" in response.location
    login(make_user("partner"))
    assert getattr(client, method)(url).status_code == 403


def test_the_staff_menu_leads_to_the_newsletter(as_staff):
    html = page(as_staff.get("/staff/?lang=en"))
    assert html.one("a", href=BASE).text == "Newsletter"


def test_empty_pages_say_what_to_do(as_staff):
    html = page(as_staff.get(f"{BASE}?lang=en"))
    states = [state.text for state in html.all(class_="empty-state")]
    assert any("There are no issues yet." in text for text in states)
    assert any("No contributions are waiting." in text for text in states)


def test_staff_start_an_issue_and_get_errors_they_understand(as_staff, counts):
    response = as_staff.post(
        f"{BASE}/new?lang=en", data={"slug": "Herbst Heft", "intro_de": "Nur eine Einleitung"}
    )
    assert response.status_code == 422
    summary = page(response).one(class_="error-summary")
    assert {a.attrs["href"] for a in summary.all("a")} == {"#slug", "#title_de"}
    assert db.session.scalar(select(func.count(NewsletterIssue.id))) == 0

    response = as_staff.post(
        f"{BASE}/new?lang=en",
        data={"slug": "2026-herbst", "title_de": "Herbst 2026", "intro_de": "Hallo"},
    )
    assert response.status_code == 303
    [created] = db.session.scalars(select(NewsletterIssue)).all()
    assert response.location == f"{BASE}/{created.id}"
    assert (created.slug, created.title, created.intro) == (
        "2026-herbst",
        {"de": "Herbst 2026"},
        {"de": "Hallo"},
    )
    response = as_staff.post(
        f"{BASE}/{created.id}/edit?lang=en",
        data={"slug": "2026-herbst", "title_de": "Herbst", "title_en": "Autumn"},
    )
    assert response.status_code == 303
    assert fresh(NewsletterIssue, created.id).title == {"de": "Herbst", "en": "Autumn"}


def test_contributions_are_added_and_ordered_with_plain_buttons(as_staff, issue, submitted):
    first, second, third = submitted("Eins"), submitted("Zwei"), submitted("Drei")
    page_url = f"{BASE}/{issue.id}"
    pool = page(as_staff.get(f"{page_url}?lang=en"))
    assert len(pool.all("input", name="contribution_id")) == 3
    for contribution in (first, second, third):
        response = as_staff.post(
            f"{page_url}/contributions", data={"contribution_id": str(contribution.id)}
        )
        assert response.status_code == 303
    assert order_of(issue) == ["Eins", "Zwei", "Drei"]

    html = page(as_staff.get(f"{page_url}?lang=en"))
    moves = [
        form.attrs["action"] for form in html.all("form") if form.attrs["action"].endswith("/move")
    ]
    # The first cannot move up, the last not down: four move buttons for three.
    assert len(moves) == 4
    response = as_staff.post(f"{page_url}/contributions/{third.id}/move", data={"direction": "up"})
    assert response.location == f"{page_url}#contribution-{third.id}"
    assert order_of(issue) == ["Eins", "Drei", "Zwei"]
    as_staff.post(f"{page_url}/contributions/{first.id}/move", data={"direction": "down"})
    assert order_of(issue) == ["Drei", "Eins", "Zwei"]
    assert (
        as_staff.post(
            f"{page_url}/contributions/{first.id}/move", data={"direction": "sideways"}
        ).status_code
        == 400
    )
    as_staff.post(f"{page_url}/contributions/{second.id}/remove")
    assert order_of(issue) == ["Drei", "Eins"]
    assert fresh(Contribution, second.id).issue_id is None


def test_adding_a_contribution_twice_is_explained_not_an_error_page(
    as_staff, issue, submitted, staff
):
    contribution = submitted("Eins")
    newsletter_issues.add_to_issue(issue, contribution, by=staff)
    response = as_staff.post(
        f"{BASE}/{issue.id}/contributions?lang=en", data={"contribution_id": str(contribution.id)}
    )
    assert response.status_code == 303
    shown = page(as_staff.get(response.location.split("#")[0] + "?lang=en"))
    assert "already part of an issue" in shown.one(class_="flashes").text
    assert as_staff.post(f"{BASE}/{issue.id}/contributions", data={}).status_code == 404


def test_staff_accept_or_decline_with_a_note_the_partner_sees(
    as_staff, issue, submitted, staff, client, login
):
    contribution = submitted("Eins")
    newsletter_issues.add_to_issue(issue, contribution, by=staff)
    review = f"{BASE}/contributions/{contribution.id}"
    html = page(as_staff.get(f"{review}?lang=en"))
    assert html.one("input", name="accept", type="submit")
    assert html.one("input", name="decline", type="submit")

    response = as_staff.post(review, data={"note": "Schön!", "accept": "Accept"})
    assert (response.status_code, response.location) == (303, review)
    found = fresh(Contribution, contribution.id)
    assert (found.status, found.review_note) == (ContributionStatus.ACCEPTED, "Schön!")

    response = as_staff.post(review, data={"note": "Zu lang.", "decline": "Decline"})
    found = fresh(Contribution, contribution.id)
    assert (found.status, found.review_note, found.issue_id) == (
        ContributionStatus.DECLINED,
        "Zu lang.",
        None,
    )
    assert as_staff.post(review, data={"note": "x" * 2001, "accept": "y"}).status_code == 422
    assert as_staff.post(review, data={"note": "no button"}).status_code == 422


def test_previews_show_the_issue_as_web_page_and_as_email(as_staff, issue, submitted, staff):
    contribution = submitted("Eins", body="Wir **feiern**.\n\n<script>alert(1)</script>")
    newsletter_issues.add_to_issue(issue, contribution, by=staff)
    newsletter_issues.review_contribution(contribution, accept=True, by=staff)

    web = as_staff.get(f"{BASE}/{issue.id}/preview?version=en&lang=en")
    assert web.status_code == 200
    html = page(web)
    assert html.one("h1").text == "Autumn 2026"
    assert "Dear readers," in html.text
    assert "<strong>feiern</strong>" in html.html
    assert "<script>alert(1)" not in html.html

    mail = as_staff.get(f"{BASE}/{issue.id}/preview/email?version=de&lang=en")
    assert mail.status_code == 200
    html = page(mail)
    frame = html.one("iframe")
    assert frame.attrs["sandbox"] == ""
    # The email's HTML comes from its own address, sandboxed by its own policy too.
    framed = as_staff.get(frame.attrs["src"])
    assert framed.status_code == 200
    assert framed.headers["Content-Security-Policy"].startswith("sandbox;")
    assert "Herbst 2026" in framed.text
    assert "<strong>feiern</strong>" in framed.text
    assert "<script>alert(1)" not in framed.text
    assert "Herbst 2026" in html.one(class_="nl-mail__head").text
    assert "feiern" in html.one("pre").text
    # Nothing was queued by looking.
    assert newsletter.published_issues() == []


def test_sending_needs_an_accepted_contribution(as_staff, issue, submitted, staff):
    newsletter_issues.add_to_issue(issue, submitted("Eins"), by=staff)
    response = as_staff.post(f"{BASE}/{issue.id}/send?lang=en")
    assert response.status_code == 409
    assert "no accepted contribution" in page(response).one(role="alert").text
    assert db.session.scalar(select(func.count(Campaign.id))) == 0


def test_sending_an_issue_asks_first_then_creates_its_campaign(as_staff, issue, submitted, staff):
    contribution = submitted("Eins")
    newsletter_issues.add_to_issue(issue, contribution, by=staff)
    newsletter_issues.review_contribution(contribution, accept=True, by=staff)

    asked = page(as_staff.get(f"{BASE}/{issue.id}/send?lang=en"))
    assert "It goes to 0 subscribers now." in asked.text
    assert db.session.scalar(select(func.count(Campaign.id))) == 0

    response = as_staff.post(f"{BASE}/{issue.id}/send?lang=en")
    assert (response.status_code, response.location) == (303, f"{BASE}/{issue.id}")
    [campaign] = db.session.scalars(select(Campaign)).all()
    assert campaign.kind is CampaignKind.NEWSLETTER
    assert campaign.segment == {"type": "subscribers", "languages": [], "interests": []}
    sent = fresh(NewsletterIssue, issue.id)
    assert (sent.status, sent.campaign_id) == (IssueStatus.PUBLISHED, campaign.id)

    html = page(as_staff.get(f"{BASE}/{issue.id}?lang=en"))
    assert html.one("a", href=f"/staff/campaigns/{campaign.id}").text == "Follow the sending"
    assert html.one("a", href="/newsletter/2026-herbst")
    assert not html.all("a", href=f"{BASE}/{issue.id}/edit")
    # A second press changes nothing.
    again = as_staff.post(f"{BASE}/{issue.id}/send?lang=en")
    assert (again.status_code, again.location) == (303, f"{BASE}/{issue.id}")
    assert (
        "has been sent"
        in page(as_staff.get(f"{BASE}/{issue.id}?lang=en")).one(class_="flashes").text
    )
    assert db.session.scalar(select(func.count(Campaign.id))) == 1
