"""Every workspace route × {anonymous, partner of A, partner of B, staff}.

The routes come from the application's URL map, so a route added later is
checked too (a new URL parameter fails the test until it is named in
``_values``). Organisation A hosts the event. Partner B must never read,
export, message or check in A's registrants, not by page, not by JSON and not
by guessing ids, and nothing B or an anonymous visitor sends may change
anything.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.mail.outbox import enqueue
from outreach.models import (
    ApiToken,
    AuditEntry,
    Campaign,
    Contribution,
    Event,
    EventStatus,
    MessageKind,
    NewsletterIssue,
    Organisation,
    OutboxMessage,
    PartnerApplication,
    Registration,
    User,
)
from outreach.services import erasure
from outreach.services.api_tokens import create_token
from outreach.services.applications import ApplicationInput, apply
from outreach.services.campaigns import CampaignInput, create_campaign
from outreach.services.checkin import check_in_token
from outreach.services.contributions import ContributionInput, submit_contribution
from outreach.services.newsletter_issues import IssueInput, create_issue

WORKSPACE = re.compile(r"^/(partner|staff|desk|check-in|account)(/|$)")
# Routes about the user's own organisation or account: B may use them for B.
OWN = {
    "accounts.account",
    "accounts.tokens",
    "partner.dashboard",
    "partner.new_event",
    "partner.profile",
    "partner.upload_logo",
    "partner.remove_logo",
    "contributions.index",
    "contributions.new",
}
# Desk actions only staff may take, even on a host's own event.
STAFF_ONLY = {"desk.cancel_registration", "desk.promote"}


@pytest.fixture
def world(app, make_org, make_event, make_user, make_registration):
    org_a, org_b = make_org(slug="org-a"), make_org(slug="org-b")
    event = make_event(hosts=[org_a], capacity=1, slug="a-published")
    draft = make_event(hosts=[org_a], status=EventStatus.DRAFT, slug="a-draft")
    seat = make_registration(event, email="seat@example.org").registration
    waiting = make_registration(event, email="wait@example.org").registration
    staff = make_user("staff")
    partner_a = make_user("partner", org=org_a)
    partner_b = make_user("partner", org=org_b)
    token, _secret = create_token(partner_a, "A's script")
    _token_b, secret_b = create_token(partner_b, "B's script")
    application = apply(
        ApplicationInput(
            organisation_name="Neue Brücke e.V.",
            contact_name="Lina",
            contact_email="lina@example.org",
            description="Wir machen Nachbarschaftsarbeit in Köln-Kalk.",
            city="Köln",
            languages=["de", "tr"],
            consent=True,
        ),
        language="de",
    ).application
    message = enqueue(
        MessageKind.MANAGE_LINK,
        recipient=seat.email,
        language="de",
        dedupe_key="matrix",
        event=event,
        registration=seat,
    )
    db.session.commit()
    contribution = submit_contribution(
        ContributionInput(texts={"de": {"title": "Von A", "body": "Text"}}), by=partner_a
    )
    issue = create_issue(IssueInput(slug="heft", title={"de": "Heft"}), by=staff)
    campaign = create_campaign(
        CampaignInput(
            kind="outreach",
            name="An A's registrants",
            texts={"de": {"subject": "Hallo", "body": "Hallo {{ first_name }}"}},
            fallback_language="de",
            segment={"type": "registrants", "events": [event.id]},
        ),
        by=staff,
    )
    return {
        "users": {"staff": staff, "partner_a": partner_a, "partner_b": partner_b},
        "contribution": contribution,
        "issue": issue,
        "campaign": campaign,
        "event": event,
        "draft": draft,
        "seat": seat,
        "waiting": waiting,
        "org_a": org_a,
        "token": token,
        "secret_b": secret_b,
        "application": application,
        "message": message,
        "erasure": erasure.erase("gone@example.org", by=staff),
    }


def _values(world, endpoint: str) -> dict[str, object]:
    """What each URL parameter stands for: always something of organisation A's."""
    # Partner pages get A's draft (editable by A); everything else A's published event.
    event = world["draft"] if endpoint.startswith("partner.") else world["event"]
    registration = world["waiting"] if endpoint == "desk.promote" else world["seat"]
    return {
        "event_id": event.id,
        "registration_id": registration.id,
        "token": check_in_token(world["seat"]),
        "token_id": world["token"].id,
        "org_id": world["org_a"].id,
        "user_id": world["users"]["partner_a"].id,
        "application_id": world["application"].id,
        "message_id": world["message"].id,
        "contribution_id": world["contribution"].id,
        "issue_id": world["issue"].id,
        "campaign_id": world["campaign"].id,
        "entry_id": world["erasure"].entry_id,
    }


def _routes(app, world) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every workspace route."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not WORKSPACE.match(rule.rule):
            continue
        values = _values(world, rule.endpoint)
        unknown = set(rule.arguments) - set(values)
        assert not unknown, f"{rule.rule}: name a value for {unknown} in _values()"
        url = rule.build({name: values[name] for name in rule.arguments})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, url))
    return sorted(routes)


def _state() -> tuple:
    """A fingerprint of everything a request could change."""
    db.session.rollback()
    registrations = db.session.execute(
        select(Registration.id, Registration.status, Registration.checked_in_at).order_by(
            Registration.id
        )
    ).all()
    events = db.session.execute(
        select(Event.id, Event.status, Event.sequence, Event.updated_at).order_by(Event.id)
    ).all()
    users = db.session.execute(select(User.id, User.is_active).order_by(User.id)).all()
    tokens = db.session.execute(select(ApiToken.id, ApiToken.revoked_at)).all()
    applications = db.session.execute(
        select(PartnerApplication.id, PartnerApplication.status)
    ).all()
    contributions = db.session.execute(
        select(Contribution.id, Contribution.status, Contribution.issue_id, Contribution.texts)
    ).all()
    counted = [
        db.session.scalar(select(func.count()).select_from(model))
        for model in (OutboxMessage, AuditEntry, Organisation, Event, NewsletterIssue, Campaign)
    ]
    return registrations, events, users, tokens, applications, contributions, counted


def _expected_get(who: str, endpoint: str) -> set[int]:
    area = endpoint.split(".")[0]
    if endpoint.startswith("applications.") or area.startswith("staff_"):
        area = "staff"
    if area == "contributions":
        area = "partner"
    if who == "anonymous":
        return {302}
    if endpoint == "staff_campaigns.segment_size" and who == "staff":
        return {422}  # no audience in the query: field messages
    if endpoint == "partner.remove_logo" and who != "staff":
        return {200, 303}  # with no logo to remove, back to the profile
    if endpoint in OWN:
        return {200} if who != "staff" or area == "accounts" else {403}
    if who == "staff":
        if endpoint == "accounts.revoke_token":
            return {404}  # A's token is not staff's to revoke
        return {403} if area == "partner" else {200}
    if who == "partner_a":
        return {403} if area == "staff" or endpoint in STAFF_ONLY else {200}
    # Partner B: staff pages are forbidden, anything of A's does not exist.
    return {403} if area == "staff" else {404}


@pytest.mark.parametrize("who", ["anonymous", "partner_a", "partner_b", "staff"])
def test_every_page_answers_each_kind_of_visitor_as_expected(app, client, login, world, who):
    login(world["users"].get(who))

    wrong = []
    for endpoint, method, url in _routes(app, world):
        if method != "GET":
            continue
        status = client.get(url).status_code
        if status not in _expected_get(who, endpoint):
            wrong.append(
                f"GET {url} ({endpoint}) → {status}, expected {_expected_get(who, endpoint)}"
            )

    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("who", ["anonymous", "partner_b"])
def test_outsiders_change_nothing_by_posting(app, client, login, world, who):
    login(world["users"].get(who))
    before = _state()

    wrong = []
    for endpoint, method, url in _routes(app, world):
        if method == "GET" or endpoint in OWN or endpoint == "accounts.logout":
            continue
        # Every field a form might read, filled in: refusals must not depend on bad input.
        data = {"comment": "x", "reason": "x", "subject": "x", "body": "x", "confirm": "y"}
        status = client.open(url, method=method, data=data).status_code
        allowed = {302} if who == "anonymous" else {403, 404}
        if status not in allowed:
            wrong.append(f"{method} {url} ({endpoint}) → {status}, expected {allowed}")

    assert not wrong, "\n".join(wrong)
    assert _state() == before


def test_partner_b_cannot_write_a_events_through_the_api(client, world):
    headers = {"Authorization": f"Bearer {world['secret_b']}"}
    before = _state()

    for slug in ("a-draft", "a-published"):
        assert client.patch(
            f"/api/v1/events/{slug}", json={"capacity": 1}, headers=headers
        ).status_code in (403, 404)
        for action in ("submit", "publish", "cancel"):
            response = client.post(f"/api/v1/events/{slug}/{action}", json={}, headers=headers)
            assert response.status_code in (403, 404), (slug, action)

    assert _state() == before


def test_a_guessed_registration_of_another_event_is_not_found(client, login, world, make_event):
    other = make_event(hosts=[world["org_a"]])
    login(world["users"]["partner_a"])

    response = client.post(f"/desk/events/{other.id}/check-in/{world['seat'].id}")

    assert response.status_code == 404
    db.session.refresh(world["seat"])
    assert world["seat"].checked_in_at is None
