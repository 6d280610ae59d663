"""Security headers on every page: the content security policy, nosniff, referrer, HSTS.

The routes come from the application's URL map (as in test_permission_matrix),
so a page added later is checked too: every GET that answers HTML, to an
anonymous visitor and to staff, carries the policy. A URL parameter this test
does not know gets a stand-in value; the page it leads to (often a 404) must
carry the headers all the same.
"""

from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from config import TestingConfig
from outreach import create_app
from outreach.extensions import db
from outreach.mail.unsubscribe import preferences_token, unsubscribe_token
from outreach.models import Subscriber, SuppressionScope
from outreach.security import content_security_policy
from outreach.services import account_links, tokens
from outreach.services.newsletter import SubscriptionInput, confirmation_token, subscribe
from tests.web.test_permission_matrix import _values, world  # noqa: F401  (the fixture)

# Views that serve foreign markup set a sandboxing policy of their own; it must stay.
OWN_POLICY = {
    "staff_campaigns.preview_frame",
    "staff_newsletter.preview_email_html",
    "dev.mailbox_html",
}
# Views whose pages carry a private token set a stricter referrer policy of their own.
NO_REFERRER_AREAS = {"manage", "unsubscribe"}
NO_REFERRER = {"accounts.reset_password", "accounts.accept_invitation", "newsletter.confirm"}


def _expected_referrer_policy(endpoint: str) -> str:
    private = endpoint in NO_REFERRER | OWN_POLICY
    if private or endpoint.split(".")[0] in NO_REFERRER_AREAS:
        return "no-referrer"
    return "strict-origin-when-cross-origin"


@pytest.fixture
def everything(world, app):  # noqa: F811  (the fixture imported above)
    """The permission matrix's world, plus the private links of the public pages."""
    seat = world["seat"]
    manage = tokens.issue_token(seat)
    db.session.commit()
    subscribe(
        SubscriptionInput(
            email="leser@example.org", language="de", consent=True, consent_language="de"
        )
    )
    subscriber = db.session.scalars(db.select(Subscriber)).one()
    db.session.commit()
    partner = world["users"]["partner_a"]
    return {
        **world,
        "manage": manage,
        "confirm": confirmation_token(subscriber),
        "reset": account_links.issue_link_token(partner, account_links.RESET),
        "invitation": account_links.issue_link_token(partner, account_links.INVITATION),
        "unsubscribe": unsubscribe_token(seat.email, SuppressionScope.OUTREACH),
        "preferences": preferences_token(seat.email),
    }


def _token_for(things: dict, endpoint: str) -> str:
    blueprint, _dot, _view = endpoint.partition(".")
    if blueprint in ("manage", "api"):
        return things["manage"]
    if blueprint == "newsletter":
        return things["confirm"]
    if endpoint == "accounts.reset_password":
        return things["reset"]
    if endpoint == "accounts.accept_invitation":
        return things["invitation"]
    if endpoint.startswith("unsubscribe.confirm") or endpoint == "unsubscribe.unsubscribe":
        return things["unsubscribe"]
    if blueprint == "unsubscribe":
        return things["preferences"]
    return _values(things, endpoint)["token"]


def _slug_for(things: dict, endpoint: str) -> str:
    if endpoint.startswith("calendar.organisation") or endpoint == "public.organisation":
        return things["org_a"].slug
    if endpoint.startswith("newsletter."):
        return things["issue"].slug
    return things["event"].slug


def _value(things: dict, rule, endpoint: str, name: str):
    known = {
        **_values(things, endpoint),
        "token": _token_for(things, endpoint),
        "slug": _slug_for(things, endpoint),
        "code": "en",
        "filename": "css/outreach.css",
    }
    if name in known:
        return known[name]
    # A parameter added after this test: a stand-in of the right type.
    return 1 if isinstance(rule._converters.get(name), IntegerConverter) else "x"


def _pages(app, things) -> list[tuple[str, str]]:
    """(endpoint, url) for every GET route outside the JSON API."""
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith("/api/"):
            continue
        values = {name: _value(things, rule, rule.endpoint, name) for name in rule.arguments}
        pages.append((rule.endpoint, rule.build(values)[1]))
    return sorted(pages)


def _problems(endpoint: str, url: str, response) -> list[str]:
    headers = response.headers
    problems = []
    where = f"GET {url} ({endpoint}) → {response.status_code}"
    policy = headers.get("Content-Security-Policy", "")
    if response.mimetype == "text/html":
        if endpoint in OWN_POLICY and response.status_code == 200:
            if not policy.startswith("sandbox"):
                problems.append(f"{where}: its own sandbox policy was replaced: {policy!r}")
        elif policy != content_security_policy("http://outreach.test"):
            problems.append(f"{where}: Content-Security-Policy is {policy!r}")
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"{where}: no X-Content-Type-Options: nosniff")
    expected_referrer = _expected_referrer_policy(endpoint)
    if response.status_code == 200 and headers.get("Referrer-Policy") != expected_referrer:
        problems.append(f"{where}: Referrer-Policy {headers.get('Referrer-Policy')!r}")
    if "camera=(self)" not in headers.get("Permissions-Policy", ""):
        problems.append(f"{where}: Permissions-Policy {headers.get('Permissions-Policy')!r}")
    if "Strict-Transport-Security" in headers:
        problems.append(f"{where}: HSTS outside production")
    return problems


@pytest.mark.parametrize("who", ["anonymous", "partner_a", "staff"])
def test_every_html_page_carries_the_policy_and_the_other_headers(
    app, client, login, everything, who
):
    login(everything["users"].get(who))

    problems, html_pages = [], 0
    for endpoint, url in _pages(app, everything):
        response = client.get(url)
        html_pages += response.mimetype == "text/html"
        problems += _problems(endpoint, url, response)

    assert not problems, "\n".join(problems)
    assert html_pages > 40  # the walk reached the pages, not only redirects


def test_the_policy_allows_only_our_own_scripts_styles_and_frames():
    policy = dict(
        part.strip().split(" ", 1) for part in content_security_policy("https://x.test").split(";")
    )

    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["img-src"] == "'self' data: https://x.test"
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["frame-src"] == "'self'"
    assert "unsafe" not in content_security_policy("https://x.test")


def test_error_pages_and_json_answers_carry_the_headers_too(client):
    missing = client.get("/no/such/page")
    api = client.get("/api/v1/events")
    feed = client.get("/calendar.ics")

    assert missing.status_code == 404
    assert missing.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert missing.headers["X-Frame-Options"] == "DENY"
    for response in (api, feed):
        # No page, no policy needed; the rest still applies.
        assert "Content-Security-Policy" not in response.headers
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_campaign_preview_keeps_its_sandbox_and_may_be_framed_by_us(
    client,
    login,
    world,  # noqa: F811  (the fixture imported above)
):
    login(world["users"]["staff"])

    page = client.get(f"/staff/campaigns/{world['campaign'].id}")
    frame = client.get(f"/staff/campaigns/{world['campaign'].id}/preview.html")

    assert "frame-src 'self'" in page.headers["Content-Security-Policy"]
    policy = frame.headers["Content-Security-Policy"]
    assert policy.startswith("sandbox;") and "frame-ancestors 'self'" in policy
    assert "X-Frame-Options" not in frame.headers  # it would forbid our own frame
    assert frame.headers["Referrer-Policy"] == "no-referrer"


def test_private_link_pages_keep_their_stricter_referrer_policy(
    client, make_registration, make_event
):
    token = make_registration(make_event()).token

    response = client.get(f"/r/{token}")

    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_the_dev_mailbox_keeps_its_own_policy_for_the_mail_html(database_url, tmp_path):
    mailbox = tmp_path / "mailbox"
    mailbox.mkdir()
    (mailbox / "0001.eml").write_bytes(
        b"From: a@example.org\r\nTo: b@example.org\r\nSubject: Hi\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: text/html; charset="utf-8"\r\n\r\n<p style="color:red">Hi</p>\r\n'
    )
    dev = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=database_url,
        DEV_TOOLS=True,
        MAILBOX_DIR=str(mailbox),
    )
    try:
        client = dev.test_client()
        listing = client.get("/dev/mailbox")
        html = client.get("/dev/mailbox/0001.eml/html")

        assert listing.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert html.status_code == 200
        assert html.headers["Content-Security-Policy"].endswith("sandbox")
        assert "X-Frame-Options" not in html.headers
    finally:
        with dev.app_context():
            db.engine.dispose()


def test_hsts_is_sent_over_https_when_configured(app, client):
    app.config["HSTS_SECONDS"] = 600

    plain = client.get("/")
    secure = client.get("/", base_url="https://outreach.test")
    app.config["PREFERRED_URL_SCHEME"] = "https"  # behind a proxy that ends TLS
    behind_proxy = client.get("/")

    assert "Strict-Transport-Security" not in plain.headers
    assert secure.headers["Strict-Transport-Security"] == "max-age=600"
    assert behind_proxy.headers["Strict-Transport-Security"] == "max-age=600"


def test_hsts_is_off_by_default_and_a_year_in_production():
    from config import Config, DevelopmentConfig, ProductionConfig

    assert Config.HSTS_SECONDS == 0 and DevelopmentConfig.HSTS_SECONDS == 0
    assert TestingConfig.HSTS_SECONDS == 0
    assert ProductionConfig.HSTS_SECONDS == 31536000
