"""``POST /hooks/delivery``: the provider's signed reports; the staff mail page shows them."""

from __future__ import annotations

import json
import random
import time

import pytest
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.hooks.signing import sign
from outreach.mail.letter import message_id_for
from outreach.mail.suppression import is_suppressed
from outreach.models import DeliveryProblem, DeliveryReport, MessageKind, OutboxMessage
from outreach.services.delivery_feedback import process_message
from tests.services.test_delivery_feedback import postfix_dsn
from tests.web.html import page

SECRET = "whsec-for-tests-only"
URL = "/hooks/delivery"


@pytest.fixture
def hook(app, client):
    """Post a body to the webhook, signed with SECRET unless told otherwise."""
    app.config["DELIVERY_WEBHOOK_SECRET"] = SECRET

    def post(data=None, *, raw: bytes | None = None, secret=SECRET, timestamp=None, headers=None):
        body = raw if raw is not None else json.dumps(data).encode()
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signed = {"X-Outreach-Timestamp": stamp, "X-Outreach-Signature": sign(secret, stamp, body)}
        return client.post(
            URL,
            data=body,
            headers=signed if headers is None else headers,
            content_type="application/json",
        )

    return post


def event(kind: str = "hard_bounce", email: str = "amina@example.org", **values) -> dict:
    return {"type": kind, "email": email, **values}


def report_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(DeliveryReport.id)))


def test_a_signed_hard_bounce_is_recorded_and_suppresses_the_address(hook):
    response = hook({"events": [event(detail="550 5.1.1 user unknown")]})

    assert response.status_code == 200
    assert response.json == {"recorded": 1, "duplicates": 0}
    [report] = db.session.scalars(select(DeliveryReport))
    assert (report.email, report.problem, report.source) == (
        "amina@example.org",
        DeliveryProblem.HARD_BOUNCE,
        "webhook",
    )
    assert is_suppressed("amina@example.org")


def test_an_event_naming_our_message_is_linked_to_it(hook, make_event, make_registration):
    registration = make_registration(make_event(), email="bilal@example.org").registration
    row = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.registration_id == registration.id)
    ).one()

    hook({"events": [event("complaint", "bilal@example.org", message_id=message_id_for(row, "x"))]})

    [report] = db.session.scalars(select(DeliveryReport))
    assert report.outbox_id == row.id and report.problem is DeliveryProblem.COMPLAINT
    assert is_suppressed("bilal@example.org", MessageKind.CAMPAIGN)
    assert not is_suppressed("bilal@example.org", MessageKind.REGISTRATION_CONFIRMED)


def test_the_same_events_sent_again_record_nothing_new(hook):
    body = {"events": [event(message_id="<abc@provider>"), event("soft_bounce", "c@example.org")]}
    hook(body)

    again = hook(body)

    assert again.status_code == 200 and again.json == {"recorded": 0, "duplicates": 2}
    assert report_count() == 2


def test_three_soft_bounces_from_the_provider_suppress_and_two_do_not(hook):
    def soft(number: int) -> dict:
        return event("soft_bounce", "dana@example.org", message_id=f"<{number}@provider>")

    hook({"events": [soft(1), soft(2)]})
    assert not is_suppressed("dana@example.org")

    hook({"events": [soft(3)]})

    assert is_suppressed("dana@example.org")


def test_without_a_secret_the_endpoint_does_not_exist(app, hook):
    app.config["DELIVERY_WEBHOOK_SECRET"] = None

    assert hook({"events": [event()]}).status_code == 404
    assert report_count() == 0


@pytest.mark.parametrize(
    "tamper",
    ["wrong secret", "unsigned", "no timestamp", "stale", "from the future", "other timestamp"],
)
def test_a_request_without_a_good_fresh_signature_is_refused(hook, tamper):
    body = json.dumps({"events": [event()]}).encode()
    now = int(time.time())
    good = sign(SECRET, str(now), body)
    headers = {
        "wrong secret": {
            "X-Outreach-Timestamp": str(now),
            "X-Outreach-Signature": sign("guessed", str(now), body),
        },
        "unsigned": {},
        "no timestamp": {"X-Outreach-Signature": good},
        "stale": {
            "X-Outreach-Timestamp": str(now - 301),
            "X-Outreach-Signature": sign(SECRET, str(now - 301), body),
        },
        "from the future": {
            "X-Outreach-Timestamp": str(now + 600),
            "X-Outreach-Signature": sign(SECRET, str(now + 600), body),
        },
        # A captured request replayed with a fresh timestamp: the old signature no longer fits.
        "other timestamp": {"X-Outreach-Timestamp": str(now + 1), "X-Outreach-Signature": good},
    }[tamper]

    response = hook(raw=body, headers=headers)

    assert response.status_code == 401
    assert response.json["error"] == "unauthorized" and response.json["message"]
    assert report_count() == 0


def test_a_signature_over_a_different_body_is_refused(hook):
    now = str(int(time.time()))
    signed_for = json.dumps({"events": [event(email="x@example.org")]}).encode()
    sent = json.dumps({"events": [event(email="victim@example.org")]}).encode()

    response = hook(
        raw=sent,
        headers={
            "X-Outreach-Timestamp": now,
            "X-Outreach-Signature": sign(SECRET, now, signed_for),
        },
    )

    assert response.status_code == 401 and not is_suppressed("victim@example.org")


def test_a_signed_body_that_is_not_json_is_a_400_with_a_field_message(hook):
    response = hook(raw=b'{"events": [')

    assert response.status_code == 400
    assert response.json["error"] == "invalid" and "body" in response.json["fields"]


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ([], {"events"}),
        ({}, {"events"}),
        ({"events": "hard_bounce"}, {"events"}),
        ({"events": []}, {"events"}),
        ({"events": [None]}, {"events.0"}),
        ({"events": [event(kind="bounce")]}, {"events.0.type"}),
        ({"events": [event(email="not an address")]}, {"events.0.email"}),
        ({"events": [{"type": "complaint"}]}, {"events.0.email"}),
        (
            {"events": [event(message_id=42, detail=["x"])]},
            {"events.0.message_id", "events.0.detail"},
        ),
        # One bad event refuses the whole body: nothing is recorded.
        ({"events": [event(), event(kind=None, email="b@example.org")]}, {"events.1.type"}),
    ],
)
def test_unusable_events_are_a_400_naming_the_fields_and_record_nothing(hook, data, fields):
    response = hook(data)

    assert response.status_code == 400
    assert set(response.json["fields"]) == fields
    assert all(response.json["fields"].values())
    assert report_count() == 0


def test_a_body_over_the_size_limit_is_a_413_in_json(app, hook):
    app.config["MAX_CONTENT_LENGTH"] = 1000

    response = hook({"events": [event(detail="x" * 2000)]})

    assert response.status_code == 413 and response.json["error"] == "request_entity_too_large"
    assert report_count() == 0


def test_the_webhook_needs_no_csrf_token(app, hook):
    app.config["WTF_CSRF_ENABLED"] = True

    assert hook({"events": [event()]}).status_code == 200


def test_only_post_is_allowed(hook, client):
    assert client.get(URL).status_code == 405


def test_random_bodies_never_cause_a_server_error(hook):
    pieces = [b"{", b"}", b"[", b"]", b'"events"', b":", b",", b'"type"', b'"email"', b"null"]
    pieces += [
        b"\xff",
        b"\x00",
        b'"hard_bounce"',
        b'"a@b.c"',
        b"1e999",
        b"-0",
        b'"\\ud800"',
        b'"a\\u0000@b.c"',
    ]
    rng = random.Random(6)
    for _ in range(200):
        body = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        response = hook(raw=body)
        assert response.status_code in {200, 400}, body


def test_control_characters_and_lone_surrogates_are_not_stored(hook):
    body = {"events": [event(detail="550\u0000 user\ud800 unknown", message_id="<\u0000>")]}

    assert hook(body).status_code == 200

    [report] = db.session.scalars(select(DeliveryReport))
    assert report.detail == "550 user unknown (message <>)"


def test_an_address_with_a_nul_in_it_is_refused(hook):
    response = hook({"events": [event(email="a\u0000@example.org")]})

    assert response.status_code == 400 and set(response.json["fields"]) == {"events.0.email"}


def test_deeply_nested_json_is_a_400(hook):
    assert hook(raw=b"[" * 100_000 + b"]" * 100_000).status_code == 400


# -- the staff mail page -------------------------------------------------------------------


def test_staff_see_the_latest_bounces_and_complaints_on_the_mail_page(
    client, hook, make_user, login
):
    hook({"events": [event("complaint", "lale@example.org", detail="abuse report")]})
    process_message(postfix_dsn("olga@example.org", None))
    login(make_user("staff"))

    html = page(client.get("/staff/mail?lang=en"))

    rows = html.by_id("reports-heading").parent.one("tbody").all("tr")
    cells = [[cell.text for cell in row.all("td")] for row in rows]
    assert [row[1] for row in cells] == ["olga@example.org", "lale@example.org"]
    assert cells[0][2] == "Hard bounce (bounce message)"
    assert cells[1][2] == "Complaint (provider)"
    assert "User unknown" in cells[0][4] and cells[1][4] == "abuse report"


def test_the_mail_page_says_when_nothing_came_back(client, make_user, login):
    login(make_user("staff"))

    html = page(client.get("/staff/mail?lang=en"))

    section = html.by_id("reports-heading").parent
    assert "No bounces or complaints have come back." in section.text


def test_partners_do_not_see_the_reports(client, make_user, login):
    login(make_user("partner"))

    assert client.get("/staff/mail").status_code in {403, 404}
