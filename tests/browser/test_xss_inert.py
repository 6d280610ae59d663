"""Rich text in a real browser: payloads in every Markdown field run nowhere, and text still shows.

Every rich-text field gets a payload that would set ``window.__xss`` or open
a dialog if any of it ran: the event description in German and English, the
organisation description, a newsletter contribution, the newsletter's
introduction and a campaign body. Headless Chromium then visits every page
that shows them (public, partner and staff, the previews and their frames,
and the email in the development mailbox) and checks that no dialog opened,
that ``window.__xss`` is undefined in the page and in each of its frames, and
that the harmless part of the text is still there, escaped rather than lost.

The browser ignores the pages' Content-Security-Policy (``bypass_csp``): the
policy would stop inline scripts by itself, and this test is about the
markup, which must be inert without it. The same walk over each frame's DOM
looks for what would run under a laxer policy: event handler attributes,
javascript: and vbscript: addresses, inline scripts, objects and SVG.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from outreach.dev.views import bp as dev_bp
from outreach.extensions import db
from outreach.mail.worker import Worker
from outreach.models import (
    Campaign,
    CampaignKind,
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from outreach.services import (
    contributions,
    event_editing,
    newsletter_issues,
    organisations,
    review,
)
from outreach.services.contributions import ContributionInput
from outreach.services.newsletter_issues import IssueInput
from tests.browser.conftest import TIMEOUT_MS
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

# A line of the payload that must appear on the page as the text it is.
SHOWN_AS_TEXT = "<script>window.__xss = 1; alert('script')</script>"


def payload(marker: str) -> str:
    """Markdown with ``marker`` in bold text, then every trick that would run a script."""
    return (
        f"Sichtbar **{marker}**\nzweite Zeile\n\n"
        "<script>window.__xss = 1; alert('script')</script>\n\n"
        "<img src=x onerror=\"window.__xss = 1; alert('img')\">\n"
        '<svg onload="window.__xss = 1"></svg> <details open ontoggle="window.__xss = 1">\n\n'
        '<iframe srcdoc="<script>parent.__xss = 1</script>"></iframe>\n\n'
        "<object data=\"javascript:alert('object')\"></object>"
        "<style>body { display: none }</style>\n\n"
        "[javascript](javascript:window.__xss=1) [upper](JAVASCRIPT:alert(1)) "
        "[entity](javascript&#58;alert(1)) <javascript:alert(1)> "
        "[data](data:text/html,<script>alert(1)</script>) [vb](vbscript:msgbox(1))\n\n"
        "[reference][evil]\n\n[evil]: javascript:alert(1)\n\n"
        '[title](https://example.org "\\"><script>window.__xss = 1</script>")\n\n'
        "![pixel](javascript:alert(1)) ![tracker](https://tracker.example/p.gif)\n\n"
        "<!-- --><img src=x onerror=alert(1)> '\"><script>alert(1)</script>"
    )


@pytest.fixture
def app(app, tmp_path):
    """The test app with the development mailbox, where the worker delivers its mail."""
    app.config.update(DEV_TOOLS=True, MAILBOX_DIR=str(tmp_path / "mailbox"))
    app.register_blueprint(dev_bp)
    return app


@pytest.fixture
def world(app, make_org, make_user, event_input):
    """Every rich-text field filled with a payload, through the services that write them."""
    org = make_org(slug="sahel-forum", name="Sahel Forum")
    partner = make_user("partner", org=org, email="amina@example.org")
    staff = make_user("staff", email="team@example.org")

    organisations.update_profile(
        org,
        by=partner,
        name="Sahel Forum",
        description={"de": payload("Vereinstext"), "en": payload("Organisation text")},
        website="https://example.org",
        contact_email=None,
    )
    texts = {
        "de": {"title": "Sommerfest", "summary": "Im Park", "description": payload("Festtext")},
        "en": {"title": "Summer party", "summary": "In the park", "description": payload("Party")},
    }
    event = event_editing.create_event(event_input(texts=texts, hosts=[org.id]), by=staff)
    review.publish(event, by=staff)

    contribution = contributions.submit_contribution(
        ContributionInput(texts={"de": {"title": "Beitrag", "body": payload("Beitragstext")}}),
        by=partner,
    )
    issue = newsletter_issues.create_issue(
        IssueInput(
            slug="2026-herbst",
            title={"de": "Herbst 2026", "en": "Autumn 2026"},
            intro={"de": payload("Einleitung"), "en": payload("Introduction")},
        ),
        by=staff,
    )
    newsletter_issues.add_to_issue(issue, contribution, by=staff)
    newsletter_issues.review_contribution(contribution, accept=True, by=staff)
    now = utcnow()
    db.session.add(
        Subscriber(
            email="leyla@example.org",
            language="de",
            interests=[],
            status=SubscriberStatus.ACTIVE,
            consent_version="newsletter-test",
            consent_language="de",
            consented_at=now,
            confirmed_at=now,
        )
    )
    db.session.commit()
    newsletter_issues.send_issue(issue, by=staff)
    worker = Worker(app)
    worker.schedule()
    assert worker.run_once()["sent"] >= 1  # the issue, and what the steps above announce

    # The campaign service refuses raw HTML when a text is saved; this body is written
    # straight to the table, as if it had slipped past that check.
    campaign = Campaign(
        kind=CampaignKind.OUTREACH,
        name="Rundbrief",
        texts={"de": {"subject": "Hallo", "body": payload("Rundbrieftext")}},
        fallback_language="de",
        segment={"type": "registrants", "events": [event.id], "statuses": ["confirmed"]},
        created_by_id=staff.id,
    )
    db.session.add(campaign)
    db.session.commit()
    ids = {
        "event": event.id,
        "slug": event.slug,
        "contribution": contribution.id,
        "issue": issue.id,
        "campaign": campaign.id,
        "org": org.id,
    }
    db.session.remove()
    return ids


# Elements and attributes in a frame that could run a script under a laxer policy.
FIND_ACTIVE_CONTENT = """() => {
  const found = [];
  for (const element of document.querySelectorAll("*")) {
    for (const { name, value } of element.attributes) {
      if (name.startsWith("on")) found.push(`${element.localName}[${name}]`);
      if (/^(href|src|action|formaction|data|xlink:href)$/.test(name)
          && /^[\\s\\u0000-\\u001f]*(javascript|vbscript):/i.test(value)) {
        found.push(`${element.localName}[${name}=${value}]`);
      }
    }
  }
  for (const element of document.querySelectorAll(
    "script:not([src]), object, embed, svg, math, img[src='x'], img[src*='tracker']"
  )) {
    found.push(element.outerHTML.slice(0, 80));
  }
  return found;
}"""


@pytest.fixture
def page(browser, live_server):
    """A page in a fresh context that ignores Content-Security-Policy (see the docstring)."""
    context = browser.new_context(base_url=live_server, locale="en-US", bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def _log_in(page: Page, email: str) -> None:
    page.context.clear_cookies()
    page.goto("/login?lang=en")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def _assert_inert(page: Page, dialogs: list[str], where: str) -> None:
    """No dialog opened and ``window.__xss`` is undefined in the page and its frames."""
    page.wait_for_load_state("load")
    page.wait_for_timeout(200)  # handlers such as onerror and ontoggle fire just after load
    assert dialogs == [], f"{where}: a dialog opened: {dialogs}"
    for frame in page.frames:
        assert frame.evaluate("() => typeof window.__xss") == "undefined", (
            f"{where}: a payload ran in {frame.url or 'a frame'}"
        )
        assert frame.evaluate(FIND_ACTIVE_CONTENT) == [], f"{where}: {frame.url or 'a frame'}"


def _assert_shown(scope, marker: str) -> None:
    """The harmless part shows, formatted, and the markup shows as the text it is."""
    expect(scope.locator("strong", has_text=marker).first).to_be_visible()
    expect(
        scope.get_by_text("<script>window.__xss = 1; alert('script')</script>").first
    ).to_be_visible()


def test_rich_text_payloads_run_nowhere_and_their_text_still_shows(
    page: Page, world, check_accessibility
):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    # Public pages.
    for language, marker in (("de", "Festtext"), ("en", "Party")):
        page.goto(f"/events/{world['slug']}?lang={language}")
        _assert_inert(page, dialogs, f"event page ({language})")
        _assert_shown(page, marker)
        expect(page.locator(".rich-text a[href^='https://example.org']")).to_have_attribute(
            "rel", "nofollow noopener ugc"
        )
        assert page.locator(".rich-text img, .rich-text a[href^='javascript']").count() == 0
    check_accessibility(page, "event page with rich text")
    for language, marker in (("de", "Vereinstext"), ("en", "Organisation text")):
        page.goto(f"/organisations/sahel-forum?lang={language}")
        _assert_inert(page, dialogs, f"organisation page ({language})")
        _assert_shown(page, marker)
    check_accessibility(page, "organisation page with rich text")
    page.goto("/newsletter/2026-herbst?lang=de")
    _assert_inert(page, dialogs, "newsletter issue")
    _assert_shown(page.locator(".nl-intro"), "Einleitung")
    _assert_shown(page.locator(".nl-item__body"), "Beitragstext")

    # The partner's workspace.
    _log_in(page, "amina@example.org")
    page.goto(f"/partner/events/{world['event']}?lang=en")
    _assert_inert(page, dialogs, "partner event page")
    _assert_shown(page, "Festtext")
    _assert_shown(page, "Party")
    page.goto(f"/partner/contributions/{world['contribution']}?lang=en")
    _assert_inert(page, dialogs, "partner contribution")
    _assert_shown(page, "Beitragstext")
    page.goto("/partner/profile?lang=en")
    _assert_inert(page, dialogs, "partner profile form")
    expect(page.get_by_text("You can use Markdown").first).to_be_visible()

    # The staff's workspace, the previews and the email the worker delivered.
    _log_in(page, "team@example.org")
    staff_pages = {
        "staff event page": f"/staff/events/{world['event']}?lang=en",
        "staff organisation page": f"/staff/organisations/{world['org']}?lang=en",
        "staff review": f"/staff/newsletter/contributions/{world['contribution']}?lang=en",
        "staff issue": f"/staff/newsletter/{world['issue']}?lang=en",
        "web preview": f"/staff/newsletter/{world['issue']}/preview?version=en&lang=en",
        "campaign preview frame": f"/staff/campaigns/{world['campaign']}/preview.html?version=de",
    }
    for where, url in staff_pages.items():
        page.goto(url)
        _assert_inert(page, dialogs, where)
    page.goto(f"/staff/organisations/{world['org']}?lang=en")
    _assert_shown(page, "Vereinstext")
    page.goto(f"/staff/newsletter/contributions/{world['contribution']}?lang=en")
    _assert_shown(page, "Beitragstext")
    page.goto(f"/staff/newsletter/{world['issue']}/preview?version=en&lang=en")
    _assert_shown(page.locator(".nl-intro"), "Introduction")

    page.goto(f"/staff/newsletter/{world['issue']}/preview/email?version=de&lang=en")
    _assert_inert(page, dialogs, "email preview")
    _assert_shown(page.frame_locator("iframe.nl-mail__frame"), "Beitragstext")

    page.goto(f"/staff/campaigns/{world['campaign']}?lang=en")
    _assert_inert(page, dialogs, "campaign page")
    preview = page.frame_locator("iframe.campaign-preview")
    expect(preview.locator("strong", has_text="Rundbrieftext")).to_be_visible()
    expect(preview.locator("script, iframe, img, object, svg")).to_have_count(0)

    page.goto("/dev/mailbox")
    page.get_by_role("link", name="Herbst 2026").click()
    _assert_inert(page, dialogs, "development mailbox")
    frame = page.frame_locator("iframe").first
    _assert_shown(frame, "Beitragstext")
    _assert_shown(frame, "Einleitung")
    assert dialogs == []
