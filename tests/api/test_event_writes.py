"""Creating and changing events through the API with a bearer token.

Every response is also checked against the OpenAPI document (the ``api``
fixture), so the write endpoints stay documented as they behave.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from config import TestingConfig
from outreach import create_app
from outreach.extensions import db
from outreach.models import AuditEntry, Event, EventStatus, MessageKind, utcnow
from outreach.services import api_tokens
from outreach.services.events import any_event
from tests.api.documented import DocumentedClient
from tests.api.test_api_fuzz import huge_text, json_values, odd_text


@pytest.fixture
def token_for():
    """Return the Authorization header of a new token for a user."""

    def make(user) -> dict[str, str]:
        _token, secret = api_tokens.create_token(user, "Tests")
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
def world(make_org, make_user, make_event, token_for):
    """Two partner organisations A and B, staff, A's partner user, and events of each."""
    org_a, org_b = make_org(slug="org-a"), make_org(slug="org-b")
    staff, partner_a = make_user("staff"), make_user("partner", org=org_a)
    return {
        "org_a": org_a,
        "org_b": org_b,
        "staff": token_for(staff),
        "partner_a": token_for(partner_a),
        "a_draft": make_event(status=EventStatus.DRAFT, hosts=[org_a]),
        "a_published": make_event(hosts=[org_a]),
        "b_draft": make_event(status=EventStatus.DRAFT, hosts=[org_b]),
    }


def moment(days: float, hour: int = 18) -> str:
    day = (utcnow() + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC).isoformat()


@pytest.fixture
def event_body():
    """A valid body for POST /events; keywords replace fields."""

    def build(**values: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "texts": {
                "de": {"title": "Erzählcafé", "summary": "Geschichten", "description": ""},
                "en": {"title": "Story café", "summary": "Stories"},
            },
            "starts_at": "2031-03-14T18:00:00+01:00",
            "ends_at": "2031-03-14T20:00:00+01:00",
            "timezone": "Europe/Berlin",
            "venue_name": "Nachbarschaftshaus",
            "venue_city": "Berlin",
            "capacity": 30,
            "languages": ["de", "en"],
            "hosts": ["org-a"],
        }
        body.update(values)
        return body

    return build


def event_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Event.id)))


def patch(api, event: Event, body: Any, headers: dict[str, str]):
    return api.open("PATCH", f"/api/v1/events/{event.slug}", json=body, headers=headers)


def audit_of(event: Event) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.subject_type == "events", AuditEntry.subject_id == event.id)
            .order_by(AuditEntry.id)
        )
    )


# -- creating ----------------------------------------------------------------------


def test_staff_create_a_draft_with_the_hosts_they_name(api, world, event_body, openapi):
    body = event_body(hosts=["org-b", "org-a"], topics=[])
    assert openapi.schema("EventCreate").is_valid(body)

    response = api.post("/api/v1/events", json=body, headers=world["staff"])

    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["status"] == "draft"
    assert created["slug"] == "erzaehlcafe"
    assert response.headers["Location"] == "/api/v1/events/erzaehlcafe"
    assert [host["slug"] for host in created["hosts"]] == ["org-b", "org-a"]
    assert created["starts_at"] == "2031-03-14T17:00:00+00:00"
    assert created["capacity"] == 30
    event = any_event("erzaehlcafe")
    assert event.status is EventStatus.DRAFT
    assert [host.slug for host in event.hosts] == ["org-b", "org-a"]
    assert event.text("en").title == "Story café"
    assert [entry.action for entry in audit_of(event)] == ["event.created"]
    # Drafts stay private: the public read does not show them.
    assert api.get(response.headers["Location"]).status_code == 404


def test_a_partners_own_organisation_leads_what_they_create(api, world, event_body):
    response = api.post(
        "/api/v1/events", json=event_body(hosts=["org-b"]), headers=world["partner_a"]
    )

    assert response.status_code == 201, response.get_json()
    assert [host["slug"] for host in response.get_json()["hosts"]] == ["org-a", "org-b"]


def test_questions_and_topics_are_created_with_the_event(api, world, event_body, make_event):
    make_event(topics=["culture"])  # the topic exists
    questions = [
        {"kind": "short_text", "label": {"de": "Ort", "en": "Town"}, "required": True},
        {
            "kind": "single_choice",
            "label": {"de": "Dolmetschen"},
            "options": [
                {"value": "ar", "label": {"de": "Arabisch"}},
                {"value": "uk", "label": {"de": "Ukrainisch"}},
            ],
        },
    ]

    response = api.post(
        "/api/v1/events",
        json=event_body(questions=questions, topics=["culture"]),
        headers=world["staff"],
    )

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert [q["kind"] for q in body["questions"]] == ["short_text", "single_choice"]
    assert body["questions"][0]["required"] is True
    assert [t["slug"] for t in body["topics"]] == ["culture"]


# -- who may do what -----------------------------------------------------------------

NO_TOKEN: dict[str, str] = {}
BAD_TOKEN = {"Authorization": "Bearer otk_" + "x" * 43}

MATRIX = [
    # (who, event, PATCH, cancel)
    ("nobody", "a_draft", 401, 401),
    ("bad", "a_draft", 401, 401),
    ("staff", "a_draft", 200, 200),
    ("staff", "a_published", 200, 200),
    ("staff", "b_draft", 200, 200),
    ("partner_a", "a_draft", 200, 403),
    ("partner_a", "a_published", 403, 403),
    ("partner_a", "b_draft", 404, 404),
]


def headers_of(world, who: str) -> dict[str, str]:
    fixed = {"nobody": NO_TOKEN, "bad": BAD_TOKEN}
    return fixed[who] if who in fixed else world[who]


@pytest.mark.parametrize(("who", "which", "patch_status", "cancel_status"), MATRIX)
def test_who_may_change_and_cancel_which_event(api, world, who, which, patch_status, cancel_status):
    event = world[which]
    headers = headers_of(world, who)

    changed = patch(api, event, {"venue_city": "Leipzig"}, headers)
    db.session.expire_all()
    assert changed.status_code == patch_status, changed.get_json()
    assert (event.venue_city == "Leipzig") is (patch_status == 200)

    cancelled = api.post(f"/api/v1/events/{event.slug}/cancel", headers=headers)
    db.session.expire_all()
    assert cancelled.status_code == cancel_status, cancelled.get_json()
    assert (event.status is EventStatus.CANCELLED) is (cancel_status == 200)


@pytest.mark.parametrize("who", ["nobody", "bad"])
def test_creating_needs_a_working_token(api, world, event_body, who):
    before = event_count()

    response = api.post("/api/v1/events", json=event_body(), headers=headers_of(world, who))

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert event_count() == before


def test_the_token_is_checked_before_the_body(api, world):
    response = api.post("/api/v1/events", data=b"{", content_type="application/json")

    assert response.status_code == 401


def test_an_unknown_event_is_404_for_staff_too(api, world):
    for path in ("/api/v1/events/no-such-event/cancel", "/api/v1/events/no-such-event/publish"):
        assert api.post(path, headers=world["staff"]).status_code == 404
    response = api.open("PATCH", "/api/v1/events/no-such-event", json={}, headers=world["staff"])
    assert response.status_code == 404


def test_a_cancelled_event_cannot_be_changed(api, world):
    event = world["a_published"]
    api.post(f"/api/v1/events/{event.slug}/cancel", headers=world["staff"])

    response = patch(api, event, {"venue_city": "Leipzig"}, world["staff"])

    assert response.status_code == 409
    assert response.get_json()["error"] == "not_changeable"


# -- changing ------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent_and_is_audited(api, world):
    event = world["a_draft"]
    question_ids = [question.id for question in event.questions]

    response = patch(
        api,
        event,
        {"texts": {"en": {"title": "Story evening"}}, "capacity": 12, "max_guests": 2},
        world["partner_a"],
    )

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["texts"]["en"]["title"] == "Story evening"
    assert body["texts"]["en"]["summary"] == "Summary en"
    assert body["texts"]["de"]["title"] == event.text("de").title
    assert body["capacity"] == 12 and body["max_guests"] == 2
    assert body["venue"]["name"] == "Gemeindehaus"
    assert [question.id for question in event.questions] == question_ids
    [entry] = [entry for entry in audit_of(event) if entry.action == "event.updated"]
    assert entry.changes["capacity"] == [None, 12]
    assert entry.changes["texts"][1]["en"]["title"] == "Story evening"
    assert entry.actor_label.startswith("partner")


def test_a_language_set_to_null_is_removed(api, world):
    event = world["a_draft"]

    response = patch(api, event, {"texts": {"en": None}, "languages": ["de"]}, world["staff"])

    assert response.status_code == 200, response.get_json()
    assert set(response.get_json()["texts"]) == {"de"}


def test_an_empty_patch_changes_nothing(api, world):
    event = world["a_draft"]

    response = patch(api, event, {}, world["staff"])

    assert response.status_code == 200
    assert [entry.action for entry in audit_of(event)] == []


def test_moving_a_published_event_tells_its_registrants(api, world, make_registration, outbox):
    event = world["a_published"]
    make_registration(event)
    make_registration(event)
    new_start = (event.starts_at + timedelta(days=1)).isoformat()
    new_end = (event.ends_at + timedelta(days=1)).isoformat()

    response = patch(api, event, {"starts_at": new_start, "ends_at": new_end}, world["staff"])

    assert response.status_code == 200, response.get_json()
    assert len(outbox(kind=MessageKind.EVENT_UPDATED)) == 2


# -- cancelling, submitting, publishing ------------------------------------------------


def test_cancelling_queues_a_cancellation_for_each_registrant(
    api, world, make_registration, outbox
):
    event = world["a_published"]
    for _ in range(3):
        make_registration(event)

    response = api.post(
        f"/api/v1/events/{event.slug}/cancel",
        json={"reason": "Der Saal ist gesperrt."},
        headers=world["staff"],
    )
    again = api.post(f"/api/v1/events/{event.slug}/cancel", headers=world["staff"])

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "cancelled"
    assert response.get_json()["cancellation_reason"] == "Der Saal ist gesperrt."
    assert again.status_code == 200
    assert len(outbox(kind=MessageKind.EVENT_CANCELLED)) == 3
    assert "event.cancelled" in [entry.action for entry in audit_of(event)]


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"json": {"reason": 5}}, 422),
        ({"json": {"reason": "x" * 2001}}, 422),
        ({"json": {"why": "no"}}, 422),
        ({"json": []}, 400),
        ({"data": b"{", "content_type": "application/json"}, 400),
        ({"data": b"reason", "content_type": "text/plain"}, 415),
    ],
)
def test_a_bad_cancellation_body_cancels_nothing(api, world, kwargs, status):
    event = world["a_published"]

    response = api.post(f"/api/v1/events/{event.slug}/cancel", headers=world["staff"], **kwargs)

    assert response.status_code == status
    db.session.expire_all()
    assert event.status is EventStatus.PUBLISHED


def test_a_partner_submits_and_staff_publish(api, world, outbox):
    event = world["a_draft"]

    submitted = api.post(
        f"/api/v1/events/{event.slug}/submit",
        json={"comment": "Bitte prüfen"},
        headers=world["partner_a"],
    )
    refused = api.post(f"/api/v1/events/{event.slug}/publish", headers=world["partner_a"])
    published = api.post(f"/api/v1/events/{event.slug}/publish", headers=world["staff"])
    again = api.post(f"/api/v1/events/{event.slug}/publish", headers=world["staff"])

    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["status"] == "submitted"
    assert refused.status_code == 403
    assert published.status_code == 200
    assert published.get_json()["status"] == "published"
    assert again.status_code == 409
    assert again.get_json()["error"] == "not_reviewable"
    assert outbox(kind=MessageKind.EVENT_SUBMITTED)
    assert outbox(kind=MessageKind.EVENT_PUBLISHED)


def test_a_published_event_cannot_be_submitted(api, world):
    response = api.post(
        f"/api/v1/events/{world['a_published'].slug}/submit", headers=world["partner_a"]
    )

    assert response.status_code == 409


# -- refusing input --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"texts": "Erzählcafé"}, "texts"),
        ({"texts": {"de": "Erzählcafé"}}, "texts.de"),
        ({"texts": {"de": {"title": 5}}}, "de.title"),
        ({"texts": {"de": {"title": "x", "color": "red"}}}, "texts.de"),
        ({"texts": {"deutsch": {"title": "x"}}}, "texts.deutsch"),
        ({"texts": {"de": {"title": "Null\x00Byte"}}}, "de.title"),
        ({"texts": {"de": {"title": "\ud800"}}}, "de.title"),
        ({"starts_at": "next tuesday"}, "starts_at"),
        ({"starts_at": "2031-03-14T18:00:00"}, "starts_at"),
        ({"starts_at": 1_900_000_000}, "starts_at"),
        ({"starts_at": "0001-01-01T00:00:00+01:00"}, "starts_at"),
        ({"ends_at": "9999-12-31T23:59:59-23:59"}, "ends_at"),
        ({"timezone": 1}, "timezone"),
        ({"timezone": "a" * 5000}, "timezone"),
        ({"venue_name": ["Saal"]}, "venue_name"),
        ({"capacity": "30"}, "capacity"),
        ({"capacity": 1.5}, "capacity"),
        ({"capacity": True}, "capacity"),
        ({"waitlist_enabled": "yes"}, "waitlist_enabled"),
        ({"languages": "de"}, "languages"),
        ({"languages": ["de", 1]}, "languages"),
        ({"topics": [f"t{n}" for n in range(50)]}, "topics"),
        ({"hosts": "org-a"}, "hosts"),
        ({"hosts": ["no-such-org"]}, "hosts"),
        ({"questions": {"kind": "short_text"}}, "questions"),
        ({"questions": ["Ort?"]}, "questions.0"),
        ({"questions": [{"label": {"de": "Ort"}}]}, "questions.0.kind"),
        ({"questions": [{"kind": "short_text", "label": "Ort"}]}, "questions.0.label"),
        ({"questions": [{"kind": "short_text", "label": {"de": "Ort"}, "x": 1}]}, "questions.0.x"),
        ({"is_published": True}, "is_published"),
    ],
)
def test_wrong_shapes_are_422_per_field_and_store_nothing(api, world, event_body, change, field):
    before = event_count()

    response = api.post("/api/v1/events", json=event_body(**change), headers=world["staff"])

    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["error"] == "invalid"
    assert field in body["fields"], body["fields"]
    assert all(body["fields"].values())
    assert event_count() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"texts": {}}, "texts"),
        ({"texts": {"de": {"title": "  "}}}, "de.title"),
        ({"ends_at": "2031-03-14T17:00:00+01:00"}, "ends_at"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"venue_name": None, "venue_city": None}, "venue_name"),
        ({"online_url": "ftp://example.org"}, "online_url"),
        ({"capacity": -1}, "capacity"),
        ({"capacity": 10**100}, "capacity"),
        ({"max_guests": 99}, "max_guests"),
        ({"contact_email": "not an address"}, "contact_email"),
        ({"languages": ["deutsch"]}, "languages"),
        ({"topics": ["no-such-topic"]}, "topics"),
        ({"hosts": []}, "hosts"),
        ({"registration_closes_at": "2031-03-15T10:00:00+01:00"}, "registration_closes_at"),
        ({"questions": [{"kind": "essay", "label": {"de": "Warum?"}}]}, "questions.0.kind"),
        (
            {"questions": [{"kind": "single_choice", "label": {"de": "Wahl"}, "options": []}]},
            "questions.0.options",
        ),
    ],
)
def test_values_the_service_refuses_are_422_per_field(api, world, event_body, change, field):
    before = event_count()

    response = api.post("/api/v1/events", json=event_body(**change), headers=world["staff"])

    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["fields"], response.get_json()["fields"]
    assert event_count() == before


def test_missing_required_fields_are_named(api, world):
    response = api.post("/api/v1/events", json={"capacity": 3}, headers=world["staff"])

    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"texts", "starts_at", "ends_at"}


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": b"", "content_type": "application/json"}, 400),
        ({"data": b"{'title': 1}", "content_type": "application/json"}, 400),
        ({"data": b'{"capacity": NaN}', "content_type": "application/json"}, 400),
        ({"data": b"[" * 100_000 + b"]" * 100_000, "content_type": "application/json"}, 400),
        ({"data": b"\xff\xfe", "content_type": "application/json"}, 400),
        ({"json": ["texts"]}, 400),
        ({"json": "event"}, 400),
        ({"data": b"texts=x", "content_type": "application/x-www-form-urlencoded"}, 415),
        ({"data": b"{}"}, 415),
        ({"json": {"texts": "x" * (1024 * 1024)}}, 413),
    ],
)
def test_malformed_bodies_are_4xx_in_json(api, world, kwargs, status):
    before = event_count()

    created = api.post("/api/v1/events", headers=world["staff"], **kwargs)
    changed = api.open(
        "PATCH", f"/api/v1/events/{world['a_draft'].slug}", headers=world["staff"], **kwargs
    )

    assert created.status_code == changed.status_code == status
    assert event_count() == before
    assert [entry.action for entry in audit_of(world["a_draft"])] == []


def test_a_bad_patch_leaves_the_event_as_it_was(api, world):
    event = world["a_draft"]

    response = patch(
        api,
        event,
        {"venue_city": "Leipzig", "ends_at": "2000-01-01T00:00:00+00:00"},
        world["staff"],
    )

    assert response.status_code == 422
    assert "ends_at" in response.get_json()["fields"]
    db.session.expire_all()
    assert event.venue_city == "Berlin"


def test_changing_questions_after_registrations_is_refused(
    api, world, make_event, make_registration
):
    event = make_event(
        hosts=[world["org_a"]],
        questions=[{"kind": "short_text", "label": {"de": "Ort"}}],
    )
    make_registration(event, answers={str(event.questions[0].id): "Köln"})

    response = patch(
        api,
        event,
        {"questions": [{"kind": "short_text", "label": {"de": "Stadt"}}]},
        world["staff"],
    )

    assert response.status_code == 422
    assert "questions" in response.get_json()["fields"]


# -- fuzzing ---------------------------------------------------------------------------

FUZZ_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FIELD_NAMES = [
    "texts",
    "starts_at",
    "ends_at",
    "timezone",
    "venue_name",
    "venue_address",
    "venue_city",
    "online_url",
    "capacity",
    "waitlist_enabled",
    "max_guests",
    "registration_opens_at",
    "registration_closes_at",
    "contact_email",
    "languages",
    "topics",
    "hosts",
    "questions",
    "reminders_enabled",
]
timestamps = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat()),
    st.sampled_from(["2031-03-14T18:00:00+01:00", "2031-03-14", "24:00", "2031-13-01T00:00Z"]),
)
texts_values = st.dictionaries(
    st.one_of(st.sampled_from(["de", "en", "uk", "ar"]), odd_text),
    st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                "title": st.one_of(odd_text, json_values),
                "summary": odd_text,
                "description": st.one_of(odd_text, huge_text),
            },
        ),
        json_values,
    ),
    max_size=3,
)
question_values = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {"kind": st.one_of(st.sampled_from(["short_text", "single_choice"]), odd_text)},
            optional={
                "label": st.one_of(st.dictionaries(st.sampled_from(["de", "en"]), odd_text)),
                "required": st.one_of(st.booleans(), json_values),
                "options": st.lists(
                    st.one_of(
                        st.fixed_dictionaries(
                            {"value": odd_text},
                            optional={"label": st.dictionaries(odd_text, odd_text, max_size=2)},
                        ),
                        json_values,
                    ),
                    max_size=3,
                ),
            },
        ),
        json_values,
    ),
    max_size=3,
)
field_values = {
    "texts": texts_values,
    "starts_at": timestamps,
    "ends_at": timestamps,
    "registration_opens_at": st.one_of(st.none(), timestamps),
    "registration_closes_at": st.one_of(st.none(), timestamps),
    "timezone": st.one_of(st.sampled_from(["Europe/Berlin", "UTC", "Asia/Kyiv"]), odd_text),
    "hosts": st.lists(st.one_of(st.sampled_from(["org-a", "org-b"]), odd_text), max_size=4),
    "topics": st.lists(odd_text, max_size=3),
    "languages": st.lists(st.one_of(st.sampled_from(["de", "en", "fa"]), odd_text), max_size=3),
    "questions": question_values,
}


@st.composite
def event_bodies(draw, valid: dict[str, Any]) -> dict[str, Any]:
    """A valid body with some fields dropped, replaced by odd values, or added."""
    body = dict(valid)
    for name in draw(st.sets(st.sampled_from([*FIELD_NAMES, "extra"]), max_size=3)):
        if name == "extra":
            body[draw(odd_text)] = draw(json_values)
        elif draw(st.integers(0, 3)) == 0:
            body.pop(name, None)
        else:
            body[name] = draw(st.one_of(field_values.get(name, json_values), json_values))
    return body


def test_posting_arbitrary_event_bodies_never_fails_and_never_half_stores(api, world, event_body):
    valid = event_body(hosts=["org-a", "org-b"])

    @FUZZ_SETTINGS
    @given(
        payload=st.one_of(
            event_bodies(valid).map(lambda body: json.dumps(body).encode()),
            json_values.map(lambda value: json.dumps(value).encode()),
            st.binary(max_size=100),
        ),
        who=st.sampled_from(["staff", "partner_a"]),
    )
    def check(payload: bytes, who: str):
        before = event_count()

        response = api.post(
            "/api/v1/events", data=payload, content_type="application/json", headers=world[who]
        )

        event(f"status {response.status_code}")  # see --hypothesis-show-statistics
        assert response.status_code < 500
        assert isinstance(response.get_json(), dict)
        if response.status_code == 201:
            assert event_count() == before + 1
            assert response.get_json()["status"] == "draft"
        else:
            assert response.status_code in (400, 413, 422), response.get_json()
            assert event_count() == before

    check()


def test_patching_arbitrary_bodies_never_fails(api, world, event_body):
    draft = world["a_draft"]

    @FUZZ_SETTINGS
    @given(payload=event_bodies({}), who=st.sampled_from(["staff", "partner_a"]))
    def check(payload: dict[str, Any], who: str):
        response = patch(api, draft, payload, world[who])

        event(f"status {response.status_code}")
        assert response.status_code in (200, 413, 422), response.get_json()

    check()


# -- rate limits ---------------------------------------------------------------------------


def test_event_writes_share_the_write_limit(database_url, openapi, world, event_body):
    limited = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=database_url,
        RATELIMIT_ENABLED=True,
        RATELIMIT_API_WRITE="2 per minute",
    )
    api = DocumentedClient(limited, limited.test_client(), openapi)
    try:
        statuses = [
            api.post("/api/v1/events", json=event_body(), headers=world["staff"]).status_code,
            patch(api, world["a_draft"], {"capacity": 5}, world["staff"]).status_code,
        ]
        refused = api.post(f"/api/v1/events/{world['a_draft'].slug}/cancel", headers=world["staff"])
    finally:
        with limited.app_context():
            db.engine.dispose()

    assert statuses == [201, 200]
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
